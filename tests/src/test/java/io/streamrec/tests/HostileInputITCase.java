package io.streamrec.tests;

import static io.streamrec.tests.PipelineSupport.count;
import static org.assertj.core.api.Assertions.assertThat;

import io.streamrec.job.config.InputOptions;
import io.streamrec.job.config.JobOptions;
import io.streamrec.job.config.TopicsConfig;
import io.streamrec.job.metrics.JobMetrics;
import io.streamrec.schemas.AvroCodec;
import io.streamrec.schemas.DeadLetter;
import io.streamrec.schemas.DeadLetterReasons;
import io.streamrec.testutils.KafkaBroker;
import io.streamrec.testutils.TopicRecords;
import io.streamrec.traffic.FaultConfig;
import io.streamrec.traffic.HostileRecords;
import io.streamrec.traffic.OutgoingRecord;
import io.streamrec.traffic.TrafficConfig;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Future;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A hostile producer against the whole job, on a real broker and a MiniCluster: the corpus of
 * {@link HostileRecords} (truncated and garbage Avro, lengths beyond the bytes, unknown
 * fingerprints, no value, records near and over the size limit, huge feature lists and maps, NaN,
 * infinite and subnormal values, labels out of range, extreme, negative, far-future and jumping
 * timestamps, conflicting copies, a flood of impressions for one request, empty and enormous keys)
 * mixed into good traffic. With and without checkpointing the job runs to its end, every record
 * ends where it must, the counters add up, and the model learns from the good records as a run
 * without the bad ones does.
 */
class HostileInputITCase {
  private static final long JOIN_WINDOW_MS = 3_000;
  private static final long START_MS = 1_767_225_600_000L;
  private static final int REQUESTS = 4_000;
  private static final long SPACING_MS = 15;
  private static final int RECORD_LIMIT = 256 << 10;
  private static final int MAX_IDS_PER_FEATURE = 500;

  @RegisterExtension static final MiniClusterExtension FLINK = PipelineSupport.miniCluster();

  @RegisterExtension static final KafkaBroker KAFKA = new KafkaBroker();

  private static GeneratedTraffic traffic;
  private static TopicsConfig cleanTopics;
  private static Map<String, Double> clean;

  /** The run without the hostile records (once; the MiniCluster is there from the first test). */
  private static synchronized Map<String, Double> clean() throws Exception {
    if (clean == null) {
      clean = PipelineSupport.backfill(conf(cleanTopics));
      System.out.printf(
          "clean: %d impressions in, %d trained%n",
          count(clean, JobMetrics.IMPRESSIONS_IN), count(clean, JobMetrics.IMPRESSIONS_TRAINED));
    }
    return clean;
  }

  /** The hostile records as written: where each landed, what it must become. */
  private record Landed(String topic, int partition, long offset, HostileRecords.Hostile what) {}

  private static final List<Landed> landed = new ArrayList<>();
  private static TopicsConfig hostileTopics;
  private static long hostileRequests;
  private static long hostileImpressions;

  @BeforeAll
  static void produceBothStreams() throws Exception {
    // a rerun of a failed test runs this again in the same JVM, on a broker of its own: what the
    // first run tallied and cached would be counted twice (a rerun failed on 23,840 impressions in
    // against 47,680 sent, the first run's and its own)
    landed.clear();
    hostileRequests = 0;
    hostileImpressions = 0;
    clean = null;
    String bootstrap = KAFKA.bootstrapServers();
    traffic =
        new GeneratedTraffic(
            TrafficConfig.defaults().withSeed(21).withUsers(800).withItems(400),
            FaultConfig.defaults().withSeed(21).withAllRates(0).withJoinWindowMs(JOIN_WINDOW_MS),
            REQUESTS,
            START_MS,
            SPACING_MS,
            1);
    cleanTopics = PipelineSupport.topics(bootstrap, "clean-");
    PipelineSupport.produce(bootstrap, cleanTopics, traffic.records);

    hostileTopics = PipelineSupport.topics(bootstrap, "hostile-");
    List<HostileRecords.Mixed> mixed =
        new HostileRecords(5)
            .around(traffic.generated, traffic.records, 40, RECORD_LIMIT, MAX_IDS_PER_FEATURE);
    List<Future<RecordMetadata>> sent = new ArrayList<>();
    List<HostileRecords.Hostile> order = new ArrayList<>();
    try (KafkaProducer<byte[], byte[]> p =
        new KafkaProducer<>(
            Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                bootstrap,
                ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG,
                ByteArraySerializer.class,
                ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG,
                ByteArraySerializer.class,
                ProducerConfig.LINGER_MS_CONFIG,
                5))) {
      for (HostileRecords.Mixed m : mixed) {
        if (m.good() != null) {
          OutgoingRecord g = m.good();
          p.send(
              new ProducerRecord<>(
                  topic(g.topic()), null, g.timestampMs(), bytes(g.key()), g.value()));
          tally(g.topic());
        } else {
          HostileRecords.Hostile h = m.hostile();
          sent.add(p.send(new ProducerRecord<>(topic(h.topic()), h.key(), h.value())));
          order.add(h);
          tally(h.topic());
        }
      }
      p.flush();
    }
    for (int i = 0; i < sent.size(); i++) {
      RecordMetadata md = sent.get(i).get();
      landed.add(new Landed(md.topic(), md.partition(), md.offset(), order.get(i)));
    }
  }

  private static String topic(OutgoingRecord.Topic t) {
    return t == OutgoingRecord.Topic.REQUESTS
        ? hostileTopics.requests()
        : hostileTopics.impressions();
  }

  private static void tally(OutgoingRecord.Topic t) {
    if (t == OutgoingRecord.Topic.REQUESTS) {
      hostileRequests++;
    } else {
      hostileImpressions++;
    }
  }

  private static byte[] bytes(String s) {
    return s == null ? null : s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
  }

  private static Configuration conf(TopicsConfig topics) {
    Configuration c = PipelineSupport.jobConf(KAFKA.bootstrapServers(), topics, JOIN_WINDOW_MS);
    c.set(JobOptions.MAX_RECORD_BYTES, RECORD_LIMIT);
    c.set(InputOptions.MAX_IDS_PER_FEATURE, MAX_IDS_PER_FEATURE);
    c.set(InputOptions.MAX_UNIT_BYTES, 1 << 20);
    c.set(JobOptions.ASSEMBLER_PARALLELISM, 2);
    return c;
  }

  @Test
  void withCheckpointsNoRecordStopsTheJobAndEachEndsWhereItMust() throws Exception {
    Map<String, Double> clean = clean();
    check(clean, PipelineSupport.backfill(conf(hostileTopics), 300), hostileTopics.deadLetters());
  }

  @Test
  void withoutCheckpointsTheSame() throws Exception {
    TopicsConfig out = PipelineSupport.topics(KAFKA.bootstrapServers(), "hostile-again-");
    Configuration c = conf(hostileTopics);
    c.set(JobOptions.DEAD_LETTERS_TOPIC, out.deadLetters());
    c.set(JobOptions.MODEL_UPDATES_TOPIC, out.modelUpdates());
    c.set(JobOptions.GROUP_ID, "it-hostile-again");
    Map<String, Double> clean = clean();
    check(clean, PipelineSupport.backfill(c), out.deadLetters());
  }

  private void check(Map<String, Double> clean, Map<String, Double> m, String deadLetterTopic) {
    assertThat(count(clean, JobMetrics.IMPRESSIONS_TRAINED))
        .as("the run without hostile records: %s", clean)
        .isEqualTo(traffic.impressions());
    // every record that came in is accounted for, and the places add up
    long in = count(m, JobMetrics.IMPRESSIONS_IN);
    assertThat(in).isEqualTo(hostileImpressions);
    assertThat(
            count(m, JobMetrics.IMPRESSIONS_JOINED)
                + count(m, JobMetrics.DUPLICATE_IMPRESSIONS)
                + count(m, JobMetrics.DEAD_LETTER_IMPRESSIONS))
        .isEqualTo(in);
    assertThat(count(m, JobMetrics.REQUESTS_IN)).isEqualTo(hostileRequests);
    assertThat(
            count(m, JobMetrics.UNITS)
                + count(m, JobMetrics.REQUESTS_WITHOUT_IMPRESSIONS)
                + count(m, JobMetrics.DUPLICATE_REQUESTS)
                + count(m, JobMetrics.DEAD_LETTER_REQUESTS))
        .isEqualTo(hostileRequests);
    long deadByReason = 0;
    for (String reason : DeadLetterReasons.ALL) {
      deadByReason += count(m, JobMetrics.deadLetters(reason));
    }
    assertThat(deadByReason)
        .isEqualTo(
            count(m, JobMetrics.DEAD_LETTER_IMPRESSIONS)
                + count(m, JobMetrics.DEAD_LETTER_REQUESTS));

    // the good records trained exactly as without the bad ones
    assertThat(count(m, JobMetrics.IMPRESSIONS_TRAINED)).isEqualTo(traffic.impressions());
    assertThat(count(m, JobMetrics.IMPRESSIONS_SKIPPED)).isZero();
    double auc = m.get(JobMetrics.PROGRESSIVE_AUC);
    double cleanAuc = clean.get(JobMetrics.PROGRESSIVE_AUC);
    System.out.printf(
        "hostile: %d records (%d hostile), progressive AUC %.4f against %.4f without them%n",
        hostileRequests + hostileImpressions, landed.size(), auc, cleanAuc);
    assertThat(auc).isCloseTo(cleanAuc, org.assertj.core.api.Assertions.within(0.005));

    // the dead-letter topic holds each bad record, by where it was read, with its reason
    Map<String, DeadLetter> byOrigin = new HashMap<>();
    Map<String, Long> topicByReason = new HashMap<>();
    for (ConsumerRecord<byte[], byte[]> r :
        TopicRecords.readAll(KAFKA.bootstrapServers(), deadLetterTopic)) {
      DeadLetter d = AvroCodec.decode(r.value(), DeadLetter.class);
      assertThat(r.serializedValueSize()).isLessThan(1 << 20);
      byOrigin.put(
          d.getSourceTopic() + "/" + d.getSourcePartition() + "@" + d.getSourceOffset(), d);
      topicByReason.merge(d.getReason(), 1L, Long::sum);
    }
    for (String reason : DeadLetterReasons.ALL) {
      assertThat(topicByReason.getOrDefault(reason, 0L))
          .as(reason)
          .isEqualTo(count(m, JobMetrics.deadLetters(reason)));
    }
    Map<String, Integer> cases = new java.util.TreeMap<>();
    Map<String, java.util.Set<String>> outcomes = new HashMap<>();
    for (Landed l : landed) {
      DeadLetter d = byOrigin.get(l.topic() + "/" + l.partition() + "@" + l.offset());
      String expected = l.what().expectedReason();
      String what = l.what().what() + " at " + l.topic() + "/" + l.partition() + "@" + l.offset();
      if (expected == null) {
        assertThat(d).as(what).isNull();
      } else {
        assertThat(d).as(what).isNotNull();
        assertThat(expected.split("\\|")).as(what).contains(d.getReason());
        if (d.getPayloadBytes() > 0) {
          assertThat(d.getPayloadSha256()).as(what).hasSize(64);
        }
      }
      cases.merge(l.what().what(), 1, Integer::sum);
      outcomes
          .computeIfAbsent(l.what().what(), k -> new java.util.TreeSet<>())
          .add(d == null ? "taken" : d.getReason());
    }
    cases.forEach((what, n) -> System.out.printf("  %-34s %5d  %s%n", what, n, outcomes.get(what)));
    assertThat(cases).hasSizeGreaterThanOrEqualTo(HostileRecords.CASES);
  }
}
