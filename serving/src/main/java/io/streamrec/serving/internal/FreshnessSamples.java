package io.streamrec.serving.internal;

import java.util.Arrays;

/**
 * The newest freshness samples of a replica (ms from a version's event time to its application), in
 * a ring, and their percentiles. Thread-safe.
 */
public final class FreshnessSamples {
  private final long[] ring;
  private long count;
  private long sum;

  public FreshnessSamples(int capacity) {
    this.ring = new long[capacity];
  }

  public synchronized void add(long ms) {
    ring[(int) (count++ % ring.length)] = ms;
    sum += ms;
  }

  /** The sum of every sample taken so far (ms), kept ones or not: a summary's {@code _sum}. */
  public synchronized long sum() {
    return sum;
  }

  /** Percentile {@code q} (0..1) of the samples kept; NaN before any. */
  public synchronized double percentile(double q) {
    int n = (int) Math.min(count, ring.length);
    if (n == 0) {
      return Double.NaN;
    }
    long[] s = Arrays.copyOf(ring, n);
    Arrays.sort(s);
    return s[(int) Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1))];
  }

  /** Samples taken so far. */
  public synchronized long count() {
    return count;
  }
}
