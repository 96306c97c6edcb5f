package io.streamrec.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrec.cli.kafka.Topics;
import io.streamrec.job.JobMain;
import io.streamrec.job.config.TopicsConfig;
import io.streamrec.testutils.KafkaBroker;
import io.streamrec.testutils.ModelUpdateRecords;
import io.streamrec.testutils.TopicRecords;
import io.streamrec.traffic.FaultConfig;
import io.streamrec.traffic.TrafficConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the deployment files set up, on a real broker and a MiniCluster: the topics that compose and
 * Kubernetes create are the ones the job accepts, and the job entry point they run ({@link
 * JobMain}, given a configuration file and arguments as the FlinkDeployment gives them) trains and
 * publishes.
 */
class DeploymentITCase {
  private static final long START_MS = 1_767_225_600_000L;

  @RegisterExtension static final MiniClusterExtension FLINK = PipelineSupport.miniCluster();

  @RegisterExtension static final KafkaBroker KAFKA = new KafkaBroker();

  @TempDir Path tmp;

  @Test
  void theTopicsComposeCreatesAreTheOnesTheJobAccepts() {
    List<NewTopic> specs = new ArrayList<>();
    for (DeploymentFiles.TopicSpec t :
        DeploymentFiles.topicSpecs(DeploymentFiles.composeTopicsScript())) {
      specs.add(
          new NewTopic(t.name(), Optional.of(t.partitions()), Optional.empty())
              .configs(t.configs()));
    }
    try (Admin admin =
        Admin.create(
            Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, KAFKA.bootstrapServers()))) {
      admin.createTopics(specs).all().get();
      Topics.awaitServed(admin, specs.stream().map(NewTopic::name).toList());
      // ensure checks the topic whose settings decide correctness (model-updates) and creates what
      // is missing
      Topics.EnsureResult r = Topics.ensure(admin, TopicsConfig.defaults());
      assertThat(r.created()).isEmpty();
      assertThat(r.existing()).containsExactlyInAnyOrderElementsOf(TopicsConfig.defaults().all());
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  /**
   * A model-updates topic made before it was created broker-stamped works, and gets the command
   * that stamps it; one created by streamrec's own settings gets no advice.
   */
  @Test
  void aModelUpdatesTopicKeepingProducerTimestampsGetsTheCommandThatChangesIt() throws Exception {
    TopicsConfig older = TopicsConfig.defaults().withPrefix("older-");
    // compacted, one partition, the producer's timestamps: as a topic made before the setting
    ModelUpdatesSupport.createTopic(KAFKA.bootstrapServers(), older.modelUpdates());
    try (Admin admin =
        Admin.create(
            Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, KAFKA.bootstrapServers()))) {
      Topics.EnsureResult r = Topics.ensure(admin, older);
      assertThat(r.existing()).contains(older.modelUpdates());
      assertThat(r.advice())
          .singleElement()
          .asString()
          .contains("topic 'older-model-updates' keeps the producer's timestamps")
          .contains(
              "kafka-configs.sh --alter --entity-type topics --entity-name older-model-updates"
                  + " --add-config message.timestamp.type=LogAppendTime");
      assertThat(Topics.ensure(admin, TopicsConfig.defaults().withPrefix("newer-")).advice())
          .isEmpty();
      assertThat(Topics.ensure(admin, TopicsConfig.defaults().withPrefix("newer-")).advice())
          .as("a topic streamrec created, found the second time")
          .isEmpty();
    }
  }

  @Test
  void jobMainTrainsFromAConfigFileAndArgumentsAndPublishes() throws Exception {
    String bootstrap = KAFKA.bootstrapServers();
    TopicsConfig topics = PipelineSupport.topics(bootstrap, "jobmain-");
    GeneratedTraffic traffic =
        new GeneratedTraffic(
            TrafficConfig.defaults().withSeed(3).withUsers(500).withItems(300),
            FaultConfig.defaults().withSeed(3).withAllRates(0.0).withJoinWindowMs(2_000),
            2_000,
            START_MS,
            20,
            1);
    PipelineSupport.produce(bootstrap, topics, traffic.records);

    Path config = tmp.resolve("streamrec.yaml");
    Files.writeString(
        config,
        String.join(
            "\n",
            "kafka.bootstrap-servers: " + bootstrap,
            "kafka.group-id: jobmain-it",
            "topics.requests: " + topics.requests(),
            "topics.impressions: " + topics.impressions(),
            "assembler.join-window: 2 s",
            "source.max-out-of-orderness: 500 ms",
            ""));
    JobMain.main(
        new String[] {
          "--config",
          config.toString(),
          "--mode",
          "backfill",
          "-D",
          "topics.dead-letters=" + topics.deadLetters(),
          "--topics.model-updates",
          topics.modelUpdates(),
          "--trainer.publish-interval=10 s",
          "--topics.request-units",
          topics.requestUnits()
        });

    List<ConsumerRecord<byte[], byte[]>> updates =
        TopicRecords.readAll(bootstrap, topics.modelUpdates());
    List<Long> versions = ModelUpdateRecords.versions(updates);
    long deltas = updates.size() - versions.size();
    // 2,000 requests 20 ms apart: 40 s of event time, four 10-second versions
    assertThat(versions).hasSizeGreaterThanOrEqualTo(4);
    assertThat(versions).isSorted().doesNotHaveDuplicates();
    assertThat(deltas).isGreaterThan(1_000);
  }
}
