package io.streamrec.tests;

import static io.streamrec.tests.PipelineSupport.count;
import static org.assertj.core.api.Assertions.assertThat;

import io.streamrec.common.Auc;
import io.streamrec.job.config.ModelOptions;
import io.streamrec.job.config.TopicsConfig;
import io.streamrec.job.metrics.JobMetrics;
import io.streamrec.schemas.AvroCodec;
import io.streamrec.schemas.DeadLetter;
import io.streamrec.schemas.DeadLetterReasons;
import io.streamrec.serving.ModelReplica;
import io.streamrec.testutils.KafkaBroker;
import io.streamrec.testutils.ModelUpdateRecords;
import io.streamrec.testutils.TopicRecords;
import io.streamrec.traffic.FaultConfig;
import io.streamrec.traffic.OutgoingRecord.Fate;
import io.streamrec.traffic.TrafficConfig;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.LongStream;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The whole way, through real parts: generated traffic (with duplicates, orphans, late, malformed
 * and non-finite records) on a real in-process Kafka broker, the job on a Flink MiniCluster, model
 * deltas on the compacted topic, and a replica built from that topic scoring held-out traffic.
 */
class PipelineITCase {
  private static final long JOIN_WINDOW_MS = 3_000;
  private static final long START_MS = 1_767_225_600_000L;
  private static final int REQUESTS = 8_000;

  /** 8,000 requests 15 ms apart: two minutes of event time, twelve publish periods. */
  private static final long SPACING_MS = 15;

  @RegisterExtension static final MiniClusterExtension FLINK = PipelineSupport.miniCluster();

  @RegisterExtension static final KafkaBroker KAFKA = new KafkaBroker();

  private static GeneratedTraffic traffic(long seed) {
    return new GeneratedTraffic(
        TrafficConfig.defaults().withSeed(seed).withUsers(1_000).withItems(500),
        FaultConfig.defaults().withSeed(seed).withAllRates(0.01).withJoinWindowMs(JOIN_WINDOW_MS),
        REQUESTS,
        START_MS,
        SPACING_MS,
        1);
  }

  /**
   * With the default model, and with FTRL-Proximal's wide rows and field-weighted wide crosses
   * (their rows through the tiered store and the topic; the replica must hold every row the job's
   * markers count before it serves).
   */
  @ParameterizedTest(name = "wide rows by {0}")
  @ValueSource(strings = {"adagrad", "ftrl"})
  void trafficBecomesAServedModelAndEveryRecordIsAccountedFor(String wideOptimizer)
      throws Exception {
    String bootstrap = KAFKA.bootstrapServers();
    TopicsConfig topics = PipelineSupport.topics(bootstrap, "e2e-" + wideOptimizer + "-");
    GeneratedTraffic traffic = traffic(11);
    PipelineSupport.produce(bootstrap, topics, traffic.records);

    Configuration conf = PipelineSupport.jobConf(bootstrap, topics, JOIN_WINDOW_MS);
    if (wideOptimizer.equals("ftrl")) {
      conf.set(ModelOptions.WIDE_OPTIMIZER, "ftrl");
      conf.set(ModelOptions.WIDE_CROSSES, "field-weighted");
    }
    Map<String, Double> m = PipelineSupport.backfill(conf);

    // every impression that came in ends in exactly one place, and each place holds what the
    // generator expected
    long in = count(m, JobMetrics.IMPRESSIONS_IN);
    long trained = count(m, JobMetrics.IMPRESSIONS_TRAINED);
    long duplicates = count(m, JobMetrics.DUPLICATE_IMPRESSIONS);
    long dead = count(m, JobMetrics.DEAD_LETTER_IMPRESSIONS);
    assertThat(in).isEqualTo(traffic.impressions());
    assertThat(trained + duplicates + dead).isEqualTo(in);
    assertThat(trained).isEqualTo(traffic.impressions(Fate.TRAIN));
    assertThat(duplicates).isEqualTo(traffic.impressions(Fate.DUPLICATE));
    assertThat(count(m, JobMetrics.deadLetters(DeadLetterReasons.ORPHAN)))
        .isEqualTo(traffic.impressions(Fate.ORPHAN));
    assertThat(count(m, JobMetrics.deadLetters(DeadLetterReasons.LATE)))
        .isEqualTo(traffic.impressions(Fate.LATE));
    assertThat(count(m, JobMetrics.deadLetters(DeadLetterReasons.NON_FINITE)))
        .isEqualTo(traffic.impressions(Fate.NON_FINITE));
    assertThat(count(m, JobMetrics.deadLetters(DeadLetterReasons.MALFORMED)))
        .isEqualTo(traffic.impressions(Fate.MALFORMED) + traffic.requests(Fate.MALFORMED));
    // and every request
    assertThat(count(m, JobMetrics.REQUESTS_IN)).isEqualTo(traffic.requests());
    assertThat(
            count(m, JobMetrics.UNITS)
                + count(m, JobMetrics.REQUESTS_WITHOUT_IMPRESSIONS)
                + count(m, JobMetrics.DUPLICATE_REQUESTS)
                + count(m, JobMetrics.DEAD_LETTER_REQUESTS))
        .isEqualTo(count(m, JobMetrics.REQUESTS_IN));

    // the dead-letter topic holds one record per dead letter counted, with its reason
    Map<String, Long> byReason = new HashMap<>();
    for (ConsumerRecord<byte[], byte[]> r : TopicRecords.readAll(bootstrap, topics.deadLetters())) {
      byReason.merge(AvroCodec.decode(r.value(), DeadLetter.class).getReason(), 1L, Long::sum);
    }
    for (String reason : DeadLetterReasons.ALL) {
      assertThat(byReason.getOrDefault(reason, 0L))
          .as(reason)
          .isEqualTo(count(m, JobMetrics.deadLetters(reason)));
    }

    // the model learnt (progressive validation) and was published as consecutive versions
    assertThat(m.get(JobMetrics.PROGRESSIVE_AUC)).isGreaterThan(0.6);
    // the trainer ends where the traffic's event time ends: its last units close a join window on
    assertThat(m.get(JobMetrics.TRAINED_UNTIL_MS))
        .isBetween(
            (double) START_MS + (REQUESTS - 100) * SPACING_MS,
            (double) START_MS + REQUESTS * SPACING_MS + 2 * JOIN_WINDOW_MS);
    long version = count(m, JobMetrics.MODEL_VERSION);
    List<ConsumerRecord<byte[], byte[]>> updates =
        TopicRecords.readAll(bootstrap, topics.modelUpdates());
    List<Long> versions = ModelUpdateRecords.versions(updates);
    assertThat(versions).isEqualTo(LongStream.rangeClosed(1, versions.size()).boxed().toList());
    assertThat((long) versions.size()).isEqualTo(version).isGreaterThanOrEqualTo(10);
    assertThat(count(m, JobMetrics.DELTAS_PUBLISHED))
        .isEqualTo(updates.size() - 2 * version); // less each version's marker and spec

    // a replica built from the topic alone scores traffic the model never saw, clearly above chance
    try (ModelReplica replica = ModelReplica.start(bootstrap, topics.modelUpdates())) {
      assertThat(replica.awaitVersion(version, Duration.ofSeconds(30))).isTrue();
      GeneratedTraffic.HeldOut held = traffic.heldOut(3_000, traffic.lastEventMs + 60_000);
      float[] p = replica.score(held.units);
      double[] s = new double[p.length];
      double[] o = new double[p.length];
      for (int i = 0; i < p.length; i++) {
        s[i] = p[i];
        o[i] = held.truth.get(i);
      }
      double auc = Auc.exact(s, held.labelArray());
      double oracle = Auc.exact(o, held.labelArray());
      System.out.printf(
          "e2e: %d impressions in, %d trained, progressive AUC %.4f; replica v%d held-out AUC %.4f (oracle %.4f)%n",
          in, trained, m.get(JobMetrics.PROGRESSIVE_AUC), replica.version(), auc, oracle);
      assertThat(auc).isGreaterThan(0.6);
      assertThat(replica.gaps()).isZero();
    }
  }
}
