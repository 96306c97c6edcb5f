package io.streamrec.model.metrics;

/**
 * Progressive validation: every impression is scored before it is trained on, and these metrics
 * summarise those predictions over a sliding window of the last {@code window} impressions (so the
 * figures follow the model as it learns, as in McMahan et al., "Ad Click Prediction: a View from
 * the Trenches", KDD 2013), plus lifetime totals.
 *
 * <p>AUC over the window is kept exactly up to a bin: predictions fall into {@value #BINS} bins by
 * logit, with positive and negative counts per bin, updated in O(1) as impressions enter and leave
 * the window; pairs in one bin count as ties (one half). {@link #refresh()} recomputes AUC in
 * O(bins) and publishes every figure through volatile fields, so a metrics thread can read them
 * while the trainer writes.
 *
 * <p>Not thread-safe for writers: one trainer thread calls {@link #add} and {@link #refresh}.
 */
public final class ProgressiveMetrics {
  /** Logit bins: a bin is 32/16384 ≈ 0.002 logit wide, far finer than any model's resolution. */
  static final int BINS = 1 << 14;

  /** Logits beyond ±this share the first or last bin. */
  static final float LOGIT_RANGE = 16f;

  /** Probabilities are clamped this far from 0 and 1 for the log loss. */
  private static final double EPS = 1e-7;

  private final int window;
  private final int[] ringBin;
  private final boolean[] ringPositive;
  private final double[] ringLoss;
  private final float[] ringPred;
  private final long[] pos = new long[BINS];
  private final long[] neg = new long[BINS];
  private int head;
  private int size;
  private double windowLoss;
  private double windowPred;
  private long windowPositives;

  private long total;
  private double totalLoss;

  private volatile double auc = Double.NaN;
  private volatile double logLoss = Double.NaN;
  private volatile double calibration = Double.NaN;
  private volatile double lifetimeLogLoss = Double.NaN;
  private volatile long count;

  public ProgressiveMetrics(int window) {
    if (window < 1) {
      throw new IllegalArgumentException("metrics window must be >= 1 impression, got " + window);
    }
    this.window = window;
    this.ringBin = new int[window];
    this.ringPositive = new boolean[window];
    this.ringLoss = new double[window];
    this.ringPred = new float[window];
  }

  /**
   * Records one prediction {@code p} (made before training) and its label {@code y} (positive when
   * > 0.5).
   */
  public void add(float p, float y) {
    boolean positive = y > 0.5f;
    double pc = Math.min(Math.max(p, EPS), 1 - EPS);
    double loss = -(y * Math.log(pc) + (1 - y) * Math.log(1 - pc));
    int bin = bin(pc);
    if (size == window) {
      int old = head;
      if (ringPositive[old]) {
        pos[ringBin[old]]--;
        windowPositives--;
      } else {
        neg[ringBin[old]]--;
      }
      windowLoss -= ringLoss[old];
      windowPred -= ringPred[old];
    } else {
      size++;
    }
    ringBin[head] = bin;
    ringPositive[head] = positive;
    ringLoss[head] = loss;
    ringPred[head] = p;
    head = head + 1 == window ? 0 : head + 1;
    if (positive) {
      pos[bin]++;
      windowPositives++;
    } else {
      neg[bin]++;
    }
    windowLoss += loss;
    windowPred += p;
    total++;
    totalLoss += loss;
  }

  /**
   * Writes the whole state (window contents and sums), so that {@link #readFrom} continues exactly.
   */
  public void writeTo(java.io.DataOutput out) throws java.io.IOException {
    out.writeInt(window);
    out.writeInt(size);
    out.writeInt(head);
    for (int i = 0; i < size; i++) {
      out.writeInt(ringBin[i]);
      out.writeBoolean(ringPositive[i]);
      out.writeDouble(ringLoss[i]);
      out.writeFloat(ringPred[i]);
    }
    out.writeDouble(windowLoss);
    out.writeDouble(windowPred);
    out.writeLong(windowPositives);
    out.writeLong(total);
    out.writeDouble(totalLoss);
  }

  /** Replaces the state with what {@link #writeTo} wrote; the window sizes must match. */
  public void readFrom(java.io.DataInput in) throws java.io.IOException {
    int w = in.readInt();
    if (w != window) {
      throw new IllegalArgumentException(
          "metrics state has a window of " + w + "; this one has " + window);
    }
    size = in.readInt();
    head = in.readInt();
    java.util.Arrays.fill(pos, 0);
    java.util.Arrays.fill(neg, 0);
    for (int i = 0; i < size; i++) {
      ringBin[i] = in.readInt();
      ringPositive[i] = in.readBoolean();
      ringLoss[i] = in.readDouble();
      ringPred[i] = in.readFloat();
      if (ringPositive[i]) {
        pos[ringBin[i]]++;
      } else {
        neg[ringBin[i]]++;
      }
    }
    windowLoss = in.readDouble();
    windowPred = in.readDouble();
    windowPositives = in.readLong();
    total = in.readLong();
    totalLoss = in.readDouble();
    refresh();
  }

  static int bin(double p) {
    double logit = Math.log(p / (1 - p));
    int b = (int) ((logit + LOGIT_RANGE) / (2 * LOGIT_RANGE) * BINS);
    return Math.min(Math.max(b, 0), BINS - 1);
  }

  /** Recomputes the windowed figures and publishes them to readers. */
  public void refresh() {
    long p = windowPositives;
    long n = size - p;
    if (p == 0 || n == 0) {
      auc = Double.NaN;
    } else {
      double sum = 0;
      long negBelow = 0;
      for (int b = 0; b < BINS; b++) {
        if (pos[b] != 0) {
          sum += pos[b] * (negBelow + 0.5 * neg[b]);
        }
        negBelow += neg[b];
      }
      auc = sum / ((double) p * n);
    }
    logLoss = size == 0 ? Double.NaN : windowLoss / size;
    calibration = p == 0 ? Double.NaN : windowPred / p;
    lifetimeLogLoss = total == 0 ? Double.NaN : totalLoss / total;
    count = total;
  }

  /** AUC over the window at the last {@link #refresh()}; NaN until both classes were seen. */
  public double auc() {
    return auc;
  }

  /** Mean log loss over the window at the last refresh. */
  public double logLoss() {
    return logLoss;
  }

  /** Mean prediction / mean label over the window at the last refresh (1 = calibrated). */
  public double calibration() {
    return calibration;
  }

  /** Mean log loss over every impression scored. */
  public double lifetimeLogLoss() {
    return lifetimeLogLoss;
  }

  /** Impressions scored, at the last refresh. */
  public long count() {
    return count;
  }

  public int window() {
    return window;
  }
}
