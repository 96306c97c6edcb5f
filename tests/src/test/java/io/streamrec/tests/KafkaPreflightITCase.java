package io.streamrec.tests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.streamrec.cli.kafka.Topics;
import io.streamrec.common.KafkaClientProperties;
import io.streamrec.common.StreamrecException;
import io.streamrec.job.config.TopicsConfig;
import io.streamrec.job.kafka.KafkaPreflight;
import io.streamrec.job.kafka.TopicSpec;
import io.streamrec.testutils.KafkaBroker;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ForwardingAdmin;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The check every job and {@code produce} start with, against a real broker: topics created by
 * someone else a moment before (a script's {@code kafka-topics.sh --create}, a Strimzi {@code
 * KafkaTopic} applied with the job) are written only once the leader of each partition serves it,
 * which the broker's metadata tells a moment too early (see {@link KafkaPreflight#endOffsetsOf}).
 * So the check asks every partition of every topic it checks for its end offset, which only a
 * serving leader answers, and returns after the answers.
 */
class KafkaPreflightITCase {
  @RegisterExtension static final KafkaBroker KAFKA = new KafkaBroker();

  @Test
  void theCheckReturnsOnlyOnceTheLeaderOfEveryPartitionOfItsTopicsServesIt() throws Exception {
    TopicsConfig topics = TopicsConfig.defaults().withPrefix("fresh-");
    List<TopicSpec> needed = TopicSpec.all(topics);
    List<TopicPartition> expected = new ArrayList<>();
    List<TopicPartition> asked = new CopyOnWriteArrayList<>();
    Map<String, Object> settings =
        Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, KAFKA.bootstrapServers());
    try (Admin admin = Admin.create(settings);
        Admin recording =
            new ForwardingAdmin(settings) {
              @Override
              public ListOffsetsResult listOffsets(
                  Map<TopicPartition, OffsetSpec> partitions, ListOffsetsOptions options) {
                ListOffsetsResult r = super.listOffsets(partitions, options);
                try {
                  r.all().get(); // what the check waits for, answered: recorded only then
                } catch (Exception e) {
                  throw new AssertionError(e);
                }
                asked.addAll(partitions.keySet());
                return r;
              }
            }) {
      // created as a script does, and checked at once
      create(admin, needed, TopicSpec::partitions);
      for (TopicSpec t : needed) {
        for (int p = 0; p < t.partitions(); p++) {
          expected.add(new TopicPartition(t.name(), p));
        }
      }

      KafkaPreflight.checkTopics(
          recording, KAFKA.bootstrapServers(), KafkaClientProperties.empty(), needed);
    }

    assertThat(asked).containsExactlyInAnyOrderElementsOf(expected);
  }

  /**
   * A job submitted with flink run or the Kubernetes operator took a model-updates topic that is
   * not compacted (it loses the model once its retention passes); only the command line's topic
   * set-up refused one.
   */
  /**
   * {@code -D properties.transaction.timeout.ms} over the brokers' transaction.max.timeout.ms (15
   * minutes by default) made every start of the exactly-once sinks fail, and the job restart every
   * two seconds with a page of trace each time. Every exactly-once job's check refuses it in one
   * line; within the bound, and at-least-once, it passes.
   */
  @Test
  void aTransactionTimeoutOverTheBrokersMaximumIsRefusedByAnExactlyOnceJobsCheck()
      throws Exception {
    org.apache.flink.configuration.Configuration c = jobOnEnsuredTopics("txtimeout-");
    c.setString("sink.delivery-guarantee", "exactly-once");
    c.setString("properties.transaction.timeout.ms", "1000000");
    assertThatThrownBy(() -> KafkaPreflight.checkJob(io.streamrec.job.config.JobConfig.from(c)))
        .isInstanceOf(StreamrecException.class)
        .hasMessage(
            "the exactly-once sinks' transaction.timeout.ms is 1000000 ms, more than this cluster"
                + " allows (its transaction.max.timeout.ms: 900000 ms): set -D"
                + " properties.transaction.timeout.ms to at most 900000");

    c.setString("properties.transaction.timeout.ms", "60000");
    KafkaPreflight.checkJob(io.streamrec.job.config.JobConfig.from(c));
    c.setString("properties.transaction.timeout.ms", "1000000");
    c.setString("sink.delivery-guarantee", "at-least-once");
    KafkaPreflight.checkJob(io.streamrec.job.config.JobConfig.from(c));
  }

  /**
   * A job that keeps the units log, with properties.max.request.size raised past the request-units
   * topic's max.message.bytes, passed its check, and a unit between the two limits (over 1 MiB:
   * tens of thousands of ids) was refused by the broker, failing the job at each restart, the same
   * unit made again from the same events. Its check refuses it, naming the topic and the fix.
   */
  @Test
  void aUnitsLogThatTakesSmallerRecordsThanTheProducerSendsIsRefusedByTheJobsCheck()
      throws Exception {
    TopicsConfig topics = TopicsConfig.defaults().withPrefix("unitsize-");
    org.apache.flink.configuration.Configuration c = jobOnEnsuredTopics("unitsize-");
    c.setString("properties.max.request.size", "4194304");
    c.setString("sink.request-units.enabled", "false");
    assertThatThrownBy(() -> KafkaPreflight.checkJob(io.streamrec.job.config.JobConfig.from(c)))
        .as("the model's topic takes smaller records too")
        .hasMessageContaining("topic 'unitsize-model-updates'");
    try (Admin admin =
        Admin.create(
            Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, KAFKA.bootstrapServers()))) {
      admin
          .incrementalAlterConfigs(
              Map.of(
                  new org.apache.kafka.common.config.ConfigResource(
                      org.apache.kafka.common.config.ConfigResource.Type.TOPIC,
                      topics.modelUpdates()),
                  List.of(
                      new org.apache.kafka.clients.admin.AlterConfigOp(
                          new org.apache.kafka.clients.admin.ConfigEntry(
                              "max.message.bytes", "4194304"),
                          org.apache.kafka.clients.admin.AlterConfigOp.OpType.SET))))
          .all()
          .get();
    }
    KafkaPreflight.checkJob(io.streamrec.job.config.JobConfig.from(c));
    c.setString("sink.request-units.enabled", "true");
    assertThatThrownBy(() -> KafkaPreflight.checkJob(io.streamrec.job.config.JobConfig.from(c)))
        .isInstanceOf(StreamrecException.class)
        .hasMessageStartingWith("topic 'unitsize-request-units' takes records of at most")
        .hasMessageContaining("a larger unit would be refused and fail the job at each restart")
        .hasMessageContaining(
            "--entity-name unitsize-request-units --add-config max.message.bytes=4194304");
  }

  @Test
  void aModelUpdatesTopicThatIsNotCompactedIsRefusedByEveryJobsCheck() throws Exception {
    TopicsConfig topics = TopicsConfig.defaults().withPrefix("deleting-");
    List<TopicSpec> needed = TopicSpec.all(topics);
    try (Admin admin =
        Admin.create(
            Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, KAFKA.bootstrapServers()))) {
      admin
          .createTopics(
              needed.stream()
                  .map(
                      t ->
                          new NewTopic(t.name(), t.partitions(), (short) 1)
                              .configs(
                                  t.name().equals(topics.modelUpdates())
                                      ? Map.of("cleanup.policy", "delete")
                                      : t.configs()))
                  .toList())
          .all()
          .get();
      Topics.awaitServed(admin, needed.stream().map(TopicSpec::name).toList());
      refusal(admin, needed)
          .hasMessageStartingWith(
              "topic 'deleting-model-updates' holds the model and must be log-compacted"
                  + " (cleanup.policy=compact, without delete) with exactly one partition, but it"
                  + " has cleanup.policy=delete and 1 partition");
    }
  }

  /**
   * Partitions added to the model-updates topic (by hand, or by a policy over every topic) stopped
   * every job's next start, a restart after a failure too, until the topic was made again, which
   * took the model from the replicas. A topic whose model is in partition 0 and whose others are
   * empty is used now (the trainer writes partition 0 only); one whose other partitions hold
   * records, a model in pieces, is refused naming the partition; one made with several partitions,
   * nothing in it yet, is refused as before.
   */
  @Test
  void aModelUpdatesTopicThatGrewAroundItsModelIsUsedAndOneInPiecesIsRefused() throws Exception {
    TopicsConfig topics = TopicsConfig.defaults().withPrefix("grown-");
    List<TopicSpec> needed = TopicSpec.all(topics);
    try (Admin admin =
            Admin.create(
                Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, KAFKA.bootstrapServers()));
        org.apache.kafka.clients.producer.KafkaProducer<byte[], byte[]> producer =
            new org.apache.kafka.clients.producer.KafkaProducer<>(
                Map.of(
                    "bootstrap.servers",
                    KAFKA.bootstrapServers(),
                    "key.serializer",
                    org.apache.kafka.common.serialization.ByteArraySerializer.class.getName(),
                    "value.serializer",
                    org.apache.kafka.common.serialization.ByteArraySerializer.class.getName()))) {
      create(admin, needed, TopicSpec::partitions);
      String model = topics.modelUpdates();
      producer
          .send(
              new org.apache.kafka.clients.producer.ProducerRecord<>(
                  model, 0, new byte[] {1}, new byte[] {1}))
          .get();
      admin
          .createPartitions(
              Map.of(model, org.apache.kafka.clients.admin.NewPartitions.increaseTo(3)))
          .all()
          .get();
      awaitPartitions(admin, model, 3);
      // run checks the topics before it submits the job, and the job again: said once
      List<String> warned = new CopyOnWriteArrayList<>();
      org.apache.logging.log4j.core.Logger log =
          (org.apache.logging.log4j.core.Logger)
              org.apache.logging.log4j.LogManager.getLogger(KafkaPreflight.class);
      org.apache.logging.log4j.core.appender.AbstractAppender appender =
          new org.apache.logging.log4j.core.appender.AbstractAppender(
              "warnings",
              null,
              null,
              true,
              org.apache.logging.log4j.core.config.Property.EMPTY_ARRAY) {
            @Override
            public void append(org.apache.logging.log4j.core.LogEvent event) {
              if (event.getLevel().isMoreSpecificThan(org.apache.logging.log4j.Level.WARN)) {
                warned.add(event.getMessage().getFormattedMessage());
              }
            }
          };
      appender.start();
      log.addAppender(appender);
      try {
        for (int i = 0; i < 2; i++) {
          KafkaPreflight.checkTopics(
              admin, KAFKA.bootstrapServers(), KafkaClientProperties.empty(), needed);
        }
      } finally {
        log.removeAppender(appender);
        appender.stop();
      }
      assertThat(warned)
          .filteredOn(w -> w.contains("the model is in partition 0 and the others are empty"))
          .containsExactly(
              "topic 'grown-model-updates' has 3 partitions; the model is in partition 0 and the"
                  + " others are empty, so it is written and read there only. Partitions cannot be"
                  + " removed: make the topic again with one partition when you can"
                  + " (docs/model-updates.md)");

      producer
          .send(
              new org.apache.kafka.clients.producer.ProducerRecord<>(
                  model, 2, new byte[] {2}, new byte[] {2}))
          .get();
      refusal(admin, needed)
          .hasMessageStartingWith(
              "topic 'grown-model-updates' has 3 partitions, and partition 2 holds 1 record: the"
                  + " model is published in pieces");

      TopicsConfig fresh = TopicsConfig.defaults().withPrefix("made-wide-");
      List<TopicSpec> freshNeeded = TopicSpec.all(fresh);
      create(admin, freshNeeded, t -> t.name().equals(fresh.modelUpdates()) ? 2 : t.partitions());
      refusal(admin, freshNeeded)
          .hasMessageContaining(
              "has 2 partitions; it holds the model and needs exactly one (versions are ordered"
                  + " only within a partition");
    }
  }

  /** The refusal of every job's Kafka check of {@code needed}. */
  private static org.assertj.core.api.AbstractThrowableAssert<?, ? extends Throwable> refusal(
      Admin admin, List<TopicSpec> needed) {
    return assertThatThrownBy(
            () ->
                KafkaPreflight.checkTopics(
                    admin, KAFKA.bootstrapServers(), KafkaClientProperties.empty(), needed))
        .isInstanceOf(StreamrecException.class);
  }

  /** Creates the topics of {@code needed} with their settings and these partitions. */
  /** A job's configuration on the topics of {@code prefix}, made as the tools make them. */
  private static org.apache.flink.configuration.Configuration jobOnEnsuredTopics(String prefix)
      throws Exception {
    TopicsConfig topics = TopicsConfig.defaults().withPrefix(prefix);
    try (Admin admin =
        Admin.create(
            Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, KAFKA.bootstrapServers()))) {
      io.streamrec.cli.kafka.Topics.ensure(admin, topics);
    }
    return PipelineSupport.jobConf(KAFKA.bootstrapServers(), topics, 2_000);
  }

  private static void create(
      Admin admin, List<TopicSpec> needed, java.util.function.ToIntFunction<TopicSpec> partitions)
      throws Exception {
    admin
        .createTopics(
            needed.stream()
                .map(
                    t ->
                        new NewTopic(t.name(), partitions.applyAsInt(t), (short) 1)
                            .configs(t.configs()))
                .toList())
        .all()
        .get();
    Topics.awaitServed(admin, needed.stream().map(TopicSpec::name).toList());
  }

  private static void awaitPartitions(Admin admin, String topic, int n) throws Exception {
    long deadline = System.currentTimeMillis() + 30_000;
    while (admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).partitions().size()
            < n
        && System.currentTimeMillis() < deadline) {
      Thread.sleep(50);
    }
  }

  /**
   * History sent with produce to a topic of Kafka's default retention (a week, counted from each
   * record's timestamp) was deleted by the broker within minutes, and a backfill found nothing,
   * with no word from produce. It now says so for the topics whose retention the events outlive.
   */
  @Test
  void eventsOlderThanATopicsRetentionAreSaidToBeDeleted() throws Exception {
    long now = System.currentTimeMillis();
    long month = 30L * 86_400_000;
    try (Admin admin =
        Admin.create(
            Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, KAFKA.bootstrapServers()))) {
      admin
          .createTopics(
              List.of(
                  new NewTopic("week", 1, (short) 1).configs(Map.of("retention.ms", "604800000")),
                  new NewTopic("forever", 1, (short) 1).configs(Map.of("retention.ms", "-1")),
                  new NewTopic("appended", 1, (short) 1)
                      .configs(
                          Map.of(
                              "retention.ms",
                              "604800000",
                              "message.timestamp.type",
                              "LogAppendTime"))))
          .all()
          .get();
      // the controller has them before the broker's metadata does: a describe of a topic a moment
      // old was answered "unknown topic"
      Topics.awaitServed(admin, List.of("week", "forever", "appended"));
      assertThat(KafkaPreflight.retentionAdvice(admin, "week", now - month, now))
          .startsWith(
              "topic 'week' keeps records for 7.0 days (retention.ms 604800000) counted from their"
                  + " timestamp, and the events sent to it reach back to ")
          .contains("retention.ms=-1");
      assertThat(KafkaPreflight.retentionAdvice(admin, "week", now - 86_400_000, now)).isNull();
      assertThat(KafkaPreflight.retentionAdvice(admin, "forever", now - month, now)).isNull();
      assertThat(KafkaPreflight.retentionAdvice(admin, "appended", now - month, now)).isNull();
    }
  }
}
