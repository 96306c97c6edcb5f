package io.streamrec.job.source;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.eventtime.Watermark;
import org.apache.flink.api.common.eventtime.WatermarkGenerator;
import org.apache.flink.api.common.eventtime.WatermarkGeneratorSupplier;
import org.apache.flink.api.common.eventtime.WatermarkOutput;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.metrics.groups.UnregisteredMetricsGroup;
import org.apache.flink.util.clock.ManualClock;
import org.apache.flink.util.clock.RelativeClock;
import org.junit.jupiter.api.Test;

/**
 * A partition that carries only records that became dead letters (stamped {@link Long#MIN_VALUE})
 * goes idle as a silent one does: Flink's idleness counted them as activity, the partition never
 * went idle, and its topic's watermark, with every unit of the job, stood still.
 */
class TrustedTimeWatermarksTest {
  private static final long IDLE_MS = 30_000;

  /** What the generator told its output, in order. */
  private static final class Told implements WatermarkOutput {
    final List<String> said = new ArrayList<>();

    @Override
    public void emitWatermark(Watermark w) {
      said.add("watermark " + w.getTimestamp());
    }

    @Override
    public void markIdle() {
      said.add("idle");
    }

    @Override
    public void markActive() {
      said.add("active");
    }
  }

  private static WatermarkGenerator<Long> generator(ManualClock clock) {
    return TrustedTimeWatermarks.<Long>of(Duration.ofSeconds(2), IDLE_MS, (e, ts) -> e)
        .createWatermarkGenerator(
            new WatermarkGeneratorSupplier.Context() {
              @Override
              public MetricGroup getMetricGroup() {
                return new UnregisteredMetricsGroup();
              }

              @Override
              public RelativeClock getInputActivityClock() {
                return clock;
              }
            });
  }

  @Test
  void aPartitionOfDeadLettersOnlyGoesIdleAsASilentOneDoes() {
    ManualClock clock = new ManualClock();
    WatermarkGenerator<Long> g = generator(clock);
    Told out = new Told();
    g.onEvent(10_000L, 10_000L, out);
    g.onPeriodicEmit(out);
    assertThat(out.said).containsExactly("watermark 7999");
    for (int i = 1; i <= 6; i++) { // a dead letter every 10 s for a minute
      clock.advanceTime(Duration.ofSeconds(10));
      g.onEvent(Long.MIN_VALUE, Long.MIN_VALUE, out);
      g.onPeriodicEmit(out);
    }
    assertThat(out.said).contains("idle");
    assertThat(out.said.indexOf("idle"))
        .as("idle no sooner than 30 s after the last good record")
        .isGreaterThanOrEqualTo(3);

    // Flink's own idleness, as the job had it, on the same records: never idle
    ManualClock flinkClock = new ManualClock();
    WatermarkGenerator<Long> flink =
        new org.apache.flink.api.common.eventtime.WatermarksWithIdleness<>(
            new org.apache.flink.api.common.eventtime.BoundedOutOfOrdernessWatermarks<>(
                Duration.ofSeconds(2)),
            Duration.ofMillis(IDLE_MS),
            flinkClock);
    Told flinkOut = new Told();
    flink.onEvent(10_000L, 10_000L, flinkOut);
    for (int i = 1; i <= 6; i++) {
      flinkClock.advanceTime(Duration.ofSeconds(10));
      flink.onEvent(Long.MIN_VALUE, Long.MIN_VALUE, flinkOut);
      flink.onPeriodicEmit(flinkOut);
    }
    assertThat(flinkOut.said).doesNotContain("idle");

    out.said.clear();
    g.onEvent(50_000L, 50_000L, out); // a good record again
    g.onPeriodicEmit(out);
    assertThat(out.said).containsExactly("watermark 47999");
  }

  @Test
  void recordsOfATrustedTimeKeepThePartitionActiveAndWithoutIdlenessNothingIsIdle() {
    ManualClock clock = new ManualClock();
    WatermarkGenerator<Long> g = generator(clock);
    Told out = new Told();
    for (int i = 0; i < 6; i++) {
      clock.advanceTime(Duration.ofSeconds(10));
      g.onEvent(1_000L * i, 1_000L * i, out);
      g.onPeriodicEmit(out);
    }
    assertThat(out.said).doesNotContain("idle");

    WatermarkGenerator<Long> never =
        TrustedTimeWatermarks.<Long>of(Duration.ofSeconds(2), 0, (e, ts) -> e)
            .createWatermarkGenerator(null);
    Told quiet = new Told();
    never.onEvent(Long.MIN_VALUE, Long.MIN_VALUE, quiet);
    never.onPeriodicEmit(quiet);
    assertThat(quiet.said).doesNotContain("idle");
  }
}
