package io.streamrec.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrec.cli.kafka.Topics;
import io.streamrec.job.deadletter.DeadLetters;
import io.streamrec.job.sink.DeadLetterSink;
import io.streamrec.schemas.AvroCodec;
import io.streamrec.schemas.DeadLetter;
import io.streamrec.schemas.DeadLetterReasons;
import io.streamrec.testutils.KafkaBroker;
import io.streamrec.testutils.TopicRecords;
import java.util.List;
import java.util.Map;
import org.apache.flink.metrics.groups.UnregisteredMetricsGroup;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The dead-letter writer against a real broker whose topic refuses large records: what the broker
 * refuses is counted, everything else is written, and nothing throws.
 */
class DeadLetterSinkITCase {
  @RegisterExtension static final KafkaBroker KAFKA = new KafkaBroker();

  @Test
  void lettersTheBrokerRefusesAreCountedAndTheRestWritten() throws Exception {
    String topic = "small-dead-letters";
    try (Admin admin =
        Admin.create(
            Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, KAFKA.bootstrapServers()))) {
      admin
          .createTopics(
              List.of(
                  new NewTopic(topic, 1, (short) 1).configs(Map.of("max.message.bytes", "4000"))))
          .all()
          .get();
      Topics.awaitServed(admin, List.of(topic));
    }
    KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(
            Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                KAFKA.bootstrapServers(),
                ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG,
                ByteArraySerializer.class,
                ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG,
                ByteArraySerializer.class,
                ProducerConfig.ACKS_CONFIG,
                "all",
                ProducerConfig.COMPRESSION_TYPE_CONFIG,
                "none"));
    try (DeadLetterSink.Writer w =
        new DeadLetterSink.Writer(producer, topic, 64 << 10, new UnregisteredMetricsGroup())) {
      for (int i = 0; i < 8; i++) {
        int size = i % 3 == 0 ? 30_000 : 100;
        byte[] payload = new byte[size];
        new java.util.Random(i).nextBytes(payload);
        w.write(
            DeadLetters.of(
                DeadLetterReasons.MALFORMED,
                new DeadLetters.Origin("requests", 0, i, "r" + i, 1L),
                "test letter " + i,
                payload,
                64 << 10));
        // one batch per letter: a refused batch must not take good letters with it here
        w.flush(false);
      }
      assertThat(w.unwritten()).isEqualTo(3);
      assertThat(w.written()).isEqualTo(5);
    }
    List<ConsumerRecord<byte[], byte[]>> out =
        TopicRecords.readAll(KAFKA.bootstrapServers(), topic);
    assertThat(out)
        .extracting(r -> AvroCodec.decode(r.value(), DeadLetter.class).getSourceOffset())
        .containsExactly(1L, 2L, 4L, 5L, 7L);
  }
}
