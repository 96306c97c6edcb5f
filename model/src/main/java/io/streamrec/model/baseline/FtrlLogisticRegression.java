package io.streamrec.model.baseline;

import io.streamrec.model.features.FeatureSpec;
import java.util.List;

/**
 * Logistic regression over hashed features trained with FTRL-Proximal (McMahan et al., "Ad Click
 * Prediction: a View from the Trenches", KDD 2013, algorithm 1): per coordinate the sum of
 * gradients less the proximal terms ({@code z}) and the sum of squared gradients ({@code n}); the
 * weight is computed from them when read,
 *
 * <pre>
 *   w = 0                                              if |z| ≤ λ1
 *   w = −(z − sign(z)·λ1) / ((β + √n) / α + λ2)        otherwise
 * </pre>
 *
 * and a gradient {@code g} moves them by {@code σ = (√(n + g²) − √n) / α}, {@code z += g − σ·w},
 * {@code n += g²}. The L1 term keeps rare ids at exactly zero until their evidence outweighs it.
 */
public final class FtrlLogisticRegression extends HashedLearner {
  private final int mask;
  private final float[] z;
  private final float[] nsq;
  private final float alpha, beta, l1, l2;

  /**
   * @param log2Weights the coordinate arrays hold 2^this coordinates
   * @param alpha per-coordinate learning rate scale
   * @param beta smoothing of the learning rate of a coordinate with little history
   * @param l1 L1 strength (sparsity)
   * @param l2 L2 strength
   */
  public FtrlLogisticRegression(
      FeatureSpec spec,
      List<String[]> crosses,
      int log2Weights,
      float alpha,
      float beta,
      float l1,
      float l2,
      int metricsWindow) {
    super(spec, crosses, metricsWindow);
    if (!(alpha > 0) || !(beta >= 0) || !(l1 >= 0) || !(l2 >= 0)) {
      throw new IllegalArgumentException(
          "FTRL needs alpha > 0 and beta, l1, l2 >= 0; got alpha="
              + alpha
              + " beta="
              + beta
              + " l1="
              + l1
              + " l2="
              + l2);
    }
    this.mask = (1 << log2Weights) - 1;
    this.z = new float[1 << log2Weights];
    this.nsq = new float[1 << log2Weights];
    this.alpha = alpha;
    this.beta = beta;
    this.l1 = l1;
    this.l2 = l2;
  }

  @Override
  public String name() {
    return "hashed LR, FTRL-Proximal";
  }

  /** The weight of the coordinate {@code id} hashes to, as the next score reads it. */
  public float weight(long id) {
    return weightAt((int) id & mask);
  }

  private float weightAt(int h) {
    float zh = z[h];
    if (Math.abs(zh) <= l1) {
      return 0f;
    }
    return -(zh - sign(zh) * l1) / ((beta + (float) Math.sqrt(nsq[h])) / alpha + l2);
  }

  @Override
  protected double logit(int i) {
    double s = 0;
    for (int j = rows.start[i]; j < rows.start[i + 1]; j++) {
      s += weightAt((int) rows.ids[j] & mask) * rows.x[j];
    }
    return s;
  }

  @Override
  protected void update(int i, float g) {
    for (int j = rows.start[i]; j < rows.start[i + 1]; j++) {
      int h = (int) rows.ids[j] & mask;
      float gj = g * rows.x[j];
      float w = weightAt(h);
      float sigma = ((float) Math.sqrt(nsq[h] + gj * gj) - (float) Math.sqrt(nsq[h])) / alpha;
      z[h] += gj - sigma * w;
      nsq[h] += gj * gj;
    }
  }
}
