package io.streamrec.serving.internal;

import java.util.Locale;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;

/**
 * A latency histogram in Prometheus' shape: cumulative counts per upper bound ({@code le}), a
 * {@code +Inf} bucket, the sum and the count, so that a server can compute quantiles over any
 * window and aggregate replicas ({@code histogram_quantile(0.99, sum by (le)
 * (rate(..._bucket[5m])))}). Lock-free: one increment per bucket that fits, one add to the sum.
 */
public final class LatencyHistogram {
  /**
   * Upper bounds in seconds: from half a millisecond (a small request on a warm replica) to ten
   * seconds, about 2.5× apart.
   */
  static final double[] BOUNDS_SECONDS = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10
  };

  private final AtomicLongArray buckets = new AtomicLongArray(BOUNDS_SECONDS.length);
  private final LongAdder count = new LongAdder();
  private final LongAdder sumNanos = new LongAdder();

  /** Records one observation of {@code nanos}. */
  public void record(long nanos) {
    double s = nanos / 1e9;
    for (int i = BOUNDS_SECONDS.length - 1; i >= 0 && s <= BOUNDS_SECONDS[i]; i--) {
      buckets.incrementAndGet(i);
    }
    sumNanos.add(nanos);
    count.increment();
  }

  public long count() {
    return count.sum();
  }

  /** Appends the histogram as Prometheus text (format 0.0.4) under {@code name}. */
  public void appendTo(StringBuilder b, String name, String help) {
    // the count first: a scrape may see a bucket a little ahead of it, never behind
    long n = count.sum();
    double sum = sumNanos.sum() / 1e9;
    b.append("# HELP ").append(name).append(' ').append(help).append('\n');
    b.append("# TYPE ").append(name).append(" histogram\n");
    for (int i = 0; i < BOUNDS_SECONDS.length; i++) {
      b.append(name)
          .append("_bucket{le=\"")
          .append(bound(BOUNDS_SECONDS[i]))
          .append("\"} ")
          .append(Math.min(n, buckets.get(i)))
          .append('\n');
    }
    b.append(name).append("_bucket{le=\"+Inf\"} ").append(n).append('\n');
    b.append(name).append("_sum ").append(String.format(Locale.ROOT, "%.9f", sum)).append('\n');
    b.append(name).append("_count ").append(n).append('\n');
  }

  private static String bound(double v) {
    return java.math.BigDecimal.valueOf(v).stripTrailingZeros().toPlainString();
  }
}
