package io.streamrec.tests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.streamrec.job.StreamrecJob;
import io.streamrec.job.config.ConfigException;
import io.streamrec.job.config.JobConfig;
import io.streamrec.job.config.JobOptions;
import io.streamrec.job.config.TopicsConfig;
import io.streamrec.job.metrics.JobMetrics;
import io.streamrec.model.units.CompactUnit;
import io.streamrec.model.units.CompactUnitCodec;
import io.streamrec.model.units.UnitLayout;
import io.streamrec.testutils.KafkaBroker;
import io.streamrec.testutils.ModelUpdateRecords;
import io.streamrec.testutils.TopicRecords;
import io.streamrec.traffic.FaultConfig;
import io.streamrec.traffic.TrafficConfig;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The request-units topic is a training log: a backfill of the events that writes it, then a
 * backfill of the log alone (source.kind=units, no join), publish identical model-update streams,
 * record for record but for each marker's wall-clock time.
 */
class UnitsLogITCase {
  @RegisterExtension static final MiniClusterExtension FLINK = PipelineSupport.miniCluster();

  @RegisterExtension static final KafkaBroker KAFKA = new KafkaBroker();

  @Test
  void aBackfillOfTheUnitsLogPublishesWhatTheBackfillOfTheEventsDid() throws Exception {
    String bootstrap = KAFKA.bootstrapServers();
    TopicsConfig in = PipelineSupport.topics(bootstrap, "log-");
    GeneratedTraffic traffic =
        new GeneratedTraffic(
            TrafficConfig.defaults().withSeed(8).withUsers(600).withItems(300),
            FaultConfig.defaults().withSeed(8).withAllRates(0.01).withJoinWindowMs(2_000),
            3_000,
            1_767_225_600_000L,
            40,
            2);
    PipelineSupport.produce(bootstrap, in, traffic.records);

    TopicsConfig fromEvents = PipelineSupport.topics(bootstrap, "log-events-");
    Configuration events = PipelineSupport.jobConf(bootstrap, in, 2_000);
    events.set(JobOptions.MODEL_UPDATES_TOPIC, fromEvents.modelUpdates());
    events.set(JobOptions.MODEL_ID, "5eed000000000003");
    events.set(JobOptions.DEAD_LETTERS_TOPIC, fromEvents.deadLetters());
    events.set(JobOptions.REQUEST_UNITS_ENABLED, true);
    events.set(JobOptions.ASSEMBLER_PARALLELISM, 2);
    Map<String, Double> m1 = PipelineSupport.backfill(events);

    List<ConsumerRecord<byte[], byte[]>> log = TopicRecords.readAll(bootstrap, in.requestUnits());
    // copies of the first units in a transaction that aborts (an exactly-once job that failed
    // before
    // its checkpoint, and writes them again after its restart): a source reading uncommitted
    // records trained them twice
    abortedCopies(bootstrap, in.requestUnits(), log.subList(0, 100));

    TopicsConfig fromUnits = PipelineSupport.topics(bootstrap, "log-units-");
    Configuration units = PipelineSupport.jobConf(bootstrap, in, 2_000);
    units.set(JobOptions.MODEL_UPDATES_TOPIC, fromUnits.modelUpdates());
    units.set(JobOptions.MODEL_ID, "5eed000000000003");
    units.set(JobOptions.DEAD_LETTERS_TOPIC, fromUnits.deadLetters());
    units.set(JobOptions.SOURCE_KIND, "units");
    units.set(JobOptions.ASSEMBLER_PARALLELISM, 2); // a reader a partition
    Map<String, Double> m2 = PipelineSupport.backfill(units);

    long impressions = 0;
    // each partition in close order: the two writers' event times drift apart by seconds in a
    // backfill, and where both wrote to every partition, one's units lay behind the other's by that
    // drift, past what the run over the log allows
    Map<Integer, Long> newest = new java.util.HashMap<>();
    for (ConsumerRecord<byte[], byte[]> r : log) {
      CompactUnit u = CompactUnitCodec.decode(r.value());
      assertThat(r.timestamp()).isEqualTo(u.closedAtMs());
      impressions += u.impressions();
      long before = newest.getOrDefault(r.partition(), Long.MIN_VALUE);
      assertThat(r.timestamp())
          .as("unit %s at partition %d offset %d", u.requestId(), r.partition(), r.offset())
          .isGreaterThanOrEqualTo(before);
      newest.put(r.partition(), r.timestamp());
    }
    assertThat(newest).as("both partitions written").hasSize(2);
    assertThat((long) log.size()).isEqualTo(PipelineSupport.count(m1, JobMetrics.UNITS_TRAINED));
    assertThat(impressions).isEqualTo(PipelineSupport.count(m1, JobMetrics.IMPRESSIONS_TRAINED));
    assertThat(PipelineSupport.count(m2, JobMetrics.UNITS_IN)).isEqualTo(log.size());
    assertThat(PipelineSupport.count(m2, JobMetrics.DEAD_LETTER_UNITS)).isZero();
    assertThat(PipelineSupport.count(m2, JobMetrics.UNITS_TRAINED)).isEqualTo(log.size());
    assertThat(PipelineSupport.count(m2, JobMetrics.LATE_UNITS)).isZero();

    List<String> a =
        TopicRecords.readAll(bootstrap, fromEvents.modelUpdates()).stream()
            .map(ModelUpdateRecords::text)
            .toList();
    List<String> b =
        TopicRecords.readAll(bootstrap, fromUnits.modelUpdates()).stream()
            .map(ModelUpdateRecords::text)
            .toList();
    assertThat(a).hasSizeGreaterThan(500);
    assertThat(b).containsExactlyElementsOf(a);
  }

  /**
   * A model of another label list than the job that wrote the log: its backfill of the log sent
   * every unit to the dead-letter topic ({@code unknown_schema}), to the log's end, and trained
   * nothing. Refused before it starts; where the job starts reading at units of its own layout (a
   * backfill from the time they begin, a live job whose group has read the older ones), it runs.
   */
  @Test
  void aModelOfOtherLabelsThanTheLogsIsRefusedBeforeItStarts() throws Exception {
    String bootstrap = KAFKA.bootstrapServers();
    TopicsConfig in = PipelineSupport.topics(bootstrap, "spec-");
    Configuration writer = PipelineSupport.jobConf(bootstrap, in, 2_000);
    writer.set(JobOptions.SOURCE_KIND, "units");
    Configuration twoLabels = new Configuration(writer);
    twoLabels.set(io.streamrec.job.config.ModelOptions.LABELS, List.of("click", "like"));
    long start = 1_767_225_600_000L;
    // units of the default model, then, from a minute on, of the model of two labels
    writeUnits(bootstrap, in.requestUnits(), layout(writer), start, 1);
    writeUnits(bootstrap, in.requestUnits(), layout(twoLabels), start + 60_000, 2);

    assertThatThrownBy(() -> build(twoLabels, StreamrecJob.Bounds.backfill(null, null)))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("source.kind")
        .hasMessageContaining("'" + in.requestUnits() + "' holds units of other features or labels")
        .hasMessageContaining("partition 0: layout " + Long.toHexString(layout(writer)))
        .hasMessageContaining("unknown_schema");
    build(writer, StreamrecJob.Bounds.backfill(null, null));
    build(twoLabels, StreamrecJob.Bounds.backfill(start + 60_000, null));
    assertThatThrownBy(() -> build(twoLabels, StreamrecJob.Bounds.live()))
        .as("a live job without committed offsets reads from the earliest")
        .isInstanceOf(ConfigException.class);

    // the live job's group has read the older units
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ConsumerConfig.GROUP_ID_CONFIG, JobConfig.from(twoLabels).groupId());
    try (var c = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      c.commitSync(
          Map.of(
              new TopicPartition(in.requestUnits(), 0), new OffsetAndMetadata(UNITS_PER_PART),
              new TopicPartition(in.requestUnits(), 1), new OffsetAndMetadata(UNITS_PER_PART)));
    }
    build(twoLabels, StreamrecJob.Bounds.live());
  }

  /**
   * A live job over the log that started from a handoff is built again from its first arguments at
   * each failover of its JobManager and goes on from its checkpoint, by when the handoff may be
   * gone. Its build then looked for units of another layout from the log's first records, not from
   * where its group had read: a log that still held a former writer's units was refused, and the
   * job stayed down.
   */
  @Test
  void aLiveJobWhoseHandoffIsGoneLooksAtTheUnitsWhereItsGroupReads() throws Exception {
    String bootstrap = KAFKA.bootstrapServers();
    TopicsConfig in = PipelineSupport.topics(bootstrap, "gone-");
    Configuration writer = PipelineSupport.jobConf(bootstrap, in, 2_000);
    writer.set(JobOptions.SOURCE_KIND, "units");
    Configuration twoLabels = new Configuration(writer);
    twoLabels.set(io.streamrec.job.config.ModelOptions.LABELS, List.of("click", "like"));
    long start = 1_767_225_600_000L;
    writeUnits(bootstrap, in.requestUnits(), layout(writer), start, 1);
    writeUnits(bootstrap, in.requestUnits(), layout(twoLabels), start + 60_000, 2);
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ConsumerConfig.GROUP_ID_CONFIG, JobConfig.from(twoLabels).groupId());
    try (var c = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      c.commitSync(
          Map.of(
              new TopicPartition(in.requestUnits(), 0), new OffsetAndMetadata(UNITS_PER_PART),
              new TopicPartition(in.requestUnits(), 1), new OffsetAndMetadata(UNITS_PER_PART)));
    }
    Configuration gone = new Configuration(twoLabels);
    gone.set(
        JobOptions.HANDOFF_START_FROM,
        java.nio.file.Files.createTempDirectory("gone").resolve("model.handoff").toString());

    build(gone, StreamrecJob.Bounds.live());
  }

  private static final int UNITS_PER_PART = 3;

  private static long layout(Configuration conf) {
    return new UnitLayout(JobConfig.from(conf).model().features()).fingerprint();
  }

  private static void build(Configuration conf, StreamrecJob.Bounds bounds) {
    StreamrecJob.build(
        StreamExecutionEnvironment.getExecutionEnvironment(), JobConfig.from(conf), bounds);
  }

  /**
   * {@link #UNITS_PER_PART} units of layout {@code layout} on each of the topic's two partitions,
   * timed from {@code startMs}, of {@code labels} labels for their one impression.
   */
  private static void writeUnits(
      String bootstrap, String topic, long layout, long startMs, int labels) {
    java.util.Properties p = new java.util.Properties();
    p.put(org.apache.kafka.clients.producer.ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    try (var producer =
        new org.apache.kafka.clients.producer.KafkaProducer<byte[], byte[]>(
            p,
            new org.apache.kafka.common.serialization.ByteArraySerializer(),
            new org.apache.kafka.common.serialization.ByteArraySerializer())) {
      for (int partition = 0; partition < 2; partition++) {
        for (int i = 0; i < UNITS_PER_PART; i++) {
          long t = startMs + i * 1_000L;
          String id = "r" + partition + "-" + i + "-" + layout;
          CompactUnit u =
              new CompactUnit(
                  layout,
                  id,
                  id.hashCode(),
                  t,
                  t + 2_000,
                  1,
                  new int[0],
                  new long[0],
                  new long[0],
                  new float[0],
                  new float[0],
                  new float[labels]);
          producer.send(
              new org.apache.kafka.clients.producer.ProducerRecord<>(
                  topic,
                  partition,
                  u.closedAtMs(),
                  id.getBytes(java.nio.charset.StandardCharsets.UTF_8),
                  CompactUnitCodec.encode(u)));
        }
      }
      producer.flush();
    }
  }

  private static void abortedCopies(
      String bootstrap, String topic, List<ConsumerRecord<byte[], byte[]>> records) {
    java.util.Properties p = new java.util.Properties();
    p.put(org.apache.kafka.clients.producer.ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(org.apache.kafka.clients.producer.ProducerConfig.TRANSACTIONAL_ID_CONFIG, "it-aborted");
    try (var producer =
        new org.apache.kafka.clients.producer.KafkaProducer<byte[], byte[]>(
            p,
            new org.apache.kafka.common.serialization.ByteArraySerializer(),
            new org.apache.kafka.common.serialization.ByteArraySerializer())) {
      producer.initTransactions();
      producer.beginTransaction();
      for (ConsumerRecord<byte[], byte[]> r : records) {
        producer.send(
            new org.apache.kafka.clients.producer.ProducerRecord<>(
                topic, r.partition(), r.timestamp(), r.key(), r.value()));
      }
      producer.flush();
      producer.abortTransaction();
    }
  }
}
