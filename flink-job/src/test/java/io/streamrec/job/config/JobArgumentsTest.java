package io.streamrec.job.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.CoreOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JobArgumentsTest {
  @TempDir Path dir;

  private Path config(String... lines) throws IOException {
    Path f = dir.resolve("streamrec.yaml");
    Files.write(f, java.util.List.of(lines));
    return f;
  }

  @Test
  void theFileThenDashDThenKeyValueEachWinOverTheOneBefore() throws IOException {
    Path f =
        config(
            "kafka.bootstrap-servers: file:9092",
            "kafka.group-id: from-file",
            "topics.requests: req-file",
            "model.embedding-dim: 8",
            "execution.checkpointing.interval: 30 s");
    JobArguments.Parsed p =
        JobArguments.parse(
            "--config",
            f.toString(),
            "-D",
            "kafka.group-id=from-d",
            "-Dtopics.requests=req-d",
            "--topics.requests",
            "req-kv",
            "--model.embedding-dim=12",
            "--parallelism.default",
            "3");

    assertThat(p.config().bootstrapServers()).isEqualTo("file:9092");
    assertThat(p.config().groupId()).isEqualTo("from-d");
    assertThat(p.config().requestsTopic()).isEqualTo("req-kv");
    assertThat(p.config().model().embeddingDim()).isEqualTo(12);
    // Flink's own keys reach the configuration handed to the environment
    assertThat(p.configuration().get(CheckpointingOptions.CHECKPOINTING_INTERVAL))
        .isEqualTo(Duration.ofSeconds(30));
    assertThat(p.configuration().get(CoreOptions.DEFAULT_PARALLELISM)).isEqualTo(3);
    assertThat(p.configuration().get(ModelOptions.EMBEDDING_DIM)).isEqualTo(12);
  }

  /**
   * The job's entry takes its own key arguments after -D, and the later wins: the interval was
   * checked before them, so -D ...=0 followed by --execution.checkpointing.interval 30s was
   * refused. It is checked on the final value.
   */
  @Test
  void theCheckpointIntervalIsCheckedOnTheValueThatWins() {
    JobArguments.Parsed p =
        JobArguments.parse(
            "--bootstrap-servers",
            "k:9092",
            "-D",
            "execution.checkpointing.interval=0",
            "--execution.checkpointing.interval",
            "30s");
    assertThat(p.configuration().get(CheckpointingOptions.CHECKPOINTING_INTERVAL))
        .isEqualTo(Duration.ofSeconds(30));
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () ->
                JobArguments.parse(
                    "--bootstrap-servers",
                    "k:9092",
                    "-D",
                    "execution.checkpointing.interval=30s",
                    "--execution.checkpointing.interval",
                    "0"))
        .hasMessageStartingWith("configuration key 'execution.checkpointing.interval' is 0 ms");
  }

  @Test
  void theSharedOptionsOfRunAndBackfillWorkHereToo() {
    JobArguments.Parsed p =
        JobArguments.parse("--bootstrap-servers", "k1:9092,k2:9092", "--backend", "cpu");
    assertThat(p.config().bootstrapServers()).isEqualTo("k1:9092,k2:9092");
    assertThat(p.configuration().get(JobOptions.BACKEND)).isEqualTo("cpu");
    assertThat(p.config().replaceModel()).isFalse();
    assertThat(JobArguments.parse("--bootstrap-servers", "k:9092", "--replace").config())
        .extracting(JobConfig::replaceModel)
        .isEqualTo(true);
  }

  /** The handoff's keys, as the deployment docs give them to the job's entry point. */
  @Test
  void aBackfillSavesAndALiveJobStartsFromAHandoffByKey() {
    JobArguments.Parsed backfill =
        JobArguments.parse(
            "--bootstrap-servers",
            "k:9092",
            "--mode",
            "backfill",
            "--trainer.handoff.save-to",
            "s3://models/a.handoff");
    assertThat(backfill.bounds().bounded()).isTrue();
    assertThat(backfill.config().handoffSaveTo()).isEqualTo("s3://models/a.handoff");
    JobArguments.Parsed live =
        JobArguments.parse(
            "--bootstrap-servers",
            "k:9092",
            "--trainer.handoff.start-from",
            "s3://models/a.handoff");
    assertThat(live.bounds().bounded()).isFalse();
    assertThat(live.config().handoffStartFrom()).isEqualTo("s3://models/a.handoff");
  }

  @Test
  void liveIsTheDefaultModeAndIsUnbounded() {
    JobArguments.Parsed p = JobArguments.parse("--bootstrap-servers", "k:9092");
    assertThat(p.bounds().bounded()).isFalse();
    assertThat(p.jobName()).isEqualTo(JobArguments.LIVE_JOB_NAME);
  }

  @Test
  void backfillTakesItsRangeInEitherTimeForm() {
    JobArguments.Parsed p =
        JobArguments.parse(
            "--bootstrap-servers",
            "k:9092",
            "--mode",
            "BACKFILL",
            "--from",
            "2026-01-01T00:00:00Z",
            "--until",
            "1767229200000");
    assertThat(p.bounds().bounded()).isTrue();
    assertThat(p.bounds().fromMs()).isEqualTo(Instant.parse("2026-01-01T00:00:00Z").toEpochMilli());
    assertThat(p.bounds().untilMs()).isEqualTo(1_767_229_200_000L);
    assertThat(p.jobName()).isEqualTo(JobArguments.BACKFILL_JOB_NAME);

    JobArguments.Parsed open =
        JobArguments.parse("--bootstrap-servers", "k:9092", "--mode=backfill");
    assertThat(open.bounds().fromMs()).isNull();
    assertThat(open.bounds().untilMs()).isNull();
  }

  @Test
  void pipelineNameOverridesTheJobName() {
    assertThat(
            JobArguments.parse("--bootstrap-servers", "k:9092", "--pipeline.name", "ctr-eu")
                .jobName())
        .isEqualTo("ctr-eu");
  }

  @Test
  void anUnknownModeIsNamed() {
    assertThatThrownBy(
            () -> JobArguments.parse("--bootstrap-servers", "k:9092", "--mode", "replay"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("--mode")
        .hasMessageContaining("replay");
  }

  @Test
  void aRangeOnALiveJobIsRefused() {
    assertThatThrownBy(() -> JobArguments.parse("--bootstrap-servers", "k:9092", "--until", "1000"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("--until")
        .hasMessageContaining("--mode backfill");
  }

  @Test
  void anEmptyOrReversedRangeIsRefused() {
    assertThatThrownBy(
            () ->
                JobArguments.parse(
                    "--bootstrap-servers",
                    "k:9092",
                    "--mode",
                    "backfill",
                    "--from",
                    "2000",
                    "--until",
                    "2000"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(
            "--until (1970-01-01T00:00:02Z) must be after --from (1970-01-01T00:00:02Z)");
  }

  @Test
  void aBadTimeNamesTheOptionAndTheValue() {
    assertThatThrownBy(
            () ->
                JobArguments.parse(
                    "--bootstrap-servers", "k:9092", "--mode", "backfill", "--from", "yesterday"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("--from")
        .hasMessageContaining("yesterday");
  }

  @Test
  void aKeyWithoutAValueIsNamed() {
    assertThatThrownBy(
            () -> JobArguments.parse("--bootstrap-servers", "k:9092", "--kafka.group-id"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("--kafka.group-id needs a value");
    assertThatThrownBy(
            () -> JobArguments.parse("--kafka.group-id", "--bootstrap-servers", "k:9092"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("--kafka.group-id needs a value");
  }

  @Test
  void anUnknownArgumentIsNamed() {
    assertThatThrownBy(
            () -> JobArguments.parse("--bootstrap-servers", "k:9092", "--mdoe", "backfill"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("unknown argument --mdoe");
    assertThatThrownBy(() -> JobArguments.parse("--bootstrap-servers", "k:9092", "stray"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'stray'");
  }

  @Test
  void aMisspelledStreamrecKeyIsRefusedWithTheLikelyKey() throws IOException {
    assertThatThrownBy(
            () -> JobArguments.parse("--bootstrap-servers", "k:9092", "--model.embeding-dim", "8"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'model.embeding-dim'")
        .hasMessageContaining("did you mean 'model.embedding-dim'");
    // a key in other letters: ignored, the model trained at the default dimension
    assertThatThrownBy(
            () ->
                JobArguments.parse("--bootstrap-servers", "k:9092", "-D", "Model.Embedding-Dim=8"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("did you mean 'model.embedding-dim'");
    // the same from the file or -D
    Path f = config("kafka.bootstrap-servers: k:9092", "trainer.batch.max-unit: 64");
    assertThatThrownBy(() -> JobArguments.parse("--config", f.toString()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'trainer.batch.max-unit'");
    assertThatThrownBy(
            () ->
                JobArguments.parse(
                    "--bootstrap-servers", "k:9092", "-D", "topics.nothing-like-it=x"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'topics.nothing-like-it'")
        .hasMessageNotContaining("did you mean");
  }

  /**
   * {@code -D propertes.isolation.level=read_committed} (or {@code Properties.}, {@code property.})
   * went to Flink, which ignores a key it does not know: the clients read uncommitted records, in
   * silence, where the same setting a typo away under {@code properties.} was refused.
   */
  @Test
  void aKafkaSettingUnderAMisspeltPropertiesPrefixIsRefusedWithTheKeyMeant() {
    for (String prefix : List.of("propertes", "Properties", "PROPERTIES", "property")) {
      assertThatThrownBy(
              () ->
                  JobArguments.parse(
                      "--bootstrap-servers",
                      "k:9092",
                      "-D",
                      prefix + ".isolation.level=read_committed"))
          .as(prefix)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage(
              "unknown configuration key '"
                  + prefix
                  + ".isolation.level' (did you mean 'properties.isolation.level'?): Kafka client"
                  + " settings go under properties.");
    }
    assertThat(
            JobArguments.parse(
                    "--bootstrap-servers",
                    "k:9092",
                    "-D",
                    "properties.isolation.level=read_committed")
                .configuration()
                .toMap())
        .containsEntry("properties.isolation.level", "read_committed");
  }

  @Test
  void keysOutsideStreamrecsNamespacesPassThrough() {
    JobArguments.Parsed p =
        JobArguments.parse(
            "--bootstrap-servers",
            "k:9092",
            "--state.backend.type",
            "rocksdb",
            "--my.own.key",
            "x");
    assertThat(p.configuration().toMap())
        .containsEntry("state.backend.type", "rocksdb")
        .containsEntry("my.own.key", "x");
  }

  @Test
  void badConfigurationValuesFailAsTheJobConfigDoes() {
    assertThatThrownBy(() -> JobArguments.parse())
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("kafka.bootstrap-servers");
    assertThatThrownBy(
            () ->
                JobArguments.parse(
                    "--bootstrap-servers", "k:9092", "--assembler.join-window", "0 s"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("assembler.join-window");
  }

  @Test
  void aMissingConfigFileIsNamed() {
    Path missing = dir.resolve("nope.yaml");
    assertThatThrownBy(() -> JobArguments.parse("--config", missing.toString()))
        .hasMessageContaining(missing.toString());
  }

  @Test
  void helpIsRecognisedAndTheUsageListsTheArguments() {
    assertThat(JobArguments.helpRequested("--config", "x", "--help")).isTrue();
    assertThat(JobArguments.helpRequested("--config", "x")).isFalse();
    assertThat(JobArguments.usage())
        .contains("--config", "-D", "--mode", "--from", "--until", "--bootstrap-servers");
  }
}
