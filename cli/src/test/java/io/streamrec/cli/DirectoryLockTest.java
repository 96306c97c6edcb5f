package io.streamrec.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
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

  /**
   * A second take in the process that holds the directory was refused, but the refusal closed a
   * channel of the lock file, and closing any channel of a file releases the process's lock on it:
   * the holder went on holding nothing, and another process could take the directory.
   */
  @Test
  void aRefusalInTheHoldingProcessLeavesTheHolderItsLock() throws Exception {
    Path state = dir.resolve("state");
    Path file = state.resolve(DirectoryLock.STATE_DIR_FILE);
    try (DirectoryLock held = DirectoryLock.ofStateDir(state)) {
      StringWriter err = new StringWriter();
      assertThat(run(state, err)).isEqualTo(2);
      assertThat(err.toString()).contains("another streamrec run (process ");
      assertThat(anotherProcessTakes(file)).as("another process takes the held lock").isFalse();
    }
    assertThat(anotherProcessTakes(file)).as("another process takes the released lock").isTrue();
  }

  /**
   * A lock closed twice left a later holder of the directory without its entry, and so its lock.
   */
  @Test
  void aSecondCloseLeavesALaterHolderItsLock() throws Exception {
    Path state = dir.resolve("state");
    DirectoryLock first = DirectoryLock.ofStateDir(state);
    first.close();
    try (DirectoryLock later = DirectoryLock.ofStateDir(state)) {
      first.close();
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> DirectoryLock.ofStateDir(state))
          .hasMessageContaining(", this one)");
      assertThat(anotherProcessTakes(state.resolve(DirectoryLock.STATE_DIR_FILE))).isFalse();
    }
  }

  /** Whether a process of its own takes the operating system's lock of {@code file}. */
  private boolean anotherProcessTakes(Path file) throws Exception {
    Path probe =
        java.nio.file.Files.writeString(
            dir.resolve("Probe.java"),
            "import java.nio.channels.FileChannel;\n"
                + "import java.nio.file.*;\n"
                + "public class Probe {\n"
                + "  public static void main(String[] a) throws Exception {\n"
                + "    try (FileChannel ch = FileChannel.open(Path.of(a[0]),"
                + " StandardOpenOption.WRITE)) {\n"
                + "      System.out.print(ch.tryLock() != null);\n"
                + "    }\n"
                + "  }\n"
                + "}\n");
    String java = ProcessHandle.current().info().command().orElse("java");
    Process p =
        new ProcessBuilder(java, probe.toString(), file.toString())
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    assertThat(p.waitFor()).as(out).isZero();
    return Boolean.parseBoolean(out);
  }
}
