package io.streamrec.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrec.common.KafkaClientProperties;
import io.streamrec.job.kafka.RangeCuts;
import io.streamrec.testutils.KafkaBroker;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A backfill's {@code --until} cuts each partition at the first record Kafka finds at or after the
 * time. One request from a producer whose clock ran ten minutes ahead cut its partition there, and
 * the backfill lost a quarter of the range's requests without a word; now the start says which
 * partition is cut where, and what it costs.
 */
class RangeCutsITCase {
  @RegisterExtension static final KafkaBroker KAFKA = new KafkaBroker();

  private static final long T0 = 1_767_225_600_000L;

  @Test
  void aCutAtARecordTimedAheadOfThoseAfterItIsSaidAndAnOrdinaryOneIsNot() throws Exception {
    String bootstrap = KAFKA.bootstrapServers();
    String topic = "skewed";
    ModelUpdatesSupport.createTopic(bootstrap, topic);
    String clean = "clean";
    ModelUpdatesSupport.createTopic(bootstrap, clean);
    try (KafkaProducer<byte[], byte[]> p = ModelUpdatesSupport.producer(bootstrap)) {
      for (int i = 0; i < 600; i++) {
        long t = T0 + i * 1_000L;
        if (i == 100) {
          send(p, topic, T0 + 600_000); // ten minutes ahead
        }
        send(p, topic, t);
        // ordinary disorder: every tenth record a second and a half late
        send(p, clean, i % 10 == 5 ? t - 1_500 : t);
      }
      p.flush();
    }
    long until = T0 + 120_000;
    List<String> lines =
        RangeCuts.skewed(
            bootstrap,
            KafkaClientProperties.empty(),
            List.of(topic, clean),
            until,
            2_000,
            "--until");
    assertThat(lines).hasSize(1);
    assertThat(lines.get(0))
        .startsWith(
            "skewed[0]: --until 2026-01-01T00:02:00Z cuts it at offset 100, a record timed"
                + " 2026-01-01T00:10:00Z, and 20 of the 200 records after it are timed before"
                + " 2026-01-01T00:02:00Z")
        .contains("those are not read");
    // a backfill that hands on stops the impressions a join window and the disorder past --until
    assertThat(
            RangeCuts.skewed(
                bootstrap,
                KafkaClientProperties.empty(),
                List.of(topic),
                until - 12_000,
                2_000,
                "--until + 12000 ms"))
        .singleElement()
        .asString()
        .startsWith("skewed[0]: --until + 12000 ms 2026-01-01T00:01:48Z cuts it at offset 100")
        .contains("those are not read");
    assertThat(
            RangeCuts.skewed(
                bootstrap,
                KafkaClientProperties.empty(),
                List.of(clean),
                until + 500,
                2_000,
                "--until"))
        .isEmpty();
    assertThat(
            RangeCuts.skewed(
                bootstrap,
                KafkaClientProperties.empty(),
                List.of(topic),
                T0 + 50_000,
                2_000,
                "--from"))
        .as("a cut before the record timed ahead")
        .isEmpty();
  }

  private static void send(KafkaProducer<byte[], byte[]> p, String topic, long t) {
    byte[] b = Long.toString(t).getBytes(StandardCharsets.UTF_8);
    p.send(new ProducerRecord<>(topic, 0, t, b, b));
  }
}
