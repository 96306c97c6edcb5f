package io.streamrec.model.baseline;

import io.streamrec.model.features.FeatureSpec;
import io.streamrec.model.metrics.ProgressiveMetrics;
import io.streamrec.schemas.RequestUnit;
import java.util.Arrays;
import java.util.List;

/**
 * What the hashed baselines share: a batch becomes {@link HashedRows}, every row is scored from the
 * weights as they stand, then every row's gradient {@code p − y} (of the log loss, with {@code p}
 * the prediction made before the batch was learnt from) updates the weights row by row. {@link
 * #train} does both steps and records the predictions in progressive metrics.
 */
public abstract class HashedLearner implements OnlineLearner {
  protected final HashedRows rows;
  private final ProgressiveMetrics metrics;
  private List<RequestUnit> scored;
  private float[] pred = new float[64];
  private long impressions;

  protected HashedLearner(FeatureSpec spec, List<String[]> crosses, int metricsWindow) {
    this.rows = new HashedRows(spec, crosses);
    this.metrics = new ProgressiveMetrics(metricsWindow);
  }

  /** The logit of row {@code i} of {@link #rows} under the current weights. */
  protected abstract double logit(int i);

  /**
   * Learns from row {@code i}: {@code g} is the log loss's derivative in the logit, {@code p − y}.
   */
  protected abstract void update(int i, float g);

  @Override
  public final float[] score(List<RequestUnit> units) {
    rows.fill(units);
    scored = units;
    int n = rows.n;
    if (pred.length < n) {
      pred = new float[n * 2];
    }
    for (int i = 0; i < n; i++) {
      pred[i] = (float) (1 / (1 + Math.exp(-logit(i))));
    }
    return Arrays.copyOf(pred, n);
  }

  @Override
  public final void learn(List<RequestUnit> units) {
    if (units != scored) {
      score(units);
    }
    for (int i = 0; i < rows.n; i++) {
      update(i, pred[i] - rows.y[i]);
    }
    impressions += rows.n;
    scored = null;
  }

  /** Scores every impression of the batch, records the predictions, then learns from them. */
  public void train(List<RequestUnit> units) {
    float[] p = score(units);
    for (int i = 0; i < p.length; i++) {
      metrics.add(p[i], rows.y[i]);
    }
    metrics.refresh();
    learn(units);
  }

  public ProgressiveMetrics metrics() {
    return metrics;
  }

  /** Impressions learnt from. */
  public long impressions() {
    return impressions;
  }

  protected static float sign(float v) {
    return v < 0 ? -1f : 1f;
  }
}
