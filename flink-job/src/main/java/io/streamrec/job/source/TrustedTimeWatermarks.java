package io.streamrec.job.source;

import java.time.Duration;
import org.apache.flink.api.common.eventtime.BoundedOutOfOrdernessWatermarks;
import org.apache.flink.api.common.eventtime.SerializableTimestampAssigner;
import org.apache.flink.api.common.eventtime.WatermarkGenerator;
import org.apache.flink.api.common.eventtime.WatermarkOutput;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.eventtime.WatermarksWithIdleness;

/**
 * Event time of a source whose records without a time to trust (dead letters, stamped {@link
 * Long#MIN_VALUE}) count for nothing: they move no watermark, as before, and they no longer keep a
 * partition from going idle. Flink's idleness counts every record as activity, so a partition that
 * carried only records that became dead letters (a producer on another schema, a client writing
 * JSON), one at least every {@code source.idle-timeout}, never went idle, held its topic's
 * watermark where its last good record left it, and with it every unit of the job: none closed, the
 * assembler's state grew, and a live job's watermark alignment paused the other partitions.
 */
public final class TrustedTimeWatermarks {
  private TrustedTimeWatermarks() {}

  /**
   * Bounded out-of-orderness of {@code disorder}, idle after {@code idleMs} without a record of a
   * trusted time (0: never idle), times from {@code assigner}.
   */
  public static <T> WatermarkStrategy<T> of(
      Duration disorder, long idleMs, SerializableTimestampAssigner<T> assigner) {
    WatermarkStrategy<T> s =
        context -> {
          WatermarkGenerator<T> g = new BoundedOutOfOrdernessWatermarks<>(disorder);
          if (idleMs > 0) {
            // the input's activity clock, as Flink's own idleness takes it: it stands still while
            // the source is paused (backpressure, alignment), which is not silence
            g =
                new WatermarksWithIdleness<>(
                    g, Duration.ofMillis(idleMs), context.getInputActivityClock());
          }
          return new UntimedIgnored<>(g);
        };
    return s.withTimestampAssigner(assigner);
  }

  /** Passes on the records of a trusted time only. */
  static final class UntimedIgnored<T> implements WatermarkGenerator<T> {
    private final WatermarkGenerator<T> inner;

    UntimedIgnored(WatermarkGenerator<T> inner) {
      this.inner = inner;
    }

    @Override
    public void onEvent(T event, long timestamp, WatermarkOutput output) {
      if (timestamp != Long.MIN_VALUE) {
        inner.onEvent(event, timestamp, output);
      }
    }

    @Override
    public void onPeriodicEmit(WatermarkOutput output) {
      inner.onPeriodicEmit(output);
    }
  }
}
