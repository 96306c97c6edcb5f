package io.streamrec.serving;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.streamrec.serving.http.ScoringServer;
import io.streamrec.serving.internal.ServeDurations;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class ServeOptionsTest {
  @Test
  void durationsReadAsTheOtherCommandsWriteThem() {
    ServeDurations d = new ServeDurations();
    assertThat(d.convert("500ms")).isEqualTo(Duration.ofMillis(500));
    assertThat(d.convert("30s")).isEqualTo(Duration.ofSeconds(30));
    assertThat(d.convert("5min")).isEqualTo(Duration.ofMinutes(5));
    assertThat(d.convert("2 h")).isEqualTo(Duration.ofHours(2));
    assertThat(d.convert("7")).isEqualTo(Duration.ofSeconds(7));
    assertThatThrownBy(() -> d.convert("soon"))
        .isInstanceOf(CommandLine.TypeConversionException.class)
        .hasMessageContaining("'soon'");
  }

  /** It used to name all three bounds whichever was broken: "threads (0) must be >= 1, ...". */
  @Test
  void aBadLimitIsNamedAloneWithItsValue() {
    ScoringServer.Settings s =
        ScoringServer.Settings.defaults(new InetSocketAddress("127.0.0.1", 0));
    assertThatThrownBy(() -> s.withLimits(0, 1 << 20, 1000, 1000))
        .hasMessage("threads must be >= 1, got 0");
    assertThatThrownBy(() -> s.withLimits(4, 10, 0, 1000))
        .hasMessage("max request bytes must be >= 64, got 10; max impressions must be >= 1, got 0");
    assertThatThrownBy(() -> s.withLimits(4, 1 << 20, 1000, 0))
        .hasMessage("max ids per feature must be >= 1, got 0");
  }

  @Test
  void theTokenIsNeverPrintedWithTheSettings() {
    ScoringServer.Settings s =
        ScoringServer.Settings.defaults(new InetSocketAddress("127.0.0.1", 0))
            .withToken("very-secret-value");
    assertThat(s.token()).isEqualTo("very-secret-value");
    assertThat(s.toString()).doesNotContain("very-secret-value").contains("token=(set)");
    assertThatThrownBy(() -> s.withToken(" ")).hasMessageContaining("empty");
  }

  @Test
  void serveListensOnThisMachineOnlyUnlessToldOtherwise() {
    ServeCommand serve = new ServeCommand();
    new CommandLine(serve).parseArgs("--bootstrap-servers", "localhost:1");
    assertThat(serve.bind).isEqualTo("127.0.0.1");
    assertThat(new InetSocketAddress(serve.bind, 0).getAddress().isLoopbackAddress()).isTrue();
    assertThat(serve.maxStaleness).isEqualTo(Duration.ZERO);
  }

  @Test
  void anEmptyOrMissingTokenFileIsRefusedNamingIt(@TempDir Path dir) throws Exception {
    Path empty = Files.writeString(dir.resolve("token"), "\n");
    for (Path file : new Path[] {empty, dir.resolve("missing")}) {
      ServeCommand serve = new ServeCommand();
      new CommandLine(serve)
          .parseArgs(
              "--bootstrap-servers", "localhost:1", "--port", "0", "--token-file", file.toString());
      assertThatThrownBy(() -> serve.start(null))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("--token-file " + file + (file == empty ? " is empty" : ": no such file"));
    }
  }

  /**
   * A token of spaces in the environment (a Secret's value gone wrong) served without a token,
   * saying nothing but an INFO line.
   */
  @Test
  void aBlankTokenInTheEnvironmentIsRefused() {
    ServeCommand serve = new ServeCommand();
    new CommandLine(serve).parseArgs("--bootstrap-servers", "localhost:1", "--port", "0");
    assertThatThrownBy(() -> serve.start("   "))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("STREAMREC_SERVE_TOKEN is set but blank");
  }

  /** A port another process holds printed java.net.BindException and a page of trace. */
  @Test
  void aPortInUseIsSaidWithTheAddress() throws Exception {
    try (java.net.ServerSocket taken =
        new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      ServeCommand serve = new ServeCommand();
      new CommandLine(serve)
          .parseArgs(
              "--bootstrap-servers",
              "localhost:1",
              "--port",
              Integer.toString(taken.getLocalPort()));
      assertThatThrownBy(() -> serve.start(null))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageStartingWith("cannot listen on 127.0.0.1:" + taken.getLocalPort() + ": ")
          .hasMessageContaining("another process holds the port");
    }
  }

  /** {@code --bootstrap-servers} was required: a replica configured by its job's file had none. */
  @Test
  void theJobsConfigurationFileGivesWhatTheCommandLineDoesNot() {
    JobConnection file =
        new JobConnection(
            "from-file:9092",
            "file-model",
            io.streamrec.common.KafkaClientProperties.of(
                java.util.Map.of("security.protocol", "SASL_SSL", "client.rack", "a")));
    ServeCommand serve = new ServeCommand(f -> file);
    new CommandLine(serve)
        .parseArgs("--config", "job.yaml", "-D", "properties.client.rack=b", "--port", "0");
    assertThat(serve.connection().bootstrapServers()).isEqualTo("from-file:9092");
    assertThat(serve.connection().modelUpdatesTopic()).isEqualTo("file-model");
    assertThat(serve.connection().client().asMap())
        .containsEntry("security.protocol", "SASL_SSL")
        .containsEntry("client.rack", "b");

    ServeCommand given = new ServeCommand(f -> file);
    new CommandLine(given)
        .parseArgs(
            "--config", "job.yaml", "--bootstrap-servers", "given:9092", "--topic", "given-model");
    assertThat(given.connection().bootstrapServers()).isEqualTo("given:9092");
    assertThat(given.connection().modelUpdatesTopic()).isEqualTo("given-model");
  }

  @Test
  void withoutABrokerAnywhereServeSaysWhatToGive() {
    ServeCommand none = new ServeCommand();
    new CommandLine(none).parseArgs("--port", "0");
    assertThatThrownBy(none::connection)
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("give the broker: --bootstrap-servers HOST:PORT, or --config");
    ServeCommand plain = new ServeCommand();
    new CommandLine(plain).parseArgs("--bootstrap-servers", "b:1");
    assertThat(plain.connection().modelUpdatesTopic()).isEqualTo("model-updates");

    ServeCommand fileWithout =
        new ServeCommand(
            f -> new JobConnection(null, "m", io.streamrec.common.KafkaClientProperties.empty()));
    new CommandLine(fileWithout).parseArgs("--config", "job.yaml");
    assertThatThrownBy(fileWithout::connection)
        .hasMessage("--config job.yaml names no kafka.bootstrap-servers: give --bootstrap-servers");

    // the serving class path alone reads no job configuration: it says so rather than ignore it
    ServeCommand alone = new ServeCommand();
    new CommandLine(alone).parseArgs("--config", "job.yaml", "--bootstrap-servers", "b:1");
    assertThatThrownBy(alone::connection)
        .hasMessageContaining("this entry point reads no job configuration file");
  }
}
