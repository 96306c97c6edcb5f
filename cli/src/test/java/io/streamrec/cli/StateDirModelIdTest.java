package io.streamrec.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.streamrec.protocol.ModelLineage;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A run killed before its first checkpoint drew another model id when started again, and refused
 * its own topic at every start after ("holds model 0999… at version 118; this job trains model
 * 7c73… (a new one)").
 */
class StateDirModelIdTest {
  @TempDir Path dir;

  private static final String JOB = "0a0b0c0d0e0f00000000000000000001";
  private static final String OTHER_JOB = "0a0b0c0d0e0f00000000000000000002";

  @Test
  void aStateDirectoryKeepsTheIdOfEachJobsNewModel() throws Exception {
    String first = StateDirModelId.of(dir, JOB, () -> true);
    ModelLineage.parse(first);
    assertThat(StateDirModelId.of(dir, JOB, () -> true)).isEqualTo(first);
    // another kafka.group-id or model-updates topic is another job, with a model of its own: it
    // took the first job's id, and published over that model without --replace
    assertThat(StateDirModelId.of(dir, OTHER_JOB, () -> true)).isNotEqualTo(first);
    assertThat(StateDirModelId.of(dir, JOB, () -> true)).isEqualTo(first);
    assertThat(StateDirModelId.of(Files.createDirectory(dir.resolve("other")), JOB, () -> true))
        .isNotEqualTo(first);

    Files.writeString(dir.resolve(StateDirModelId.file(JOB)), "not an id\n");
    assertThatThrownBy(() -> StateDirModelId.of(dir, JOB, () -> true))
        .hasMessageContaining("holds 'not an id', not a model id");
  }

  /**
   * An earlier release kept one id per directory: the job takes it over where no other job has
   * checkpoints there (it was this job's, stopped before its first checkpoint), once.
   */
  @Test
  void anEarlierReleasesIdIsTakenOverOnlyWhereNoOtherJobHasCheckpoints() throws Exception {
    String kept = "14d6814132070595";
    Path legacy = dir.resolve(StateDirModelId.LEGACY_FILE);
    Files.writeString(legacy, kept + "\n");
    assertThat(StateDirModelId.of(dir, JOB, () -> false)).isNotEqualTo(kept);
    assertThat(legacy).exists();
    assertThat(StateDirModelId.of(dir, OTHER_JOB, () -> true)).isEqualTo(kept);
    assertThat(legacy).doesNotExist();
    assertThat(StateDirModelId.of(dir, OTHER_JOB, () -> true)).isEqualTo(kept);
  }

  /** A new job in a directory that holds another job's checkpoint does not take the old id. */
  @Test
  void aNewJobBesideAnotherJobsCheckpointDrawsItsOwn() throws Exception {
    String kept = "14d6814132070595";
    Files.writeString(dir.resolve(StateDirModelId.LEGACY_FILE), kept + "\n");
    Path chk =
        Files.createDirectories(dir.resolve("checkpoints").resolve(OTHER_JOB).resolve("chk-4"));
    Files.writeString(chk.resolve("_metadata"), "x");
    org.apache.flink.configuration.Configuration conf = conf(JOB);
    conf.set(
        org.apache.flink.configuration.CheckpointingOptions.CHECKPOINTS_DIRECTORY,
        dir.resolve("checkpoints").toUri().toString());
    RunCommand.keepNewModelId(conf, dir);
    assertThat(conf.get(io.streamrec.job.config.JobOptions.MODEL_ID)).isNotEqualTo(kept);
    assertThat(conf.get(io.streamrec.job.config.JobOptions.MODEL_ID))
        .isEqualTo(StateDirModelId.of(dir, JOB, () -> false));
  }

  private static org.apache.flink.configuration.Configuration conf(String job) {
    org.apache.flink.configuration.Configuration c =
        new org.apache.flink.configuration.Configuration();
    c.set(org.apache.flink.configuration.PipelineOptionsInternal.PIPELINE_FIXED_JOB_ID, job);
    return c;
  }

  /**
   * {@code run --from-handoff} into a new state directory drew an id there too, and the trainer
   * warned that "trainer.model-id … names a new model's lineage", which the user never set.
   */
  @Test
  void aRunFromAHandoffDrawsNoIdOfItsOwn() throws Exception {
    org.apache.flink.configuration.Configuration fromHandoff = conf(JOB);
    fromHandoff.set(io.streamrec.job.config.JobOptions.HANDOFF_START_FROM, "/h/model.handoff");
    RunCommand.keepNewModelId(fromHandoff, dir);
    assertThat(fromHandoff.get(io.streamrec.job.config.JobOptions.MODEL_ID)).isEmpty();
    assertThat(dir.resolve(StateDirModelId.file(JOB))).doesNotExist();

    org.apache.flink.configuration.Configuration fresh = conf(JOB);
    RunCommand.keepNewModelId(fresh, dir);
    assertThat(fresh.get(io.streamrec.job.config.JobOptions.MODEL_ID))
        .isEqualTo(StateDirModelId.of(dir, JOB, () -> true));
  }

  /**
   * A start that resumes a checkpoint of a state directory from before the id was kept there drew
   * one, which named no model: the checkpoint restores its own lineage.
   */
  @Test
  void aStartThatRestoresDrawsNoId() {
    org.apache.flink.configuration.Configuration resuming = conf(JOB);
    resuming.set(
        org.apache.flink.configuration.StateRecoveryOptions.SAVEPOINT_PATH,
        dir.resolve("checkpoints/0a/chk-2").toString());
    RunCommand.keepNewModelId(resuming, dir);
    assertThat(resuming.get(io.streamrec.job.config.JobOptions.MODEL_ID)).isEmpty();
    assertThat(dir.resolve(StateDirModelId.file(JOB))).doesNotExist();
  }

  /**
   * The kept id outlived the checkpoints: after a resume, or under {@code --replace} once the old
   * checkpoints were moved away as the refusal of a resume with {@code --replace} says, a new start
   * took the stopped model's id back, and published nothing until its versions passed that model's
   * on the topic (replicas never switched).
   */
  @Test
  void aResumeForgetsTheKeptIdAndAReplaceDrawsANewOne() {
    org.apache.flink.configuration.Configuration first = conf(JOB);
    RunCommand.keepNewModelId(first, dir);
    String a = first.get(io.streamrec.job.config.JobOptions.MODEL_ID);
    assertThat(dir.resolve(StateDirModelId.file(JOB))).exists();

    org.apache.flink.configuration.Configuration replace = conf(JOB);
    replace.set(io.streamrec.job.config.JobOptions.REPLACE_MODEL, true);
    RunCommand.keepNewModelId(replace, dir);
    String b = replace.get(io.streamrec.job.config.JobOptions.MODEL_ID);
    assertThat(b).isNotBlank().isNotEqualTo(a);
    org.apache.flink.configuration.Configuration again = conf(JOB);
    RunCommand.keepNewModelId(again, dir);
    assertThat(again.get(io.streamrec.job.config.JobOptions.MODEL_ID))
        .as("a restart before the replacement's first checkpoint keeps it")
        .isEqualTo(b);

    org.apache.flink.configuration.Configuration resuming = conf(JOB);
    resuming.set(
        org.apache.flink.configuration.StateRecoveryOptions.SAVEPOINT_PATH,
        dir.resolve("checkpoints/0a/chk-2").toString());
    RunCommand.keepNewModelId(resuming, dir);
    assertThat(dir.resolve(StateDirModelId.file(JOB))).doesNotExist();
    org.apache.flink.configuration.Configuration afterwards = conf(JOB);
    RunCommand.keepNewModelId(afterwards, dir);
    assertThat(afterwards.get(io.streamrec.job.config.JobOptions.MODEL_ID))
        .as("a new start once the checkpoints are gone is a new model")
        .isNotEqualTo(b);
  }

  /**
   * A resume with {@code --from-handoff} still on the command line read the handoff as it built the
   * job, and failed once the file was gone, though the start said it was not used.
   */
  @Test
  void aResumeDoesNotReadTheHandoffANewStartDoes() {
    org.apache.flink.configuration.Configuration resuming = conf(JOB);
    resuming.set(io.streamrec.job.config.JobOptions.HANDOFF_START_FROM, "/gone/model.handoff");
    resuming.set(
        org.apache.flink.configuration.StateRecoveryOptions.SAVEPOINT_PATH,
        dir.resolve("checkpoints/0a/chk-2").toString());
    RunCommand.handoffOnlyForANewStart(resuming);
    assertThat(resuming.get(io.streamrec.job.config.JobOptions.HANDOFF_START_FROM)).isEmpty();

    org.apache.flink.configuration.Configuration fresh = conf(JOB);
    fresh.set(io.streamrec.job.config.JobOptions.HANDOFF_START_FROM, "/h/model.handoff");
    RunCommand.handoffOnlyForANewStart(fresh);
    assertThat(fresh.get(io.streamrec.job.config.JobOptions.HANDOFF_START_FROM))
        .isEqualTo("/h/model.handoff");
  }
}
