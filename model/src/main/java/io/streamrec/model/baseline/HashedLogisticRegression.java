package io.streamrec.model.baseline;

import io.streamrec.model.features.FeatureSpec;
import java.util.List;

/**
 * The baseline the deep model is measured against: logistic regression over hashed features, as a
 * hashed linear learner (Vowpal Wabbit style) runs it — one weight per hashed id in a fixed array,
 * per-coordinate Adagrad, minibatches scored before they are learnt from (progressive validation).
 * Optional crosses add one id per (request feature value, impression feature value) pair, so the
 * baseline can be given the very interactions a stream was generated with.
 */
public final class HashedLogisticRegression extends HashedLearner {
  private static final float EPS = 1e-6f;

  private final int mask;
  private final float[] w;
  private final float[] acc;
  private final float lr;

  /**
   * @param crosses pairs {request feature, impression feature} whose values are crossed
   * @param log2Weights the weight array holds 2^this weights
   */
  public HashedLogisticRegression(
      FeatureSpec spec, List<String[]> crosses, int log2Weights, float lr, int metricsWindow) {
    super(spec, crosses, metricsWindow);
    this.mask = (1 << log2Weights) - 1;
    this.w = new float[1 << log2Weights];
    this.acc = new float[1 << log2Weights];
    this.lr = lr;
  }

  @Override
  public String name() {
    return "hashed LR, Adagrad";
  }

  @Override
  protected double logit(int i) {
    double z = 0;
    for (int j = rows.start[i]; j < rows.start[i + 1]; j++) {
      z += w[(int) rows.ids[j] & mask] * rows.x[j];
    }
    return z;
  }

  @Override
  protected void update(int i, float g) {
    for (int j = rows.start[i]; j < rows.start[i + 1]; j++) {
      int h = (int) rows.ids[j] & mask;
      float gj = g * rows.x[j];
      acc[h] += gj * gj;
      w[h] -= lr * gj / (float) Math.sqrt(acc[h] + EPS);
    }
  }
}
