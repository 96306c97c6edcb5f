package io.streamrec.cli.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;

class ByteRecordProducerTest {
  private static final byte[] VALUE = {1, 2, 3};

  private static MockProducer<byte[], byte[]> mock() {
    return new MockProducer<>(false, null, new ByteArraySerializer(), new ByteArraySerializer());
  }

  @Test
  void settingsAreTheLoadingOnes() {
    Map<String, Object> s = ByteRecordProducer.settings("localhost:1");

    assertThat(s)
        .containsEntry(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, "localhost:1")
        .containsEntry(ProducerConfig.ACKS_CONFIG, "all")
        .containsEntry(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4")
        .containsEntry(ProducerConfig.LINGER_MS_CONFIG, 20);
    assertThat(new ProducerConfig(s).getBoolean(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG))
        .as("idempotent")
        .isTrue();
  }

  /**
   * A user's {@code properties.acks=1} (or {@code acks=0}, {@code retries=0}) met the producer's
   * own {@code enable.idempotence=true}, which Kafka's producer refuses beside them: {@code
   * streamrec produce} checked the broker and its topics, then failed with "Must set acks to all in
   * order to use the idempotent producer", an idempotence the user had not asked for. Idempotence
   * is Kafka's default, on unless the user's settings rule it out; theirs are kept.
   */
  @Test
  void aUsersAcksOrRetriesSettingMakesAProducerKafkaAccepts() {
    for (Map<String, String> users :
        java.util.List.of(Map.of("acks", "1"), Map.of("acks", "0"), Map.of("retries", "0"))) {
      Map<String, Object> s = ByteRecordProducer.settings("localhost:1");
      s.putAll(users);
      assertThatCode(() -> new ProducerConfig(s))
          .as("the producer settings under %s", users)
          .doesNotThrowAnyException();
      users.forEach((k, v) -> assertThat(s).containsEntry(k, v));
      assertThatCode(() -> new ByteRecordProducer("localhost:1", users).close())
          .as("a producer under %s", users)
          .doesNotThrowAnyException();
    }
  }

  @Test
  void sendsKeyTimestampAndValue() {
    MockProducer<byte[], byte[]> mock = mock();
    try (ByteRecordProducer producer = new ByteRecordProducer(mock)) {
      producer.send("t", "r1", 42L, VALUE);
      producer.flush();

      ProducerRecord<byte[], byte[]> sent = mock.history().get(0);
      assertThat(sent.topic()).isEqualTo("t");
      assertThat(new String(sent.key(), StandardCharsets.UTF_8)).isEqualTo("r1");
      assertThat(sent.timestamp()).isEqualTo(42L);
      assertThat(sent.value()).isEqualTo(VALUE);
      assertThat(producer.acknowledged("t")).isEqualTo(1);
    }
  }

  @Test
  void anAsynchronousFailureIsThrownByFlushWithItsTopic() {
    MockProducer<byte[], byte[]> mock = mock();
    try (ByteRecordProducer producer = new ByteRecordProducer(mock)) {
      producer.send("good", "a", 1L, VALUE);
      producer.send("bad", "b", 2L, VALUE);
      producer.send("bad", "c", 3L, VALUE);
      mock.completeNext();
      mock.errorNext(new RecordTooLargeException("too big"));
      mock.errorNext(new RecordTooLargeException("too big again"));

      assertThatThrownBy(producer::flush)
          .isInstanceOfSatisfying(
              ProduceFailedException.class,
              e -> {
                assertThat(e.topic()).isEqualTo("bad");
                assertThat(e.failedRecords()).isEqualTo(2);
                assertThat(e.getCause()).hasMessage("too big");
              })
          .hasMessageContaining("2 records could not be written to topic 'bad'");
      assertThat(producer.acknowledged("good")).isEqualTo(1);
    }
  }

  @Test
  void aSendAfterAFailureThrowsAtOnce() {
    MockProducer<byte[], byte[]> mock = mock();
    try (ByteRecordProducer producer = new ByteRecordProducer(mock)) {
      producer.send("t", "a", 1L, VALUE);
      mock.errorNext(new RecordTooLargeException("too big"));

      assertThatThrownBy(() -> producer.send("t", "b", 2L, VALUE))
          .isInstanceOf(ProduceFailedException.class)
          .hasMessageContaining("topic 't'");
      assertThat(mock.history()).hasSize(1);
    }
  }

  @Test
  void aSynchronousFailureNamesTheTopic() {
    MockProducer<byte[], byte[]> mock = mock();
    mock.sendException = new KafkaException("producer closed");
    try (ByteRecordProducer producer = new ByteRecordProducer(mock)) {
      assertThatThrownBy(() -> producer.send("t", "a", 1L, VALUE))
          .isInstanceOfSatisfying(
              ProduceFailedException.class, e -> assertThat(e.topic()).isEqualTo("t"))
          .hasMessageContaining("1 record could not be written to topic 't'");
    }
  }
}
