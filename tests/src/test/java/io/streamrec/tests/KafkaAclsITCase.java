package io.streamrec.tests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.streamrec.cli.kafka.Topics;
import io.streamrec.job.config.JobConfig;
import io.streamrec.job.config.TopicsConfig;
import io.streamrec.job.kafka.KafkaAccessException;
import io.streamrec.job.kafka.KafkaPreflight;
import io.streamrec.testutils.KafkaBroker;
import io.streamrec.testutils.TopicRecords;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.flink.configuration.Configuration;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * streamrec against a broker that checks ACLs, as a managed Kafka does: a user that may see the
 * topics but not read or write what a job or a command needs is refused at the start, naming each
 * topic and operation, where the job was submitted, then failed at its first fetch or send and
 * restarted over and over, and {@code produce} failed on its first batch.
 */
class KafkaAclsITCase {
  private static final String ADMIN = "admin";
  private static final String USER = "streamrec";
  private static final String PASSWORD = "streamrec-acl-pw";

  @RegisterExtension
  static final KafkaBroker KAFKA =
      KafkaBroker.withAcls(Map.of(ADMIN, "admin-acl-pw", USER, PASSWORD), Set.of(ADMIN));

  @Test
  void aJobWhoseUserMayNotReadItsInputOrWriteItsDeadLettersIsRefusedNamingEach() throws Exception {
    TopicsConfig topics = TopicsConfig.defaults().withPrefix("acl-job-");
    try (Admin admin = Admin.create(KAFKA.adminSettings())) {
      Topics.ensure(admin, topics);
      for (String t : topics.all()) {
        grant(admin, t, AclOperation.DESCRIBE);
      }
      grant(admin, topics.requests(), AclOperation.READ);
      grant(admin, topics.modelUpdates(), AclOperation.READ);
      grant(admin, topics.modelUpdates(), AclOperation.WRITE);

      assertThatThrownBy(() -> KafkaPreflight.checkJob(asUser(topics)))
          .isInstanceOf(KafkaAccessException.class)
          .hasMessageContaining("refused streamrec (SASL_PLAINTEXT, PLAIN as user 'streamrec')")
          .hasMessageContaining(
              "its ACLs do not allow Read on topic 'acl-job-impressions', Write on topic"
                  + " 'acl-job-dead-letters'")
          .hasMessageContaining("docs/deploy.md");

      // what docs/deploy.md lists, DescribeConfigs left out (warned of, not refused)
      grant(admin, topics.impressions(), AclOperation.READ);
      grant(admin, topics.deadLetters(), AclOperation.WRITE);
      KafkaPreflight.checkJob(asUser(topics));
    }
  }

  @Test
  void produceWithoutWriteOnItsTopicIsRefusedBeforeItSendsAnything() throws Exception {
    TopicsConfig topics = TopicsConfig.defaults().withPrefix("acl-produce-");
    Path dir = Files.createTempDirectory("streamrec-acls");
    Path client = dir.resolve("client.properties");
    StringBuilder props = new StringBuilder();
    KAFKA
        .clientSettings(USER)
        .forEach((k, v) -> props.append(k).append('=').append(v).append('\n'));
    Files.writeString(client, props);
    Path requests = dir.resolve("requests.jsonl");
    Path impressions = dir.resolve("impressions.jsonl");
    CliRun generate =
        CliRun.of(
            "generate",
            "--count",
            "50",
            "--requests",
            requests.toString(),
            "--impressions",
            impressions.toString());
    assertThat(generate.exit()).as(generate.err()).isZero();
    try (Admin admin = Admin.create(KAFKA.adminSettings())) {
      Topics.ensure(admin, topics);
      grant(admin, topics.requests(), AclOperation.DESCRIBE);
      grant(admin, topics.requests(), AclOperation.WRITE);
      grant(admin, topics.impressions(), AclOperation.DESCRIBE);

      List<String> args =
          new ArrayList<>(
              List.of(
                  "produce",
                  "--bootstrap-servers",
                  KAFKA.bootstrapServers(),
                  "--command-config",
                  client.toString(),
                  "--requests",
                  requests.toString(),
                  "--impressions",
                  impressions.toString()));
      args.addAll(CliRun.topicArguments(topics));
      CliRun produce = CliRun.of(args.toArray(String[]::new));

      assertThat(produce.exit()).as(produce.out() + produce.err()).isEqualTo(2);
      assertThat(produce.err())
          .contains("its ACLs do not allow Write on topic 'acl-produce-impressions'");
      assertThat(
              TopicRecords.readAll(
                  KAFKA.bootstrapServers(), KAFKA.clientSettings(ADMIN), topics.requests()))
          .as("nothing sent")
          .isEmpty();
    }
  }

  private static JobConfig asUser(TopicsConfig topics) {
    Configuration c = PipelineSupport.jobConf(KAFKA.bootstrapServers(), topics, 2_000);
    KAFKA.clientSettings(USER).forEach((k, v) -> c.setString("properties." + k, v));
    return JobConfig.from(c);
  }

  /** Grants {@code op} on {@code topic}, and returns once the broker authorizes by it. */
  private static void grant(Admin admin, String topic, AclOperation op) throws Exception {
    AclBinding acl =
        new AclBinding(
            new ResourcePattern(ResourceType.TOPIC, topic, PatternType.LITERAL),
            new AccessControlEntry("User:" + USER, "*", op, AclPermissionType.ALLOW));
    admin.createAcls(List.of(acl)).all().get();
    long deadline = System.currentTimeMillis() + 15_000;
    while (!admin.describeAcls(acl.toFilter()).values().get().contains(acl)) {
      assertThat(System.currentTimeMillis()).as("the broker has %s", acl).isLessThan(deadline);
      Thread.sleep(50);
    }
  }
}
