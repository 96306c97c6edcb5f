package io.streamrec.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * A second {@code streamrec run} on a state directory in use stops before it starts anything,
 * naming the directory and the process that has it. Before, it resumed the same checkpoint as the
 * first, which then deleted it on its next checkpoint: the second failed with Flink's "Cannot find
 * checkpoint or savepoint file/directory" and its stack traces, or, started between two
 * checkpoints, ran beside the first and published the same versions again.
 */
class DirectoryLockTest {
  @TempDir Path dir;

  private static int run(Path stateDir, StringWriter err) {
    CommandLine cl = StreamrecCli.commandLine();
    cl.setErr(new PrintWriter(err, true));
    cl.setOut(new PrintWriter(new StringWriter(), true));
    // nothing listens on port 1: a run that went past the lock would fail on Kafka, otherwise
    return cl.execute(
        "run", "--bootstrap-servers", "localhost:1", "--state-dir", stateDir.toString());
  }

  @Test
  void aSecondRunOnAStateDirectoryInUseIsRefusedNamingTheHolder() throws Exception {
    Path state = dir.resolve("state");
    StringWriter err = new StringWriter();
    try (DirectoryLock held = DirectoryLock.ofStateDir(state)) {
      assertThat(run(state, err)).isEqualTo(2);
    }
    assertThat(err.toString())
        .contains("streamrec run: another streamrec run (process " + ProcessHandle.current().pid())
        .contains("uses the state directory " + state.toAbsolutePath())
        .contains("another --state-dir");
  }

  @Test
  void theDirectoryIsFreeOnceItsHolderLetsGo() throws Exception {
    Path state = dir.resolve("state");
    DirectoryLock.ofStateDir(state).close();
    try (DirectoryLock again = DirectoryLock.ofStateDir(state)) {
      assertThat(state.resolve(DirectoryLock.STATE_DIR_FILE)).exists();
    }
  }
}
