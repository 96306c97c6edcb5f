package io.streamrec.job.sink;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrec.job.deadletter.DeadLetters;
import io.streamrec.schemas.DeadLetterReasons;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.metrics.groups.UnregisteredMetricsGroup;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;

/**
 * The dead-letter writer's close while the broker is away: Flink closes a writer without
 * interrupting it when it stops or fails over a job, so a close that waits for the broker without a
 * limit held the task until Flink's cancellation watchdog killed the task manager.
 */
class DeadLetterSinkTest {
  /** A producer whose broker never answers: its sends stay incomplete; it notes how it closes. */
  private static final class Unanswered extends MockProducer<byte[], byte[]> {
    final List<String> closes = new ArrayList<>();

    Unanswered() {
      super(false, null, new ByteArraySerializer(), new ByteArraySerializer());
    }

    @Override
    public void close() {
      closes.add("without a limit");
    }

    @Override
    public void close(Duration timeout) {
      closes.add(timeout.toString());
    }
  }

  @Test
  void closeWaitsForUnacknowledgedLettersForALimitedTimeOnly() {
    Unanswered producer = new Unanswered();
    DeadLetterSink.Writer w =
        new DeadLetterSink.Writer(
            producer, "dead-letters", 64 << 10, new UnregisteredMetricsGroup());
    w.write(
        DeadLetters.of(
            DeadLetterReasons.MALFORMED,
            new DeadLetters.Origin("requests", 0, 7, "r7", 1L),
            "a letter in flight as the broker went away",
            new byte[] {1, 2, 3},
            64 << 10));
    assertThat(producer.history()).hasSize(1);
    w.close();
    assertThat(producer.closes).containsExactly(DeadLetterSink.CLOSE_WAIT.toString());
    assertThat(DeadLetterSink.CLOSE_WAIT).isLessThan(Duration.ofMinutes(3));
    assertThat(w.written()).isZero();
  }

  /**
   * A send waits for the topic's metadata up to max.block.ms, Kafka's minute by default: in an
   * outage, a letter whose topic the producer had no metadata of (its first, or the first after
   * five minutes without one) failed after a minute and was lost, where the sink promises a delay.
   * A user's own setting stays.
   */
  @Test
  void aLetterWaitsForTheBrokerAsLongAsItIsAwayUnlessTheUserSaysOtherwise() {
    java.util.Properties p =
        new DeadLetterSink("dead-letters", java.util.Map.of(), 64 << 10).producerSettings(3);
    assertThat(p.getProperty("max.block.ms")).isEqualTo(String.valueOf(Integer.MAX_VALUE));
    assertThat(p.getProperty("delivery.timeout.ms")).isEqualTo(String.valueOf(Integer.MAX_VALUE));
    assertThat(p.getProperty("client.id")).isEqualTo("streamrec-dead-letters-3");
    java.util.Properties mine =
        new DeadLetterSink("dead-letters", java.util.Map.of("max.block.ms", "5000"), 64 << 10)
            .producerSettings(0);
    assertThat(mine.getProperty("max.block.ms")).isEqualTo("5000");
  }

  /**
   * A user's {@code properties.acks=1} (kept by the dead-letter producer, the model's sinks write
   * with acks=all whatever it says) met the sink's own {@code enable.idempotence=true}, which
   * Kafka's producer refuses with acks other than all: every start of the job failed creating the
   * dead-letter writer ("Must set acks to all in order to use the idempotent producer"), and the
   * job restarted for ever. The same held for a {@code max.in.flight.requests.per.connection} over
   * 5 and {@code retries=0}. Idempotence is Kafka's default, on unless the user's settings rule it
   * out.
   */
  @Test
  void aUsersAcksOrRetriesSettingLeavesTheDeadLetterProducerOneKafkaAccepts() {
    for (java.util.Map<String, String> users :
        List.of(java.util.Map.of("acks", "1"), java.util.Map.of("retries", "0"))) {
      java.util.Properties p =
          new DeadLetterSink("dead-letters", users, 64 << 10).producerSettings(0);
      p.put("bootstrap.servers", "localhost:9092");
      org.assertj.core.api.Assertions.assertThatCode(
              () -> new org.apache.kafka.clients.producer.ProducerConfig(p))
          .as("the producer settings under %s", users)
          .doesNotThrowAnyException();
      users.forEach((k, v) -> assertThat(p.getProperty(k)).isEqualTo(v));
    }
    java.util.Properties ours =
        new DeadLetterSink("dead-letters", java.util.Map.of(), 64 << 10).producerSettings(0);
    ours.put("bootstrap.servers", "localhost:9092");
    var config = new org.apache.kafka.clients.producer.ProducerConfig(ours);
    assertThat(config.getBoolean("enable.idempotence")).isTrue();
    assertThat(config.getString("acks")).isEqualTo("-1");
  }
}
