package io.streamrec.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.streamrec.job.config.JobOptions;
import io.streamrec.serving.JobConnection;
import io.streamrec.serving.ServeCommand;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The commands that only read what the job writes ({@code serve}, {@code tail}, {@code
 * dead-letters}) take the job's configuration file, as {@code run} does: they took no {@code
 * --config}, so a user gave the broker, the topic and the login a second time.
 */
class ReadingCommandsConfigTest {
  private static final String JOB =
      "kafka:\n"
          + "  bootstrap-servers: broker-a:9092\n"
          + "topics.model-updates: prod-model\n"
          + "topics:\n"
          + "  dead-letters: prod-dead\n"
          + "properties.security.protocol: SASL_SSL\n"
          + "model.labels: [click]\n";

  @Test
  void serveReadsTheBrokerTheTopicAndTheClientSettingsOfTheJobsFile(@TempDir Path dir)
      throws Exception {
    Path file = Files.writeString(dir.resolve("streamrec.yaml"), JOB);
    CommandLine cl = StreamrecCli.commandLine();
    cl.parseArgs("serve", "--config", file.toString(), "-D", "properties.client.rack=r1");
    ServeCommand serve = cl.getSubcommands().get("serve").getCommand();
    JobConnection at = serve.connection();
    assertThat(at.bootstrapServers()).isEqualTo("broker-a:9092");
    assertThat(at.modelUpdatesTopic()).isEqualTo("prod-model");
    assertThat(at.client().asMap())
        .containsEntry("security.protocol", "SASL_SSL")
        .containsEntry("client.rack", "r1");
  }

  @Test
  void aMisspelledKeyOfTheJobsFileIsRefusedAsRunRefusesIt(@TempDir Path dir) throws Exception {
    Path file =
        Files.writeString(dir.resolve("streamrec.yaml"), "topics.model-update: typo-model\n");
    assertThatThrownBy(() -> StreamrecCli.jobConnection(file))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("topics.model-update")
        .hasMessageContaining("topics.model-updates");
  }

  @Test
  void tailAndDeadLettersTakeTheirTopicFromTheJobsFileUnlessGivenOne(@TempDir Path dir)
      throws Exception {
    Path file = Files.writeString(dir.resolve("streamrec.yaml"), JOB);
    TopicReading fromFile = new TopicReading();
    new CommandLine(fromFile).parseArgs("--config", file.toString());
    assertThat(fromFile.topic(null, JobOptions.MODEL_UPDATES_TOPIC)).isEqualTo("prod-model");
    assertThat(fromFile.topic(null, JobOptions.DEAD_LETTERS_TOPIC)).isEqualTo("prod-dead");
    assertThat(fromFile.topic("given", JobOptions.DEAD_LETTERS_TOPIC)).isEqualTo("given");

    TopicReading plain = new TopicReading();
    new CommandLine(plain).parseArgs("--bootstrap-servers", "localhost:1");
    assertThat(plain.topic(null, JobOptions.MODEL_UPDATES_TOPIC)).isEqualTo("model-updates");
    assertThat(plain.topic(null, JobOptions.DEAD_LETTERS_TOPIC)).isEqualTo("dead-letters");
  }

  @Test
  void withoutABrokerTailSaysWhatToGive() {
    StringWriter err = new StringWriter();
    CommandLine cl = StreamrecCli.commandLine();
    cl.setErr(new PrintWriter(err, true));
    cl.setOut(new PrintWriter(new StringWriter(), true));
    assertThat(cl.execute("tail")).isEqualTo(2);
    assertThat(err.toString())
        .contains("streamrec tail: give the broker: --bootstrap-servers HOST:PORT, or --config");
  }
}
