package io.streamrec.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

/**
 * A typo in one of streamrec's keys, given to a command that runs the job, stops it before it
 * starts anything, naming the key and the one it likely meant; before, {@code run}, {@code
 * backfill} and {@code demo} ran with the default in its place (as the job's own entry, {@code
 * JobMain}, already refused it). The broker address is one nothing listens on: a command that went
 * past the check would fail later, and otherwise.
 */
class UnknownKeyTest {
  @TempDir Path dir;

  @ParameterizedTest
  @ValueSource(strings = {"run", "backfill", "demo"})
  void aCommandThatRunsTheJobRefusesAnUnknownKeyNamingTheLikelyOne(String command)
      throws Exception {
    String err = refusal(command, "model.embeding-dim=8");
    assertThat(err)
        .contains("streamrec " + command + ": unknown configuration key 'model.embeding-dim'")
        .contains("did you mean 'model.embedding-dim'?");
  }

  /**
   * A checkpoint interval of 0 (as if to turn checkpoints off) was refused in Flink's words, which
   * name no key, after the brokers had been reached (run and backfill).
   */
  @ParameterizedTest
  @ValueSource(strings = {"run", "backfill", "demo"})
  void aCommandThatRunsTheJobRefusesACheckpointIntervalOfZeroByTheKeysName(String command)
      throws Exception {
    assertThat(refusal(command, "execution.checkpointing.interval=0"))
        .contains(
            "streamrec "
                + command
                + ": configuration key 'execution.checkpointing.interval' is 0 ms: Flink takes 10 ms or"
                + " more");
  }

  /** What {@code command} with {@code -D keyValue} writes to stderr; it must exit with 2. */
  private String refusal(String command, String keyValue) throws Exception {
    Path config = Files.writeString(dir.resolve("c.yaml"), "model:\n  embedding-dim: 8\n");
    StringWriter err = new StringWriter();
    CommandLine cl = StreamrecCli.commandLine();
    cl.setErr(new PrintWriter(err, true));
    cl.setOut(new PrintWriter(new StringWriter(), true));
    List<String> args = new ArrayList<>(List.of(command));
    if (command.equals("demo")) {
      args.addAll(List.of("--duration", "1s"));
    } else {
      args.addAll(List.of("--bootstrap-servers", "localhost:1", "--config", config.toString()));
    }
    if (command.equals("run")) {
      args.addAll(List.of("--state-dir", dir.resolve("state").toString()));
    }
    args.addAll(List.of("-D", keyValue));

    int rc = cl.execute(args.toArray(String[]::new));

    assertThat(rc).as(err.toString()).isEqualTo(2);
    return err.toString();
  }
}
