package io.streamrec.model.baseline;

import io.streamrec.model.features.FeatureSpec;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A second-order factorization machine (Rendle, "Factorization Machines", ICDM 2010) over hashed
 * features of every field, request and impression alike, so every pairwise interaction is learnt
 * and none has to be named:
 *
 * <pre>
 *   logit = Σ_j w_j x_j + ½ Σ_f [ (Σ_j v_jf x_j)² − Σ_j v_jf² x_j² ]
 * </pre>
 *
 * over a row's entries {@code j} (the bias takes part in the linear sum only). Every coordinate
 * (each {@code w_j} and each {@code v_jf}) learns by per-coordinate Adagrad with a small L2 on the
 * factors; the gradient of the interaction term in {@code v_jf} is {@code x_j (s_f − v_jf x_j)},
 * {@code s_f = Σ_j v_jf x_j}. Factors start normal with a small deviation, from a seed.
 */
public final class FactorizationMachine extends HashedLearner {
  private static final float EPS = 1e-6f;

  /** Factors start N(0, this²): small, so early logits are the linear part's. */
  private static final float INIT_STD = 0.01f;

  private final int mask;
  private final int k;
  private final float[] w;
  private final float[] wAcc;
  private final float[] v;
  private final float[] vAcc;
  private final float lr;
  private final float lrFactors;
  private final float l2;
  private final double[] sum;

  /**
   * @param log2Rows the hashed tables hold 2^this rows (a weight and {@code k} factors each)
   * @param k factors per row
   * @param lr Adagrad learning rate of the weights
   * @param lrFactors Adagrad learning rate of the factors (lower: a factor step moves the logit by
   *     the product of two values, and dense values reach ±10 after the log transform)
   * @param l2 L2 strength on the factors
   */
  public FactorizationMachine(
      FeatureSpec spec,
      List<String[]> crosses,
      int log2Rows,
      int k,
      float lr,
      float lrFactors,
      float l2,
      long seed,
      int metricsWindow) {
    super(spec, crosses, metricsWindow);
    if (k < 1 || !(lr > 0) || !(lrFactors > 0) || !(l2 >= 0)) {
      throw new IllegalArgumentException(
          "FM needs k >= 1, lr > 0, lrFactors > 0, l2 >= 0; got k="
              + k
              + " lr="
              + lr
              + " lrFactors="
              + lrFactors
              + " l2="
              + l2);
    }
    this.mask = (1 << log2Rows) - 1;
    this.k = k;
    this.w = new float[1 << log2Rows];
    this.wAcc = new float[1 << log2Rows];
    this.v = new float[(1 << log2Rows) * k];
    this.vAcc = new float[(1 << log2Rows) * k];
    this.lr = lr;
    this.lrFactors = lrFactors;
    this.l2 = l2;
    this.sum = new double[k];
    SplittableRandom rnd = new SplittableRandom(seed);
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) (rnd.nextGaussian() * INIT_STD);
    }
  }

  @Override
  public String name() {
    return "factorization machine";
  }

  @Override
  protected double logit(int i) {
    double linear = 0, pairs = 0;
    java.util.Arrays.fill(sum, 0);
    for (int j = rows.start[i]; j < rows.start[i + 1]; j++) {
      int h = (int) rows.ids[j] & mask;
      float xj = rows.x[j];
      linear += w[h] * xj;
      if (rows.field[j] == 0) {
        continue;
      }
      for (int f = 0; f < k; f++) {
        double vx = v[h * k + f] * xj;
        sum[f] += vx;
        pairs -= vx * vx;
      }
    }
    for (int f = 0; f < k; f++) {
      pairs += sum[f] * sum[f];
    }
    return linear + 0.5 * pairs;
  }

  @Override
  protected void update(int i, float g) {
    // the factor sums before this row's update: the gradient is taken at the scored weights
    java.util.Arrays.fill(sum, 0);
    for (int j = rows.start[i]; j < rows.start[i + 1]; j++) {
      if (rows.field[j] != 0) {
        int h = (int) rows.ids[j] & mask;
        for (int f = 0; f < k; f++) {
          sum[f] += v[h * k + f] * rows.x[j];
        }
      }
    }
    for (int j = rows.start[i]; j < rows.start[i + 1]; j++) {
      int h = (int) rows.ids[j] & mask;
      float xj = rows.x[j];
      float gw = g * xj;
      wAcc[h] += gw * gw;
      w[h] -= lr * gw / (float) Math.sqrt(wAcc[h] + EPS);
      if (rows.field[j] == 0) {
        continue;
      }
      for (int f = 0; f < k; f++) {
        int c = h * k + f;
        float gv = g * xj * (float) (sum[f] - v[c] * xj) + l2 * v[c];
        vAcc[c] += gv * gv;
        v[c] -= lrFactors * gv / (float) Math.sqrt(vAcc[c] + EPS);
      }
    }
  }
}
