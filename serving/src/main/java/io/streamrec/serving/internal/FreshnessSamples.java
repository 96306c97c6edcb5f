package io.streamrec.serving.internal;

import java.util.Arrays;

/**
 * A replica's freshness samples (ms from a version's event time to its application), the newest in
 * a ring with the time each was taken, and their percentiles over the last {@link #WINDOW_MS} (as
 * Prometheus' summaries age theirs out). Over the newest samples alone, a replica that had tailed a
 * backfill's versions (event time months back) reported freshness in months for hours after, until
 * its live versions had filled the ring. Thread-safe.
 */
public final class FreshnessSamples {
  /** How far back the percentiles look. */
  public static final long WINDOW_MS = 10 * 60 * 1000L;

  private final long[] ring;
  private final long[] takenAt;
  private long count;
  private long sum;

  public FreshnessSamples(int capacity) {
    this.ring = new long[capacity];
    this.takenAt = new long[capacity];
  }

  /** A sample taken now. */
  public void add(long ms) {
    add(ms, System.currentTimeMillis());
  }

  /** A sample taken at {@code atMs}. */
  public synchronized void add(long ms, long atMs) {
    int i = (int) (count++ % ring.length);
    ring[i] = ms;
    takenAt[i] = atMs;
    sum += ms;
  }

  /** The sum of every sample taken so far (ms), kept ones or not: a summary's {@code _sum}. */
  public synchronized long sum() {
    return sum;
  }

  /** Percentile {@code q} (0..1) of the samples of the last {@link #WINDOW_MS}; NaN without. */
  public double percentile(double q) {
    return percentile(q, System.currentTimeMillis());
  }

  /** Percentile {@code q} (0..1) of the samples taken in the window before {@code nowMs}. */
  public synchronized double percentile(double q, long nowMs) {
    int kept = (int) Math.min(count, ring.length);
    long[] s = new long[kept];
    int n = 0;
    for (int i = 0; i < kept; i++) {
      if (takenAt[i] > nowMs - WINDOW_MS) {
        s[n++] = ring[i];
      }
    }
    if (n == 0) {
      return Double.NaN;
    }
    s = Arrays.copyOf(s, n);
    Arrays.sort(s);
    return s[(int) Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1))];
  }

  /** Samples taken so far. */
  public synchronized long count() {
    return count;
  }
}
