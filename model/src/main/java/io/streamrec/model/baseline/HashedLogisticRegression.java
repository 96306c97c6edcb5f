package io.streamrec.model.baseline;

import io.streamrec.common.FeatureIds;
import io.streamrec.model.features.CategoricalFeature;
import io.streamrec.model.features.DenseFeature;
import io.streamrec.model.features.FeatureSpec;
import io.streamrec.model.features.Side;
import io.streamrec.model.metrics.ProgressiveMetrics;
import io.streamrec.schemas.Impression;
import io.streamrec.schemas.RequestUnit;
import java.util.List;
import java.util.Map;

/**
 * The baseline the deep model is measured against: logistic regression over hashed features, as a
 * hashed linear learner (Vowpal Wabbit style) runs it — one weight per hashed id in a fixed array,
 * per-coordinate Adagrad, minibatches scored before they are learnt from (progressive validation).
 * Optional crosses add one id per (request feature value, impression feature value) pair, so the
 * baseline can be given the very interactions a stream was generated with.
 */
public final class HashedLogisticRegression {
  private static final float EPS = 1e-6f;

  private final FeatureSpec spec;
  private final List<String[]> crosses;
  private final int mask;
  private final float[] w;
  private final float[] acc;
  private final float lr;
  private final ProgressiveMetrics metrics;
  private long[] ids = new long[256];
  private float[] x = new float[256];
  private float[] pred = new float[64];
  private float[] y = new float[64];
  private int[] start = new int[65];
  private long impressions;

  /**
   * @param crosses pairs {request feature, impression feature} whose values are crossed
   * @param log2Weights the weight array holds 2^this weights
   */
  public HashedLogisticRegression(
      FeatureSpec spec, List<String[]> crosses, int log2Weights, float lr, int metricsWindow) {
    this.spec = spec;
    this.crosses = List.copyOf(crosses);
    this.mask = (1 << log2Weights) - 1;
    this.w = new float[1 << log2Weights];
    this.acc = new float[1 << log2Weights];
    this.lr = lr;
    this.metrics = new ProgressiveMetrics(metricsWindow);
  }

  public ProgressiveMetrics metrics() {
    return metrics;
  }

  public long impressions() {
    return impressions;
  }

  /** Scores every impression of the batch, then learns from them. */
  public void train(List<RequestUnit> units) {
    int n = 0, k = 0;
    String label = spec.labels().get(0);
    for (RequestUnit u : units) {
      for (Impression im : u.getImpressions()) {
        grow(n + 1, k + 64);
        start[n] = k;
        k = add(k, 0x5eedL, 1f); // bias
        for (CategoricalFeature f : spec.categorical()) {
          Map<String, List<String>> vals =
              f.side() == Side.REQUEST ? u.getFeatures() : im.getFeatures();
          List<String> vs = vals.get(f.name());
          if (vs != null && !vs.isEmpty()) {
            float v = 1f / vs.size();
            for (String s : vs) {
              grow(n + 1, k + 1);
              k = add(k, FeatureIds.of(f.name(), s), v);
            }
          }
        }
        for (DenseFeature f : spec.dense()) {
          Float d =
              f.side() == Side.REQUEST ? u.getDense().get(f.name()) : im.getDense().get(f.name());
          k = add(k, FeatureIds.of("dense", f.name()), squash(d));
        }
        for (String[] c : crosses) {
          List<String> a = u.getFeatures().get(c[0]);
          List<String> b = im.getFeatures().get(c[1]);
          if (a != null && b != null) {
            for (String va : a) {
              for (String vb : b) {
                grow(n + 1, k + 1);
                k = add(k, FeatureIds.of(c[0] + "x" + c[1], va + '\u0001' + vb), 1f);
              }
            }
          }
        }
        Float yl = im.getLabels().get(label);
        y[n] = yl == null ? 0f : yl;
        n++;
      }
    }
    start[n] = k;
    for (int i = 0; i < n; i++) {
      double z = 0;
      for (int j = start[i]; j < start[i + 1]; j++) {
        z += w[(int) ids[j] & mask] * x[j];
      }
      pred[i] = (float) (1 / (1 + Math.exp(-z)));
      metrics.add(pred[i], y[i]);
    }
    metrics.refresh();
    for (int i = 0; i < n; i++) {
      float g = pred[i] - y[i];
      for (int j = start[i]; j < start[i + 1]; j++) {
        int h = (int) ids[j] & mask;
        float gj = g * x[j];
        acc[h] += gj * gj;
        w[h] -= lr * gj / (float) Math.sqrt(acc[h] + EPS);
      }
    }
    impressions += n;
  }

  private int add(int k, long id, float v) {
    ids[k] = id;
    x[k] = v;
    return k + 1;
  }

  private void grow(int imps, int entries) {
    if (pred.length < imps) {
      pred = java.util.Arrays.copyOf(pred, imps * 2);
      y = java.util.Arrays.copyOf(y, imps * 2);
      start = java.util.Arrays.copyOf(start, imps * 2 + 1);
    }
    if (ids.length < entries) {
      ids = java.util.Arrays.copyOf(ids, entries * 2);
      x = java.util.Arrays.copyOf(x, entries * 2);
    }
  }

  private static float squash(Float d) {
    if (d == null) {
      return 0f;
    }
    float v = d;
    return v >= 0 ? (float) Math.log1p(v) : -(float) Math.log1p(-v);
  }
}
