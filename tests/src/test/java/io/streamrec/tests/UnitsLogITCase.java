package io.streamrec.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrec.job.config.JobOptions;
import io.streamrec.job.config.TopicsConfig;
import io.streamrec.job.metrics.JobMetrics;
import io.streamrec.model.units.CompactUnit;
import io.streamrec.model.units.CompactUnitCodec;
import io.streamrec.testutils.KafkaBroker;
import io.streamrec.testutils.ModelUpdateRecords;
import io.streamrec.testutils.TopicRecords;
import io.streamrec.traffic.FaultConfig;
import io.streamrec.traffic.TrafficConfig;
import java.util.List;
import java.util.Map;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.consumer.ConsumerRecord;
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
    Map<String, Double> m2 = PipelineSupport.backfill(units);

    long impressions = 0;
    for (ConsumerRecord<byte[], byte[]> r : log) {
      CompactUnit u = CompactUnitCodec.decode(r.value());
      assertThat(r.timestamp()).isEqualTo(u.closedAtMs());
      impressions += u.impressions();
    }
    assertThat((long) log.size()).isEqualTo(PipelineSupport.count(m1, JobMetrics.UNITS_TRAINED));
    assertThat(impressions).isEqualTo(PipelineSupport.count(m1, JobMetrics.IMPRESSIONS_TRAINED));
    assertThat(PipelineSupport.count(m2, JobMetrics.UNITS_IN)).isEqualTo(log.size());
    assertThat(PipelineSupport.count(m2, JobMetrics.DEAD_LETTER_UNITS)).isZero();
    assertThat(PipelineSupport.count(m2, JobMetrics.UNITS_TRAINED)).isEqualTo(log.size());

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
