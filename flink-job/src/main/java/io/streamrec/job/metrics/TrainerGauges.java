package io.streamrec.job.metrics;

import io.streamrec.embedding.StoreStats;
import java.time.Duration;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;

/**
 * The trainer's gauges over the last minute, next to its running totals: the embedding store's hot
 * tier hit rate ({@value JobMetrics#STORE_HIT_RATE_1M}) and the trainer thread's seconds per
 * minibatch ({@value JobMetrics#TRAINER_BATCH_SECONDS_1M}).
 */
public final class TrainerGauges {
  /** The window of the gauges here. */
  static final Duration WINDOW = Duration.ofMinutes(1);

  private TrainerGauges() {}

  /**
   * Registers the gauges in the trainer's metric group {@code g}.
   *
   * @param store the store's counters as of the last batch (read from the reporter's thread; null
   *     until the store is open)
   * @param busyNanos the trainer thread's busy time so far: training and publishing
   * @param batches the counters of batches trained and skipped
   */
  public static void register(
      MetricGroup g, Supplier<StoreStats> store, LongSupplier busyNanos, Counter... batches) {
    g.gauge(
        JobMetrics.STORE_HIT_RATE_1M,
        new WindowedRatio(
            WINDOW,
            () -> {
              StoreStats s = store.get();
              return s == null ? null : new WindowedRatio.Totals(s.hits(), s.lookups());
            }));
    g.gauge(
        JobMetrics.TRAINER_BATCH_SECONDS_1M,
        new WindowedRatio(
            WINDOW,
            () -> {
              long n = 0;
              for (Counter c : batches) {
                n += c.getCount();
              }
              return new WindowedRatio.Totals(busyNanos.getAsLong() / 1e9, n);
            }));
  }
}
