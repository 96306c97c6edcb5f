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

  @Test
  void aSavepointInTheStateDirectoryIsWhatAStartResumes() {
    var savepoint =
        new RetainedCheckpoints.Retained(
            "file:/data/streamrec-state/savepoints/savepoint-1a2b3c-0123456789ab", true, 12, 0);
    assertThat(RunCommand.savepointStopLine(Optional.of(savepoint), STATE, SAVEPOINTS))
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
    assertThat(RunCommand.savepointStopLine(Optional.of(checkpoint), STATE, SAVEPOINTS))
        .isEqualTo(
            "streamrec run: the job was stopped with a savepoint (Flink's stop); started again with"
                + " --state-dir /data/streamrec-state, it resumes from checkpoint 7 at"
                + " file:/data/streamrec-state/checkpoints/0a1b/chk-7 (the savepoint is not in"
                + " file:/data/streamrec-state/savepoints: give it with -D"
                + " execution.state-recovery.path=... to resume from it)");
    assertThat(RunCommand.savepointStopLine(Optional.empty(), STATE, SAVEPOINTS))
        .contains(
            "--state-dir /data/streamrec-state, it finds no checkpoint of this job (the savepoint is"
                + " not in");
  }
}
