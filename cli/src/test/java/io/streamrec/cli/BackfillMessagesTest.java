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
    // an empty impressions topic sent nothing to the dead letters that would say why
    assertThat(
            BackfillCommand.nothingTrained(
                config("events", null), Map.of(JobMetrics.REQUESTS_IN, 13_000.0)))
        .contains("it read 13,000 requests and no impression: the topic 'impressions' held none")
        .doesNotContain("dead-letters");
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

  /**
   * A backfill from a handoff goes on with that handoff's model, not a new one: started again after
   * a stop it is refused while the versions it published are on the topic, and --replace does not
   * help (it is the same model); trainer.handoff.continue-published lets it train those again.
   */
  @Test
  void aBackfillFromAHandoffStoppedEarlySaysHowToStartItAgain() {
    Configuration c = new Configuration();
    c.set(JobOptions.BOOTSTRAP_SERVERS, "localhost:9092");
    c.set(JobOptions.HANDOFF_START_FROM, "/tmp/a.handoff");
    c.set(JobOptions.HANDOFF_SAVE_TO, "/tmp/b.handoff");
    assertThat(BackfillCommand.stoppingLine(JobConfig.from(c)))
        .isEqualTo(
            "streamrec backfill: stopping early: cancelling the job; no handoff is written (one"
                + " already at /tmp/b.handoff stays as it was); the versions it has published stay"
                + " on 'model-updates': a backfill started again from the handoff at"
                + " /tmp/a.handoff goes on from that handoff's model, and is refused while those"
                + " versions are there unless started with -D"
                + " trainer.handoff.continue-published=true (it trains them again and publishes"
                + " none twice)")
        .doesNotContain("--replace");
  }

  /**
   * A backfill checkpointed into the JobManager's memory (Flink's default when no checkpoint
   * directory is named), which takes 5 MB at most: with a model's state over it every checkpoint
   * failed, and the job started over from the beginning again and again (6 restarts in 90 s in a
   * walk, never finishing). It checkpoints to a scratch directory on disk unless told where.
   */
  @Test
  void aBackfillCheckpointsOnDiskToAScratchDirectoryUnlessToldWhere(
      @org.junit.jupiter.api.io.TempDir java.nio.file.Path scratch) {
    Configuration c = BackfillCommand.withCheckpoints(new Configuration(), scratch);
    assertThat(c.get(org.apache.flink.configuration.CheckpointingOptions.CHECKPOINT_STORAGE))
        .isEqualTo("filesystem");
    assertThat(c.get(org.apache.flink.configuration.CheckpointingOptions.CHECKPOINTS_DIRECTORY))
        .startsWith(scratch.toUri().toString().replaceAll("/$", ""));
    assertThat(c.get(org.apache.flink.configuration.CheckpointingOptions.CHECKPOINTING_INTERVAL))
        .isEqualTo(java.time.Duration.ofSeconds(30));

    Configuration told = new Configuration();
    told.set(
        org.apache.flink.configuration.CheckpointingOptions.CHECKPOINTS_DIRECTORY, "s3://b/chk");
    told.set(
        org.apache.flink.configuration.CheckpointingOptions.CHECKPOINTING_INTERVAL,
        java.time.Duration.ofMinutes(2));
    Configuration kept = BackfillCommand.withCheckpoints(told, null);
    assertThat(kept.get(org.apache.flink.configuration.CheckpointingOptions.CHECKPOINTS_DIRECTORY))
        .isEqualTo("s3://b/chk");
    assertThat(kept.get(org.apache.flink.configuration.CheckpointingOptions.CHECKPOINTING_INTERVAL))
        .isEqualTo(java.time.Duration.ofMinutes(2));
  }

  /**
   * A report path under a file (or a directory itself) failed the backfill at its end, after hours
   * of training, with the run's figures lost: it is refused before anything starts, the broker
   * (here none) not asked.
   */
  @Test
  void aReportPathTheRunCouldNotWriteIsRefusedBeforeItStarts(
      @org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
    java.nio.file.Path file = java.nio.file.Files.writeString(dir.resolve("a-file"), "x");
    for (String[] args :
        new String[][] {
          {"--report", file.resolve("run.json").toString()},
          {"--html", dir.toString()},
        }) {
      java.io.StringWriter err = new java.io.StringWriter();
      picocli.CommandLine cl = StreamrecCli.commandLine();
      cl.setErr(new java.io.PrintWriter(err, true));
      cl.setOut(new java.io.PrintWriter(new java.io.StringWriter(), true));
      int rc = cl.execute("backfill", "--bootstrap-servers", "127.0.0.1:1", args[0], args[1]);
      assertThat(rc).as(err.toString()).isEqualTo(2);
      assertThat(err.toString())
          .startsWith("streamrec backfill: " + args[0] + " " + args[1])
          .contains("could not be written there")
          .contains(args[0].equals("--html") ? "it is a directory" : "is a file, not a directory");
    }
  }
}
