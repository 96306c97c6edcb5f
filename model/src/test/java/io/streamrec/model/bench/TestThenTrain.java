package io.streamrec.model.bench;

import io.streamrec.common.Auc;
import io.streamrec.model.baseline.OnlineLearner;
import io.streamrec.schemas.Impression;
import io.streamrec.schemas.RequestUnit;
import java.util.List;

/**
 * Request-level test-then-train: the stream is cut into minibatches of whole units in stream order;
 * every impression of a batch (so every impression of each of its units) is scored before the model
 * learns from any of them, then the model learns from the batch. The predictions, one per
 * impression in stream order, are the model's progressive validation; {@link Result} summarises
 * them over the whole stream and over its last window.
 */
public final class TestThenTrain {
  private TestThenTrain() {}

  /** Predictions and labels of one model on one stream, in stream order, and its training time. */
  public record Result(double[] predictions, float[] labels, long nanos) {
    /** AUC over every impression of the stream. */
    public double lifetimeAuc() {
      return Auc.exact(predictions, labels);
    }

    /** AUC over the last {@code n} impressions. */
    public double lastAuc(int n) {
      int from = from(n);
      return Auc.exact(
          java.util.Arrays.copyOfRange(predictions, from, predictions.length),
          java.util.Arrays.copyOfRange(labels, from, labels.length));
    }

    /** Mean log loss over the last {@code n} impressions (all of them for n ≥ the stream). */
    public double logLoss(int n) {
      double s = 0;
      int from = from(n);
      for (int i = from; i < predictions.length; i++) {
        double p = Math.min(Math.max(predictions[i], 1e-7), 1 - 1e-7);
        s -= labels[i] * Math.log(p) + (1 - labels[i]) * Math.log(1 - p);
      }
      return s / (predictions.length - from);
    }

    /**
     * Mean prediction over the observed rate, over the last {@code n} impressions (1 = calibrated).
     */
    public double calibration(int n) {
      double p = 0, y = 0;
      for (int i = from(n); i < predictions.length; i++) {
        p += predictions[i];
        y += labels[i];
      }
      return p / y;
    }

    public int size() {
      return predictions.length;
    }

    private int from(int n) {
      return Math.max(0, predictions.length - n);
    }
  }

  /**
   * Runs {@code model} over {@code stream} in minibatches of {@code batchUnits} units: score the
   * batch, then learn from it.
   */
  public static Result run(
      List<RequestUnit> stream, int batchUnits, String label, OnlineLearner model) {
    if (batchUnits < 1) {
      throw new IllegalArgumentException("batchUnits must be >= 1, got " + batchUnits);
    }
    int n = 0;
    for (RequestUnit u : stream) {
      n += u.getImpressions().size();
    }
    double[] pred = new double[n];
    float[] y = new float[n];
    int k = 0;
    long nanos = 0;
    // the garbage of the model before (the hashed baselines' tables of 2^22 weights) collected
    // now, so that this model's time does not pay for it
    System.gc();
    for (int i = 0; i < stream.size(); i += batchUnits) {
      List<RequestUnit> batch = stream.subList(i, Math.min(stream.size(), i + batchUnits));
      long t0 = System.nanoTime();
      float[] p = model.score(batch);
      nanos += System.nanoTime() - t0;
      int from = k;
      for (RequestUnit u : batch) {
        for (Impression im : u.getImpressions()) {
          Float l = im.getLabels().get(label);
          y[k++] = l == null ? 0f : l;
        }
      }
      if (p.length != k - from) {
        throw new IllegalStateException(
            model.name() + " scored " + p.length + " impressions of a batch of " + (k - from));
      }
      for (int j = 0; j < p.length; j++) {
        pred[from + j] = p[j];
      }
      t0 = System.nanoTime();
      model.learn(batch);
      nanos += System.nanoTime() - t0;
    }
    return new Result(pred, y, nanos);
  }
}
