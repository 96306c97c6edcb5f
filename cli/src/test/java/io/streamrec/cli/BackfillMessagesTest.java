package io.streamrec.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrec.job.config.JobConfig;
import io.streamrec.job.config.JobOptions;
import io.streamrec.job.metrics.JobMetrics;
import java.util.Map;
import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.Test;

/**
 * A backfill that trained nothing (an empty range, a request-units log nobody writes) ended as if
 * it had done its work, and one stopped with Ctrl-C said nothing of what it left behind.
 */
class BackfillMessagesTest {
  private static JobConfig config(String source, String handoff) {
    Configuration c = new Configuration();
    c.set(JobOptions.BOOTSTRAP_SERVERS, "localhost:9092");
    c.setString(JobOptions.SOURCE_KIND.key(), source);
    if (handoff != null) {
      c.set(JobOptions.HANDOFF_SAVE_TO, handoff);
    }
    return JobConfig.from(c);
  }

  @Test
  void aBackfillThatTrainedNothingSaysWhy() {
    assertThat(
            BackfillCommand.nothingTrained(
                config("units", "/tmp/a.handoff"), Map.of(JobMetrics.UNITS_IN, 0.0)))
        .isEqualTo(
            "streamrec backfill: nothing was trained: the request-units topic 'request-units' held"
                + " no unit in the range (the live job writes it only with"
                + " sink.request-units.enabled; docs/request-units.md); the handoff holds a model"
                + " that learnt nothing");
    assertThat(BackfillCommand.nothingTrained(config("events", null), Map.of()))
        .isEqualTo(
            "streamrec backfill: nothing was trained: the topics 'requests' and 'impressions' held"
                + " no event in the range");
    assertThat(
            BackfillCommand.nothingTrained(
                config("events", null),
                Map.of(JobMetrics.REQUESTS_IN, 3.0, JobMetrics.IMPRESSIONS_IN, 4.0)))
        .contains("of the 7 events it read, no request was joined with an impression");
    assertThat(
            BackfillCommand.nothingTrained(
                config("events", null), Map.of(JobMetrics.IMPRESSIONS_TRAINED, 1.0)))
        .isNull();
  }

  @Test
  void aBackfillStoppedEarlySaysWhatItLeaves() {
    assertThat(BackfillCommand.stoppingLine(config("events", "/tmp/a.handoff")))
        .isEqualTo(
            "streamrec backfill: stopping early: cancelling the job; no handoff is written (one"
                + " already at /tmp/a.handoff stays as it was); the versions it has published stay"
                + " on 'model-updates': a backfill started again trains a new model, which takes"
                + " that topic over with --replace");
  }
}
