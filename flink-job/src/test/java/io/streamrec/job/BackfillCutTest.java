package io.streamrec.job;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrec.job.config.JobConfig;
import io.streamrec.job.config.JobOptions;
import java.time.Duration;
import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.Test;

/**
 * Where a backfill that hands on and names no end cuts: a minute, a join window and the allowed
 * disorder before it starts (read to the topics' end, the units of its newest requests closed
 * without the impressions written after it started); every other range as it was given.
 */
class BackfillCutTest {
  private static final long NOW = 1_800_000_000_000L;

  private static JobConfig config(boolean handsOn, String source) {
    Configuration c = new Configuration();
    c.setString("kafka.bootstrap-servers", "localhost:9092");
    c.set(JobOptions.JOIN_WINDOW, Duration.ofSeconds(10));
    c.set(JobOptions.MAX_OUT_OF_ORDERNESS, Duration.ofSeconds(2));
    c.set(JobOptions.SOURCE_KIND, source);
    if (handsOn) {
      c.set(JobOptions.HANDOFF_SAVE_TO, "/tmp/a.handoff");
    }
    return JobConfig.from(c);
  }

  @Test
  void aBackfillHandingOnToNowCutsAMinuteAJoinWindowAndTheDisorderBeforeIt() {
    StreamrecJob.Bounds b =
        StreamrecJob.cutBeforeNow(
            config(true, "events"), StreamrecJob.Bounds.backfill(null, null), NOW);
    assertThat(b.untilMs()).isEqualTo(NOW - 60_000 - 12_000);
    assertThat(b.cutBeforeNow()).isTrue();
    assertThat(b.bounded()).isTrue();
    assertThat(b.fromMs()).isNull();

    StreamrecJob.Bounds from =
        StreamrecJob.cutBeforeNow(
            config(true, "events"), StreamrecJob.Bounds.backfill(NOW - 3_600_000, null), NOW);
    assertThat(from.fromMs()).isEqualTo(NOW - 3_600_000);
    assertThat(from.untilMs()).isEqualTo(NOW - 72_000);
  }

  @Test
  void everyOtherRangeIsAsGiven() {
    StreamrecJob.Bounds until = StreamrecJob.Bounds.backfill(null, NOW - 1_000);
    StreamrecJob.Bounds toTheEnd = StreamrecJob.Bounds.backfill(null, null);
    StreamrecJob.Bounds fromWithinTheMinute = StreamrecJob.Bounds.backfill(NOW - 30_000, null);
    assertThat(StreamrecJob.cutBeforeNow(config(true, "events"), until, NOW)).isEqualTo(until);
    assertThat(StreamrecJob.cutBeforeNow(config(false, "events"), toTheEnd, NOW))
        .as("no handoff: nothing comes after it")
        .isEqualTo(toTheEnd);
    assertThat(StreamrecJob.cutBeforeNow(config(true, "units"), toTheEnd, NOW))
        .as("a unit of the log is whole")
        .isEqualTo(toTheEnd);
    assertThat(StreamrecJob.cutBeforeNow(config(true, "events"), fromWithinTheMinute, NOW))
        .as("a range from after where the cut would be")
        .isEqualTo(fromWithinTheMinute);
    assertThat(StreamrecJob.cutBeforeNow(config(false, "events"), StreamrecJob.Bounds.live(), NOW))
        .isEqualTo(StreamrecJob.Bounds.live());
  }
}
