package io.streamrec.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrec.cli.StreamrecCli;
import io.streamrec.testutils.KafkaBroker;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A topic of one's own (a backfill's model-updates, {@code -D topics.model-updates=...}) needed
 * Kafka's tools or a program of one's own to create: the job's check names it with a {@code
 * kafka-topics.sh} line, and {@code streamrec broker} creates only the default names.
 */
class TopicsCommandITCase {
  @RegisterExtension static final KafkaBroker KAFKA = new KafkaBroker();

  @Test
  void createsTheTopicsOfAConfigurationWithTheirSettingsAndLeavesThoseThereAlone()
      throws Exception {
    String out =
        topics("-D", "topics.model-updates=mu-backfill", "-D", "topics.requests=own-requests");
    assertThat(out).contains("streamrec topics: at " + KAFKA.bootstrapServers() + ", created [");
    assertThat(out).contains("own-requests").contains("mu-backfill");
    try (Admin admin =
        Admin.create(
            Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, KAFKA.bootstrapServers()))) {
      var d =
          admin
              .describeTopics(List.of("mu-backfill", "own-requests"))
              .allTopicNames()
              .get(30, TimeUnit.SECONDS);
      assertThat(d.get("mu-backfill").partitions()).hasSize(1);
      assertThat(d.get("own-requests").partitions())
          .hasSize(io.streamrec.job.config.TopicsConfig.DEFAULT_INPUT_PARTITIONS);
      ConfigResource mu = new ConfigResource(ConfigResource.Type.TOPIC, "mu-backfill");
      Config c = admin.describeConfigs(List.of(mu)).all().get(30, TimeUnit.SECONDS).get(mu);
      assertThat(c.get("cleanup.policy").value()).isEqualTo("compact");
      assertThat(c.get("message.timestamp.type").value()).isEqualTo("LogAppendTime");
    }
    // again: nothing to create, every one checked
    assertThat(
            topics("-D", "topics.model-updates=mu-backfill", "-D", "topics.requests=own-requests"))
        .contains("created [], already there [own-requests,")
        .doesNotContain("fewer than");
    // asked for more partitions than the topics there have: said, with how to add them (it
    // exited 0 without a word, and the readers beyond them stayed idle)
    assertThat(
            topics(
                "-D",
                "topics.model-updates=mu-backfill",
                "-D",
                "topics.requests=own-requests",
                "--partitions",
                "6"))
        .contains(
            "streamrec topics: topic 'own-requests' has "
                + io.streamrec.job.config.TopicsConfig.DEFAULT_INPUT_PARTITIONS
                + " partition(s), fewer than the 6 asked")
        .contains("kafka-topics.sh --alter --topic own-requests --partitions 6");
  }

  private static String topics(String... more) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    PrintStream old = System.out;
    System.setOut(new PrintStream(bytes, true, StandardCharsets.UTF_8));
    int rc;
    try {
      String[] args = new String[3 + more.length];
      args[0] = "topics";
      args[1] = "--bootstrap-servers";
      args[2] = KAFKA.bootstrapServers();
      System.arraycopy(more, 0, args, 3, more.length);
      rc = StreamrecCli.commandLine().execute(args);
    } finally {
      System.setOut(old);
    }
    String out = bytes.toString(StandardCharsets.UTF_8);
    assertThat(rc).as(out).isZero();
    return out;
  }
}
