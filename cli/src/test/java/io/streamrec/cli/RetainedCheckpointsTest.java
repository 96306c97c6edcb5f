package io.streamrec.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrec.job.config.JobConfig;
import io.streamrec.job.config.JobOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import org.apache.flink.api.common.JobID;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ExternalizedCheckpointRetention;
import org.apache.flink.configuration.JobManagerOptions;
import org.apache.flink.configuration.PipelineOptionsInternal;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.core.execution.RecoveryClaimMode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Where {@code run} checkpoints, which job it is, and which checkpoint a new start resumes. */
class RetainedCheckpointsTest {
  @TempDir Path state;

  private static Configuration job(String group, String topic) {
    Configuration c = new Configuration();
    c.set(JobOptions.BOOTSTRAP_SERVERS, "localhost:9092");
    c.set(JobOptions.GROUP_ID, group);
    c.set(JobOptions.MODEL_UPDATES_TOPIC, topic);
    return c;
  }

  private RetainedCheckpoints.Plan plan(Configuration c) {
    Configuration conf = RetainedCheckpoints.withCheckpointDefaults(c, state);
    return RetainedCheckpoints.plan(conf, JobConfig.from(conf));
  }

  /** A checkpoint directory as Flink leaves it; {@code metadataAtMs} < 0: no _metadata yet. */
  private Path checkpoint(JobID id, String name, long metadataAtMs) throws IOException {
    Path dir = Files.createDirectories(state.resolve("checkpoints").resolve(id.toHexString()));
    return written(dir.resolve(name), metadataAtMs);
  }

  private static Path written(Path dir, long metadataAtMs) throws IOException {
    Files.createDirectories(dir);
    if (metadataAtMs >= 0) {
      Path meta = Files.write(dir.resolve("_metadata"), new byte[] {1, 2, 3});
      Files.setLastModifiedTime(meta, FileTime.fromMillis(metadataAtMs));
    }
    return dir;
  }

  @Test
  void runCheckpointsToTheFileSystemUnderItsStateDirAndKeepsThemOnCancel() {
    Configuration c = RetainedCheckpoints.withCheckpointDefaults(new Configuration(), state);

    assertThat(c.get(CheckpointingOptions.CHECKPOINTING_INTERVAL))
        .isEqualTo(Duration.ofSeconds(30));
    assertThat(c.get(CheckpointingOptions.CHECKPOINT_STORAGE)).isEqualTo("filesystem");
    assertThat(c.get(CheckpointingOptions.CHECKPOINTS_DIRECTORY))
        .isEqualTo(state.resolve("checkpoints").toUri().toString());
    assertThat(c.get(CheckpointingOptions.SAVEPOINT_DIRECTORY))
        .isEqualTo(state.resolve("savepoints").toUri().toString());
    assertThat(c.get(CheckpointingOptions.EXTERNALIZED_CHECKPOINT_RETENTION))
        .isEqualTo(ExternalizedCheckpointRetention.RETAIN_ON_CANCELLATION);
  }

  @Test
  void checkpointSettingsOfTheConfigurationWin() {
    Configuration mine = new Configuration();
    mine.set(CheckpointingOptions.CHECKPOINTING_INTERVAL, Duration.ofMinutes(2));
    mine.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, "s3://bucket/ckpt");

    Configuration c = RetainedCheckpoints.withCheckpointDefaults(mine, state);

    assertThat(c.get(CheckpointingOptions.CHECKPOINTING_INTERVAL)).isEqualTo(Duration.ofMinutes(2));
    assertThat(c.get(CheckpointingOptions.CHECKPOINTS_DIRECTORY)).isEqualTo("s3://bucket/ckpt");
  }

  @Test
  void theLocalFlinksServersListenOnLoopbackUnlessConfigured() {
    Configuration c = RetainedCheckpoints.bindLocally(new Configuration());
    assertThat(c.get(RestOptions.BIND_ADDRESS)).isEqualTo("127.0.0.1");
    assertThat(c.get(JobManagerOptions.BIND_HOST)).isEqualTo("127.0.0.1");

    Configuration open = new Configuration();
    open.set(RestOptions.BIND_ADDRESS, "0.0.0.0");
    assertThat(RetainedCheckpoints.bindLocally(open).get(RestOptions.BIND_ADDRESS))
        .isEqualTo("0.0.0.0");
  }

  @Test
  void theJobIdIsTheSameForTheSameGroupAndModelTopicAndDiffersOtherwise() {
    JobID a = RetainedCheckpoints.jobId(JobConfig.from(job("g", "model-updates")));
    assertThat(RetainedCheckpoints.jobId(JobConfig.from(job("g", "model-updates")))).isEqualTo(a);
    assertThat(RetainedCheckpoints.jobId(JobConfig.from(job("h", "model-updates"))))
        .isNotEqualTo(a);
    assertThat(RetainedCheckpoints.jobId(JobConfig.from(job("g", "other")))).isNotEqualTo(a);

    RetainedCheckpoints.Plan p = plan(job("g", "model-updates"));
    assertThat(p.jobId()).isEqualTo(a);
    assertThat(p.conf().get(PipelineOptionsInternal.PIPELINE_FIXED_JOB_ID))
        .isEqualTo(a.toHexString());
  }

  @Test
  void aFirstStartBeginsANewModel() {
    RetainedCheckpoints.Plan p = plan(job("g", "m"));
    assertThat(p.resumeFrom()).isEmpty();
    assertThat(p.conf().contains(StateRecoveryOptions.SAVEPOINT_PATH)).isFalse();
    assertThat(p.message()).startsWith("starting a new model").doesNotContain("other job");
  }

  /**
   * A start with another kafka.group-id on the same state directory found "no retained checkpoint
   * of this job" and started a new model, not saying that the directory holds another job's.
   */
  @Test
  void aStartThatFindsOnlyAnotherJobsCheckpointsSaysSo() throws IOException {
    checkpoint(RetainedCheckpoints.jobId(JobConfig.from(job("g", "m"))), "chk-5", 1_000);
    RetainedCheckpoints.Plan p = plan(job("renamed", "m"));
    assertThat(p.resumeFrom()).isEmpty();
    assertThat(p.message())
        .startsWith("starting a new model: no retained checkpoint of this job under ")
        .contains(
            " (it holds checkpoints of 1 other job: a job is known by its kafka.group-id and"
                + " topics.model-updates, and a start with either changed is another job)");
  }

  /**
   * With a handoff, a start without state says it goes on from the handoff, not that it starts a
   * new model; a start that resumes its checkpoint says the handoff is not used.
   */
  @Test
  void aHandoffIsWhatAStartWithoutStateGoesOnFromAndNothingElse() throws IOException {
    Configuration c = job("g", "m");
    c.set(JobOptions.HANDOFF_START_FROM, "/models/a.handoff");
    assertThat(plan(c).message())
        .startsWith("going on from the handoff at /models/a.handoff: no retained checkpoint");
    checkpoint(RetainedCheckpoints.jobId(JobConfig.from(c)), "chk-4", 1_000);
    RetainedCheckpoints.Plan resumed = plan(c);
    assertThat(resumed.resumeFrom()).isPresent();
    assertThat(resumed.message())
        .contains("resuming from checkpoint 4")
        .endsWith("the handoff at /models/a.handoff is not used: the job has state of its own");
  }

  @Test
  void aStartResumesFromTheNewestCompleteCheckpointOfItsJobAndClaimsIt() throws IOException {
    JobID id = RetainedCheckpoints.jobId(JobConfig.from(job("g", "m")));
    JobID other = RetainedCheckpoints.jobId(JobConfig.from(job("other", "m")));
    checkpoint(id, "chk-7", 1_000);
    Path newest = checkpoint(id, "chk-8", 2_000);
    checkpoint(id, "chk-9", -1); // not complete: no _metadata
    checkpoint(other, "chk-20", 9_000); // another job's
    Files.createDirectories(
        state.resolve("checkpoints").resolve(id.toHexString()).resolve("shared"));

    RetainedCheckpoints.Plan p = plan(job("g", "m"));

    assertThat(p.resumeFrom()).isPresent();
    assertThat(p.resumeFrom().get().checkpointId()).isEqualTo(8);
    assertThat(Path.of(java.net.URI.create(p.conf().get(StateRecoveryOptions.SAVEPOINT_PATH))))
        .isEqualTo(newest);
    assertThat(p.conf().get(StateRecoveryOptions.RESTORE_MODE)).isEqualTo(RecoveryClaimMode.CLAIM);
    assertThat(p.message()).contains("resuming from checkpoint 8");
  }

  /**
   * A run killed while it wrote checkpoint 9 left chk-9 with part of its files: the next start
   * resumed chk-8, wrote its own checkpoint 9 into that directory and could never delete it. The
   * unfinished checkpoints past the one resumed are removed before the job starts; the one resumed,
   * older ones and other jobs' stay.
   */
  @Test
  void aStartRemovesTheUnfinishedCheckpointsPastTheOneItResumes() throws IOException {
    JobID id = RetainedCheckpoints.jobId(JobConfig.from(job("g", "m")));
    JobID other = RetainedCheckpoints.jobId(JobConfig.from(job("other", "m")));
    checkpoint(id, "chk-6", -1); // unfinished, older than the one resumed
    Path resumed = checkpoint(id, "chk-8", 2_000);
    Path partial = checkpoint(id, "chk-9", -1);
    Files.write(partial.resolve("8c54e6d9-part"), new byte[512]);
    checkpoint(id, "chk-10", -1);
    Path others = checkpoint(other, "chk-20", -1);
    Path shared =
        Files.createDirectories(
            state.resolve("checkpoints").resolve(id.toHexString()).resolve("shared"));

    RetainedCheckpoints.Plan p = plan(job("g", "m"));

    assertThat(RetainedCheckpoints.removeUnfinished(p, state)).containsExactly("chk-10", "chk-9");
    assertThat(partial).doesNotExist();
    assertThat(resumed.resolve("_metadata")).exists();
    assertThat(resumed.resolveSibling("chk-6")).exists();
    assertThat(others).exists();
    assertThat(shared).exists();
    // a checkpoint directory outside the state directory is not this run's to clean
    Path elsewhere = Files.createTempDirectory("elsewhere");
    Configuration outside = job("g", "m");
    outside.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, elsewhere.toUri().toString());
    Path foreign = Files.createDirectories(elsewhere.resolve(id.toHexString()).resolve("chk-3"));
    assertThat(RetainedCheckpoints.removeUnfinished(plan(outside), state)).isEmpty();
    assertThat(foreign).exists();
  }

  @Test
  void aNewerSavepointOfTheJobWinsAndStaysTheUsers() throws IOException {
    JobID id = RetainedCheckpoints.jobId(JobConfig.from(job("g", "m")));
    checkpoint(id, "chk-3", 1_000);
    Path savepoints = state.resolve("savepoints");
    Path sp =
        written(
            savepoints.resolve("savepoint-" + id.toHexString().substring(0, 6) + "-ab12"), 5_000);
    written(savepoints.resolve("savepoint-ffffff-cd34"), 8_000); // another job's

    RetainedCheckpoints.Plan p = plan(job("g", "m"));

    assertThat(p.resumeFrom().get().savepoint()).isTrue();
    assertThat(Path.of(java.net.URI.create(p.conf().get(StateRecoveryOptions.SAVEPOINT_PATH))))
        .isEqualTo(sp);
    assertThat(p.conf().contains(StateRecoveryOptions.RESTORE_MODE)).isFalse();
  }

  @Test
  void aRestorePathTheUserGivesIsKept() throws IOException {
    JobID id = RetainedCheckpoints.jobId(JobConfig.from(job("g", "m")));
    checkpoint(id, "chk-3", 1_000);
    Path elsewhere = Files.createDirectories(state.resolve("elsewhere").resolve("chk-1"));
    Configuration c = job("g", "m");
    c.set(StateRecoveryOptions.SAVEPOINT_PATH, elsewhere.toUri().toString());

    RetainedCheckpoints.Plan p = plan(c);

    assertThat(p.resumeFrom()).isEmpty();
    assertThat(p.conf().get(StateRecoveryOptions.SAVEPOINT_PATH))
        .isEqualTo(elsewhere.toUri().toString());
    // one on another file system is Flink's to read
    Configuration remote = job("g", "m");
    remote.set(StateRecoveryOptions.SAVEPOINT_PATH, "s3://bucket/chk-1");
    assertThat(plan(remote).conf().get(StateRecoveryOptions.SAVEPOINT_PATH))
        .isEqualTo("s3://bucket/chk-1");
  }

  /**
   * A restore path older than the job's newest checkpoint (its own savepoint, an older checkpoint)
   * restored into the same state directory: Flink's first checkpoints of the restored job hit
   * "chk-79/_metadata already exists", failed, deleted the newer checkpoints in failing, and the
   * job restarted for ever. It is refused, saying what to do; with the newer ones moved out it
   * goes.
   */
  @Test
  void aRestorePathOlderThanTheJobsNewestCheckpointIsRefused() throws IOException {
    JobID id = RetainedCheckpoints.jobId(JobConfig.from(job("g", "m")));
    Path older = checkpoint(id, "chk-14", 1_000);
    Path savepoint =
        written(
            state.resolve("savepoints").resolve("savepoint-" + id.toHexString().substring(0, 6)),
            2_000);
    Path newest = checkpoint(id, "chk-17", 3_000);
    for (Path back : java.util.List.of(older, savepoint)) {
      Configuration c = job("g", "m");
      c.set(StateRecoveryOptions.SAVEPOINT_PATH, back.toString());
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> plan(c))
          .isInstanceOf(io.streamrec.common.StreamrecException.class)
          .hasMessageContaining("older than checkpoint 17 at ")
          .hasMessageContaining("Move the newer chk-N directories out of ");
    }
    // the newest itself, named, goes; so does an older one once the newer are moved out
    Configuration same = job("g", "m");
    same.set(StateRecoveryOptions.SAVEPOINT_PATH, newest.toString());
    assertThat(plan(same).message()).startsWith("restoring from " + newest);
    io.streamrec.common.Directories.deleteRecursively(newest);
    Configuration back = job("g", "m");
    back.set(StateRecoveryOptions.SAVEPOINT_PATH, older.toString());
    assertThat(plan(back).message()).startsWith("restoring from " + older);
  }

  /** A restore path that is not there failed the job's submission with a page of trace. */
  @Test
  void aRestorePathThatIsNotThereIsSaidInOneLine() {
    for (String missing :
        java.util.List.of(
            state.resolve("nope").resolve("chk-3").toString(),
            state.resolve("nope").resolve("chk-3").toUri().toString())) {
      Configuration c = job("g", "m");
      c.set(StateRecoveryOptions.SAVEPOINT_PATH, missing);
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> plan(c))
          .isInstanceOf(io.streamrec.common.StreamrecException.class)
          .hasMessageStartingWith(
              "execution.state-recovery.path names " + missing + ", which does not exist");
    }
  }

  @Test
  void replacingTheModelStartsANewOneInsteadOfResuming() throws IOException {
    Configuration conf = RetainedCheckpoints.withCheckpointDefaults(job("g", "m"), state);
    JobConfig cfg = JobConfig.from(conf);
    conf.set(JobOptions.REPLACE_MODEL, true);

    RetainedCheckpoints.Plan p = RetainedCheckpoints.plan(conf, cfg);

    assertThat(p.resumeFrom()).isEmpty();
    assertThat(p.conf().contains(StateRecoveryOptions.SAVEPOINT_PATH)).isFalse();
    // a new model under the replaced one's group reads on from where that job stopped: none of the
    // history, which the line said nothing of
    assertThat(p.message())
        .startsWith("starting a new model (trainer.replace-model)")
        .endsWith(
            "; it reads the topics from where consumer group 'g' stands (their start where the"
                + " group has committed nothing)");
  }

  /**
   * A new model (--replace) in a state directory that holds the old model's checkpoints numbered
   * its own from 1 there: at the first number the old one retained, Flink failed to write it
   * ("_metadata already exists") and the job failed over, again and again.
   */
  @Test
  void replacingTheModelOnADirectoryOfTheOldModelsCheckpointsIsRefused() throws IOException {
    JobID id = RetainedCheckpoints.jobId(JobConfig.from(job("g", "m")));
    checkpoint(id, "chk-3", 1_000);
    Configuration conf = RetainedCheckpoints.withCheckpointDefaults(job("g", "m"), state);
    JobConfig cfg = JobConfig.from(conf);
    conf.set(JobOptions.REPLACE_MODEL, true);

    org.assertj.core.api.Assertions.assertThatThrownBy(() -> RetainedCheckpoints.plan(conf, cfg))
        .isInstanceOf(io.streamrec.common.StreamrecException.class)
        .hasMessageStartingWith("--replace starts a new model, and ")
        .hasMessageContaining("checkpoint 3 at ")
        .hasMessageContaining("give this run another --state-dir");
  }
}
