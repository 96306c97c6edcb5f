package io.streamrec.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import org.junit.jupiter.api.Test;
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

  /**
   * The demo runs on a broker of its own: it took {@code --bootstrap-servers} (and {@code -D
   * kafka.bootstrap-servers}) from the shared options and ran on its own broker anyway, so a user's
   * topics stayed empty and the demo's records went with its broker. The options that name another
   * broker are not the demo's, and the key is refused with what to run instead.
   */
  @ParameterizedTest
  @ValueSource(strings = {"--bootstrap-servers=localhost:1", "--command-config=client.properties"})
  void theDemoTakesNoOtherBroker(String option) {
    StringWriter err = new StringWriter();
    CommandLine cl = StreamrecCli.commandLine();
    cl.setErr(new PrintWriter(err, true));
    cl.setOut(new PrintWriter(new StringWriter(), true));

    assertThat(cl.execute("demo", option)).isEqualTo(2);
    assertThat(err.toString()).contains("Unknown option: '" + option.split("=")[0]);
    assertThat(cl.getSubcommands().get("demo").getUsageMessage())
        .doesNotContain("--bootstrap-servers")
        .doesNotContain("--command-config")
        .contains("--config");

    err.getBuffer().setLength(0);
    assertThat(cl.execute("demo", "-D", "kafka.bootstrap-servers=broker-1:9092")).isEqualTo(2);
    assertThat(err.toString())
        .contains("the demo runs on a Kafka broker of its own, not on broker-1:9092")
        .contains("streamrec run --bootstrap-servers broker-1:9092");
  }

  /**
   * {@code demo -D assembler.join-window=500ms} started the broker and the job, then failed with
   * the traffic generator's trace ({@code keep TrafficConfig.impressionDelayMaxMs below
   * FaultConfig.joinWindowMs}). A window the demo's traffic does not fit is refused before anything
   * starts, in the key's terms.
   */
  @Test
  void theDemoRefusesAJoinWindowItsTrafficDoesNotFitBeforeAnythingStarts() {
    StringWriter err = new StringWriter();
    StringWriter out = new StringWriter();
    CommandLine cl = StreamrecCli.commandLine();
    cl.setErr(new PrintWriter(err, true));
    cl.setOut(new PrintWriter(out, true));

    assertThat(cl.execute("demo", "-D", "assembler.join-window=500ms")).isEqualTo(2);
    assertThat(err.toString())
        .contains(
            "the demo's traffic sends impressions up to 1000 ms after their requests, and"
                + " assembler.join-window is 500 ms: give the demo a join window longer than 1000"
                + " ms (the default is 10 s)");
    assertThat(out.toString()).doesNotContain("starting an embedded Kafka broker");
    DemoCommand.refuseAJoinWindowTheTrafficOutlasts(
        parseDemo("-D", "assembler.join-window=1001ms").settings.configuration());
  }

  /**
   * A rate that is not a number ran the demo sending nothing and ended in a stack trace, an
   * infinite one drew requests into memory for ever, and a user count of 0 or a fault rate past 1
   * were refused only once the broker and the job had started, after half a minute. Each is refused
   * before anything starts, naming the option.
   */
  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.CsvSource(
      delimiter = '|',
      value = {
        "--rate NaN|--rate must be a number > 0",
        "--rate Infinity|--rate must be a number > 0",
        "--users 0|--users",
        "--items 3|--items",
        "--fault-rate 2|--fault-rate"
      })
  @org.junit.jupiter.api.Timeout(
      value = 60,
      threadMode = org.junit.jupiter.api.Timeout.ThreadMode.SEPARATE_THREAD)
  void theDemoRefusesTrafficItCannotSendBeforeAnythingStarts(String args, String says) {
    StringWriter err = new StringWriter();
    CommandLine cl = StreamrecCli.commandLine();
    cl.setErr(new PrintWriter(err, true));
    cl.setOut(new PrintWriter(new StringWriter(), true));

    long t0 = System.currentTimeMillis();
    int rc = cl.execute(("demo --duration 2s " + args).split(" "));

    assertThat(rc).as(err.toString()).isEqualTo(2);
    assertThat(err.toString()).contains(says).doesNotContain("\tat ");
    assertThat(System.currentTimeMillis() - t0)
        .as("refused before the broker starts")
        .isLessThan(5_000);
  }

  /**
   * {@code demo} with a model of features or labels of one's own trained them as empty bags and 0s:
   * refused before anything starts, naming them; a model of some of the traffic's features runs.
   */
  @Test
  void theDemoRefusesAModelOfFeaturesItsTrafficDoesNotSend() {
    StringWriter err = new StringWriter();
    StringWriter out = new StringWriter();
    CommandLine cl = StreamrecCli.commandLine();
    cl.setErr(new PrintWriter(err, true));
    cl.setOut(new PrintWriter(out, true));
    assertThat(
            cl.execute(
                "demo",
                "-D",
                "model.features.request.categorical=user_id;device",
                "-D",
                "model.labels=click;purchase"))
        .isEqualTo(2);
    assertThat(err.toString())
        .contains(
            "the model reads request categorical 'device', label 'purchase', which the demo's"
                + " traffic does not send");
    assertThat(out.toString()).doesNotContain("starting an embedded Kafka broker");
    // the traffic's names on another side, of another kind, or as a label
    for (List<String> moved :
        List.of(
            List.of("model.labels=item_cat", "label 'item_cat'"),
            List.of(
                "model.features.impression.categorical=item_id;item_cat;country",
                "impression categorical 'country'"),
            List.of(
                "model.features.request.categorical=user_id;recent_items",
                "model.features.request.dense=hour;country",
                "request dense 'country'"))) {
      List<String> args = new java.util.ArrayList<>();
      moved.subList(0, moved.size() - 1).forEach(d -> args.addAll(List.of("-D", d)));
      assertThatThrownBy(
              () ->
                  DemoCommand.refuseFeaturesTheTrafficLacks(
                      parseDemo(args.toArray(String[]::new)).settings.configuration()))
          .as(moved.toString())
          .hasMessageStartingWith("the model reads " + moved.get(moved.size() - 1) + ", which");
    }
    DemoCommand.refuseFeaturesTheTrafficLacks(
        parseDemo("-D", "model.features.request.categorical=user_id;country")
            .settings
            .configuration());
    DemoCommand.refuseFeaturesTheTrafficLacks(parseDemo().settings.configuration());
  }

  /**
   * {@code demo --config examples/streamrec.yaml}, the one example file, was refused for the broker
   * it names. The file's broker, client settings and storage places are left out, with a line
   * saying so, and its other settings apply; {@code -D kafka.bootstrap-servers} is still refused
   * (above).
   */
  @Test
  void theDemoTakesAConfigurationFileLeavingOutItsBrokerAndPlaces(
      @org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
    java.nio.file.Path file =
        java.nio.file.Files.writeString(
            dir.resolve("c.yaml"),
            "kafka.bootstrap-servers: broker-1:9092\n"
                + "properties.security.protocol: SASL_SSL\n"
                + "execution.checkpointing.dir: s3://prod/checkpoints\n"
                + "execution.savepoint.path: s3://prod/savepoints/sp-1\n"
                + "model.embedding-dim: 8\n");
    DemoCommand demo = parseDemo("--config", file.toString());
    org.apache.flink.configuration.Configuration given = demo.settings.configuration();

    assertThat(DemoCommand.withoutTheFilesPlaces(given, demo.settings))
        .isEqualTo(
            "streamrec demo: "
                + file
                + " names a broker or places of your own, left out (execution.checkpointing.dir,"
                + " execution.savepoint.path, kafka.bootstrap-servers broker-1:9092,"
                + " properties.security.protocol): the"
                + " demo runs on a Kafka broker of its own and keeps its state in a temporary"
                + " directory; the file's other settings apply");
    DemoCommand.refuseOtherBroker(given);
    DemoCommand.refuseAJoinWindowTheTrafficOutlasts(given);
    assertThat(given.toMap())
        .doesNotContainKeys(
            "kafka.bootstrap-servers",
            "properties.security.protocol",
            "execution.checkpointing.dir",
            "execution.savepoint.path")
        .containsEntry("model.embedding-dim", "8");
    assertThat(DemoCommand.withoutTheFilesPlaces(given, demo.settings)).isNull();

    // a secured cluster's file names no broker (given with --bootstrap-servers to run): its client
    // settings are left out all the same
    java.nio.file.Path secured =
        java.nio.file.Files.writeString(
            dir.resolve("s.yaml"), "properties.security.protocol: SASL_SSL\n");
    DemoCommand other = parseDemo("--config", secured.toString());
    org.apache.flink.configuration.Configuration c = other.settings.configuration();
    assertThat(DemoCommand.withoutTheFilesPlaces(c, other.settings))
        .contains("left out (properties.security.protocol)");
    assertThat(c.toMap()).doesNotContainKey("properties.security.protocol");
  }

  private static DemoCommand parseDemo(String... args) {
    List<String> all = new java.util.ArrayList<>(List.of("demo"));
    all.addAll(List.of(args));
    return (DemoCommand)
        StreamrecCli.commandLine()
            .parseArgs(all.toArray(String[]::new))
            .subcommand()
            .commandSpec()
            .userObject();
  }

  /** A --state-dir that is a file printed a stack trace of twenty frames. */
  @Test
  void aStateDirThatIsAFileIsSaidInWords(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
      throws Exception {
    java.nio.file.Path file = java.nio.file.Files.writeString(dir.resolve("state"), "x");
    StringWriter err = new StringWriter();
    CommandLine cl = StreamrecCli.commandLine();
    cl.setErr(new PrintWriter(err, true));
    cl.setOut(new PrintWriter(new StringWriter(), true));
    int rc =
        cl.execute("run", "--bootstrap-servers", "localhost:1", "--state-dir", file.toString());
    assertThat(rc).isEqualTo(2);
    assertThat(err.toString())
        .startsWith("streamrec run: cannot use " + file)
        .contains("a file is there where a directory is needed")
        .doesNotContain("\tat ");
  }
}
