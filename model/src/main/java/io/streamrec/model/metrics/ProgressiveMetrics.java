package io.streamrec.model.metrics;

/**
 * Progressive validation: every impression is scored before it is trained on, and these metrics
 * summarise those predictions over a sliding window of the last {@code window} impressions (so the
 * figures follow the model as it learns, as in McMahan et al., "Ad Click Prediction: a View from
 * the Trenches", KDD 2013), plus lifetime figures: the AUC, log loss and calibration over every
 * impression scored since the model started (whole-stream progressive validation, the figure
 * benchmarks compare, which a window alone cannot give once the stream outgrows it).
 *
 * <p>AUC over the window is kept exactly up to a bin: predictions fall into {@value #BINS} bins by
 * logit, with positive and negative counts per bin in Fenwick trees; pairs in one bin count as ties
 * (one half). The AUC's numerator (twice the Mann-Whitney count, an integer) is updated in O(log
 * bins) as each impression enters and leaves the window, so {@link #refresh()} is O(1) and a batch
 * of one unit costs as little as a batch of hundreds. Refresh publishes every figure through
 * volatile fields, so a metrics thread can read them while the trainer writes. The lifetime AUC
 * keeps a second pair of Fenwick trees that impressions enter and never leave.
 *
 * <p>Not thread-safe for writers: one trainer thread calls {@link #add} and {@link #refresh}.
 */
public final class ProgressiveMetrics {
  /** Logit bins: a bin is 32/16384 ≈ 0.002 logit wide, far finer than any model's resolution. */
  static final int BINS = 1 << 14;

  /** Logits beyond ±this share the first or last bin. */
  static final float LOGIT_RANGE = 16f;

  /**
   * A sum of labels below this is taken as none (a window of labels 0, whose running sum of adds
   * and removes may end a rounding error away from 0): the calibration is then NaN.
   */
  private static final double LABELS_FLOOR = 1e-6;

  /** Probabilities are clamped this far from 0 and 1 for the log loss. */
  private static final double EPS = 1e-7;

  private final int window;
  private final int[] ringBin;
  private final boolean[] ringPositive;
  private final double[] ringLoss;
  private final float[] ringPred;

  /** The labels themselves, which may lie between 0 and 1 (a watch ratio), for the calibration. */
  private final float[] ringLabel;

  /** Positives and negatives per bin, as Fenwick trees (index b + 1 holds bin b's share). */
  private final long[] pos = new long[BINS + 1];

  private final long[] neg = new long[BINS + 1];

  /** Positives and negatives per bin over every impression scored. */
  private final long[] lifePos = new long[BINS + 1];

  private final long[] lifeNeg = new long[BINS + 1];

  /** Twice the Mann-Whitney count over every impression scored. */
  private long lifePairs2;

  private long lifePositives;

  /** Impressions in the lifetime bins: all scored, or since a restore of a state without them. */
  private long lifeBinned;

  private double lifePred;

  /** The sum of the labels over every impression scored (the calibration's denominator). */
  private double lifeLabels;

  /**
   * Twice the window's Mann-Whitney count: for each positive, two per negative in a lower bin and
   * one per negative in its own.
   */
  private long pairs2;

  private int head;
  private int size;
  private double windowLoss;
  private double windowPred;
  private long windowPositives;
  private double windowLabels;

  private long total;
  private double totalLoss;

  private volatile double auc = Double.NaN;
  private volatile double logLoss = Double.NaN;
  private volatile double calibration = Double.NaN;
  private volatile double lifetimeLogLoss = Double.NaN;
  private volatile double lifetimeAuc = Double.NaN;
  private volatile double lifetimeCalibration = Double.NaN;
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
    this.ringLabel = new float[window];
  }

  /**
   * Records one prediction {@code p} (made before training) and its label {@code y} (positive when
   * > 0.5). A prediction that is not a number is not counted: its batch is skipped, and counted it
   * would leave the log loss and calibration NaN for the life of the model.
   */
  public void add(float p, float y) {
    if (Float.isNaN(p)) {
      return;
    }
    boolean positive = y > 0.5f;
    double pc = Math.min(Math.max(p, EPS), 1 - EPS);
    double loss = -(y * Math.log(pc) + (1 - y) * Math.log(1 - pc));
    int bin = bin(pc);
    if (size == window) {
      int old = head;
      if (ringPositive[old]) {
        removePositive(ringBin[old]);
        windowPositives--;
      } else {
        removeNegative(ringBin[old]);
      }
      windowLoss -= ringLoss[old];
      windowPred -= ringPred[old];
      windowLabels -= ringLabel[old];
    } else {
      size++;
    }
    ringBin[head] = bin;
    ringPositive[head] = positive;
    ringLoss[head] = loss;
    ringPred[head] = p;
    ringLabel[head] = y;
    head = head + 1 == window ? 0 : head + 1;
    if (positive) {
      addPositive(bin);
      windowPositives++;
    } else {
      addNegative(bin);
    }
    windowLoss += loss;
    windowPred += p;
    windowLabels += y;
    total++;
    totalLoss += loss;
    lifePred += p;
    lifeLabels += y;
    lifeBinned++;
    if (positive) {
      lifePairs2 += 2 * below(lifeNeg, bin) + count(lifeNeg, bin);
      add(lifePos, bin, 1);
      lifePositives++;
    } else {
      lifePairs2 += 2 * above(lifePos, bin) + count(lifePos, bin);
      add(lifeNeg, bin, 1);
    }
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
    out.writeDouble(lifePred);
    int used = 0;
    for (int b = 0; b < BINS; b++) {
      if (count(lifePos, b) + count(lifeNeg, b) > 0) {
        used++;
      }
    }
    out.writeInt(used);
    for (int b = 0; b < BINS; b++) {
      long p = count(lifePos, b), n = count(lifeNeg, b);
      if (p + n > 0) {
        out.writeInt(b);
        out.writeLong(p);
        out.writeLong(n);
      }
    }
  }

  /**
   * Replaces the state with what {@link #writeTo} wrote. A state of another window restores the
   * latest impressions of its window that this one holds (every one, when this window is as long);
   * the lifetime figures carry over whole.
   */
  public void readFrom(java.io.DataInput in) throws java.io.IOException {
    readFrom(in, true);
  }

  /**
   * Where {@link #readLabelsFrom} puts the labels of a state of another window: the saved window
   * position of each restored one, in ring order; null when the window was the same.
   */
  private int[] restoredFrom;

  /** The impressions the saved window held, which {@link #readLabelsFrom} reads labels of. */
  private int savedSize;

  /**
   * As {@link #readFrom(java.io.DataInput)}; {@code withLifetimeBins} false reads a state written
   * before the lifetime AUC was kept (which ends after the lifetime log loss): the lifetime AUC and
   * calibration then restart from the window's impressions.
   */
  public void readFrom(java.io.DataInput in, boolean withLifetimeBins) throws java.io.IOException {
    int w = in.readInt();
    int n = in.readInt();
    int h = in.readInt();
    if (w < 1 || n < 0 || n > w || h < 0 || h >= w) {
      throw new java.io.IOException(
          "metrics state has a window of " + w + " holding " + n + " impressions at " + h);
    }
    java.util.Arrays.fill(pos, 0);
    java.util.Arrays.fill(neg, 0);
    pairs2 = 0;
    int[] bins = new int[n];
    boolean[] positives = new boolean[n];
    double[] losses = new double[n];
    float[] preds = new float[n];
    for (int i = 0; i < n; i++) {
      bins[i] = in.readInt();
      positives[i] = in.readBoolean();
      losses[i] = in.readDouble();
      preds[i] = in.readFloat();
    }
    savedSize = n;
    if (w == window) {
      // the same window: its ring as it was
      restoredFrom = null;
      size = n;
      head = h;
      System.arraycopy(bins, 0, ringBin, 0, n);
      System.arraycopy(positives, 0, ringPositive, 0, n);
      System.arraycopy(losses, 0, ringLoss, 0, n);
      System.arraycopy(preds, 0, ringPred, 0, n);
    } else {
      // another window: its latest impressions, oldest first, as many as this one holds
      size = Math.min(n, window);
      head = size == window ? 0 : size;
      restoredFrom = new int[size];
      int oldest = n < w ? 0 : h;
      for (int k = 0; k < size; k++) {
        int from = (int) ((oldest + (long) (n - size) + k) % w);
        restoredFrom[k] = from;
        ringBin[k] = bins[from];
        ringPositive[k] = positives[from];
        ringLoss[k] = losses[from];
        ringPred[k] = preds[from];
      }
    }
    for (int i = 0; i < size; i++) {
      if (ringBin[i] < 0 || ringBin[i] >= BINS) {
        throw new java.io.IOException("metrics state has a bad bin " + ringBin[i]);
      }
      if (ringPositive[i]) {
        addPositive(ringBin[i]);
      } else {
        addNegative(ringBin[i]);
      }
    }
    windowLoss = in.readDouble();
    windowPred = in.readDouble();
    windowPositives = in.readLong();
    if (restoredFrom != null) {
      windowLoss = 0;
      windowPred = 0;
      windowPositives = 0;
      for (int i = 0; i < size; i++) {
        windowLoss += ringLoss[i];
        windowPred += ringPred[i];
        windowPositives += ringPositive[i] ? 1 : 0;
      }
    }
    total = in.readLong();
    totalLoss = in.readDouble();
    java.util.Arrays.fill(lifePos, 0);
    java.util.Arrays.fill(lifeNeg, 0);
    lifePositives = 0;
    long binned = 0;
    if (withLifetimeBins) {
      lifePred = in.readDouble();
      int used = in.readInt();
      for (int k = 0; k < used; k++) {
        int b = in.readInt();
        long p = in.readLong(), q = in.readLong();
        if (b < 0 || b >= BINS || p < 0 || q < 0) {
          throw new java.io.IOException(
              "metrics state has a bad lifetime bin " + b + " (" + p + ", " + q + ")");
        }
        add(lifePos, b, p);
        add(lifeNeg, b, q);
        lifePositives += p;
        binned += p + q;
      }
    } else {
      lifePred = windowPred;
      for (int i = 0; i < size; i++) {
        add(ringPositive[i] ? lifePos : lifeNeg, ringBin[i], 1);
        lifePositives += ringPositive[i] ? 1 : 0;
      }
      binned = size;
    }
    if (withLifetimeBins && binned != total) {
      throw new java.io.IOException(
          "metrics state counts " + total + " impressions but its lifetime bins " + binned);
    }
    lifeBinned = binned;
    lifePairs2 = pairs2Of(lifePos, lifeNeg);
    // the labels as their classes, exact for labels of 0 and 1, until readLabelsFrom says them
    for (int i = 0; i < size; i++) {
      ringLabel[i] = ringPositive[i] ? 1f : 0f;
    }
    windowLabels = windowPositives;
    lifeLabels = lifePositives;
    refresh();
  }

  /**
   * Writes the labels' values ({@link #readLabelsFrom} reads them after {@link #readFrom}): the
   * window's labels and the sums the calibration divides by, which the classes {@link #writeTo}
   * keeps do not give for labels between 0 and 1.
   */
  public void writeLabelsTo(java.io.DataOutput out) throws java.io.IOException {
    out.writeInt(size);
    for (int i = 0; i < size; i++) {
      out.writeFloat(ringLabel[i]);
    }
    out.writeDouble(windowLabels);
    out.writeDouble(lifeLabels);
  }

  /**
   * Reads what {@link #writeLabelsTo} wrote, after {@link #readFrom} has read the rest; without it
   * a restored state takes each label as its class (exact for labels of 0 and 1).
   */
  public void readLabelsFrom(java.io.DataInput in) throws java.io.IOException {
    int n = in.readInt();
    if (n != savedSize) {
      throw new java.io.IOException(
          "metrics state holds " + savedSize + " impressions in its window but " + n + " labels");
    }
    float[] saved = new float[n];
    for (int i = 0; i < n; i++) {
      saved[i] = in.readFloat();
    }
    windowLabels = in.readDouble();
    lifeLabels = in.readDouble();
    if (restoredFrom == null) {
      System.arraycopy(saved, 0, ringLabel, 0, n);
    } else {
      windowLabels = 0;
      for (int i = 0; i < size; i++) {
        ringLabel[i] = saved[restoredFrom[i]];
        windowLabels += ringLabel[i];
      }
    }
    refresh();
  }

  private void addPositive(int b) {
    pairs2 += 2 * below(neg, b) + count(neg, b);
    add(pos, b, 1);
  }

  private void removePositive(int b) {
    add(pos, b, -1);
    pairs2 -= 2 * below(neg, b) + count(neg, b);
  }

  private void addNegative(int b) {
    pairs2 += 2 * above(pos, b) + count(pos, b);
    add(neg, b, 1);
  }

  private void removeNegative(int b) {
    add(neg, b, -1);
    pairs2 -= 2 * above(pos, b) + count(pos, b);
  }

  /** Twice the Mann-Whitney count of the bins the two trees hold, in one pass over the bins. */
  private static long pairs2Of(long[] posTree, long[] negTree) {
    long pairs2 = 0, negBelow = 0;
    for (int b = 0; b < BINS; b++) {
      long p = count(posTree, b), n = count(negTree, b);
      pairs2 += p * (2 * negBelow + n);
      negBelow += n;
    }
    return pairs2;
  }

  private static void add(long[] tree, int b, long delta) {
    for (int i = b + 1; i <= BINS; i += i & -i) {
      tree[i] += delta;
    }
  }

  /** The sum over bins [0, b). */
  private static long below(long[] tree, int b) {
    long s = 0;
    for (int i = b; i > 0; i -= i & -i) {
      s += tree[i];
    }
    return s;
  }

  private static long count(long[] tree, int b) {
    return below(tree, b + 1) - below(tree, b);
  }

  /** The sum over bins (b, BINS). */
  private static long above(long[] tree, int b) {
    return below(tree, BINS) - below(tree, b + 1);
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
    auc = p == 0 || n == 0 ? Double.NaN : (pairs2 / 2.0) / ((double) p * n);
    logLoss = size == 0 ? Double.NaN : windowLoss / size;
    // the mean prediction over the mean label: labels between 0 and 1 count as what they are (a
    // watch ratio of 0.6 is not a whole positive); NaN while the labels sum to about nothing
    calibration = windowLabels < LABELS_FLOOR ? Double.NaN : windowPred / windowLabels;
    lifetimeLogLoss = total == 0 ? Double.NaN : totalLoss / total;
    long ln = lifeBinned - lifePositives;
    lifetimeAuc =
        lifePositives == 0 || ln == 0
            ? Double.NaN
            : (lifePairs2 / 2.0) / ((double) lifePositives * ln);
    lifetimeCalibration = lifeLabels < LABELS_FLOOR ? Double.NaN : lifePred / lifeLabels;
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

  /**
   * AUC over every impression scored (whole-stream progressive validation) at the last refresh; NaN
   * until both classes were seen.
   */
  public double lifetimeAuc() {
    return lifetimeAuc;
  }

  /** Mean prediction / mean label over every impression scored, at the last refresh. */
  public double lifetimeCalibration() {
    return lifetimeCalibration;
  }

  /** Impressions scored, at the last refresh. */
  public long count() {
    return count;
  }

  public int window() {
    return window;
  }
}
