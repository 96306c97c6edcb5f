package io.streamrec.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

/**
 * A command takes only the options that mean something to it: {@code produce}, which trains
 * nothing, once also took {@code --backend} and {@code --replace} (and listed them in its help) and
 * ignored them.
 */
class CommandOptionsTest {
  @ParameterizedTest
  @ValueSource(strings = {"--backend=cpu", "--replace"})
  void produceRefusesTheOptionsOfTheCommandsThatTrain(String option) {
    StringWriter err = new StringWriter();
    CommandLine cl = StreamrecCli.commandLine();
    cl.setErr(new PrintWriter(err, true));
    cl.setOut(new PrintWriter(new StringWriter(), true));

    int rc =
        cl.execute(
            "produce", "--bootstrap-servers", "localhost:1", "--requests", "r.jsonl", option);

    assertThat(rc).isEqualTo(2);
    assertThat(err.toString()).contains("Unknown option: '" + option.split("=")[0]);
    assertThat(cl.getSubcommands().get("produce").getUsageMessage())
        .doesNotContain("--backend")
        .doesNotContain("--replace")
        .contains("--bootstrap-servers")
        .contains("--command-config");
  }

  @ParameterizedTest
  @ValueSource(strings = {"run", "backfill", "demo"})
  void theCommandsThatTrainTakeTheBackendAndReplace(String command) {
    assertThat(StreamrecCli.commandLine().getSubcommands().get(command).getUsageMessage())
        .contains("--backend")
        .contains("--replace")
        .contains("--config");
  }
}
