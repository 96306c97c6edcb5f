package io.streamrec.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * What {@code run} says when its job was stopped with a savepoint: before, it ended after its last
 * progress line without a word. The savepoint in the state directory is covered end to end by
 * {@code FaultDrillITCase}; here the savepoint taken elsewhere (a stop request naming a directory
 * of its own), which a start on the state directory does not find.
 */
class RunMessagesTest {
  private static final Path STATE = Path.of("/data/streamrec-state");
  private static final String SAVEPOINTS = "file:/data/streamrec-state/savepoints";
  private static final long SUBMITTED = 1_767_225_600_000L;

  @Test
  void aSavepointInTheStateDirectoryIsWhatAStartResumes() {
    var savepoint =
        new RetainedCheckpoints.Retained(
            "file:/data/streamrec-state/savepoints/savepoint-1a2b3c-0123456789ab",
            true,
            12,
            SUBMITTED + 60_000);
    assertThat(RunCommand.savepointStopLine(Optional.of(savepoint), STATE, SAVEPOINTS, SUBMITTED))
        .isEqualTo(
            "streamrec run: the job was stopped with a savepoint (Flink's stop); started again with"
                + " --state-dir /data/streamrec-state, it resumes from that savepoint,"
                + " file:/data/streamrec-state/savepoints/savepoint-1a2b3c-0123456789ab");
  }

  @Test
  void aSavepointTakenElsewhereIsNotWhatAStartResumesAndTheLineSaysHowToNameIt() {
    var checkpoint =
        new RetainedCheckpoints.Retained(
            "file:/data/streamrec-state/checkpoints/0a1b/chk-7", false, 7, 0);
    assertThat(RunCommand.savepointStopLine(Optional.of(checkpoint), STATE, SAVEPOINTS, SUBMITTED))
        .isEqualTo(
            "streamrec run: the job was stopped with a savepoint (Flink's stop); started again with"
                + " --state-dir /data/streamrec-state, it resumes from checkpoint 7 at"
                + " file:/data/streamrec-state/checkpoints/0a1b/chk-7 (this stop's savepoint is not in"
                + " file:/data/streamrec-state/savepoints: give it with -D"
                + " execution.state-recovery.path=... to resume from it)");
    assertThat(RunCommand.savepointStopLine(Optional.empty(), STATE, SAVEPOINTS, SUBMITTED))
        .contains(
            "--state-dir /data/streamrec-state, it finds no checkpoint of this job (this stop's"
                + " savepoint is not in");
  }

  /**
   * The newest savepoint in the state directory, where this stop's went elsewhere, is an earlier
   * stop's: the line called it "that savepoint", as if it were the one just taken.
   */
  @Test
  void anEarlierStopsSavepointIsNotCalledThisStopsOne() {
    var earlier =
        new RetainedCheckpoints.Retained(
            "file:/data/streamrec-state/savepoints/savepoint-1a2b3c-aaaaaaaaaaaa",
            true,
            5,
            SUBMITTED - 3_600_000);
    assertThat(RunCommand.savepointStopLine(Optional.of(earlier), STATE, SAVEPOINTS, SUBMITTED))
        .contains(
            "it resumes from savepoint file:/data/streamrec-state/savepoints/savepoint-1a2b3c")
        .doesNotContain("that savepoint")
        .contains("(this stop's savepoint is not in file:/data/streamrec-state/savepoints");
  }

  /**
   * A run stopped before its first checkpoint completed said that started again it begins a new
   * model, also where it went on from a handoff (--from-handoff, which a start without a checkpoint
   * reads again) or restored a path it was given (execution.state-recovery.path, which the same
   * options restore again): neither begins a new model.
   */
  @Test
  void aStopBeforeAnyCheckpointSaysWhatAStartAgainGoesOnFrom() {
    org.apache.flink.configuration.Configuration conf =
        new org.apache.flink.configuration.Configuration();
    assertThat(RunCommand.stoppingLine(STATE, conf, false))
        .isEqualTo(
            "streamrec run: stopping: cancelling the job; no checkpoint has completed, so started"
                + " again it begins a new model");

    org.apache.flink.configuration.Configuration handoff =
        new org.apache.flink.configuration.Configuration();
    handoff.set(io.streamrec.job.config.JobOptions.HANDOFF_START_FROM, "/data/backfill.handoff");
    assertThat(RunCommand.stoppingLine(STATE, handoff, false))
        .isEqualTo(
            "streamrec run: stopping: cancelling the job; no checkpoint has completed, so started"
                + " again it goes on from the handoff at /data/backfill.handoff again");

    org.apache.flink.configuration.Configuration restore =
        new org.apache.flink.configuration.Configuration();
    restore.set(
        org.apache.flink.configuration.StateRecoveryOptions.SAVEPOINT_PATH,
        "file:/data/savepoints/savepoint-1a2b3c-0123456789ab");
    assertThat(RunCommand.stoppingLine(STATE, restore, false))
        .isEqualTo(
            "streamrec run: stopping: cancelling the job; no checkpoint has completed, so started"
                + " again with the same options it restores from"
                + " file:/data/savepoints/savepoint-1a2b3c-0123456789ab again");
  }
}
