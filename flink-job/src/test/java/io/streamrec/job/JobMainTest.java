package io.streamrec.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.streamrec.job.kafka.KafkaAccessException;
import io.streamrec.job.kafka.KafkaUnreachableException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * In application mode a JobManager that restarts runs the job's entry again. During a broker outage
 * its check of Kafka failed after 30 s, and the deployment with it, where the running job waits an
 * outage out. The entry waits for a broker that does not answer, and fails at once on one that
 * refuses.
 */
class JobMainTest {
  @Test
  void aBrokerThatDoesNotAnswerIsWaitedForSayingSo() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    List<String> said = new ArrayList<>();
    JobMain.awaitKafka(
        () -> {
          if (calls.incrementAndGet() <= 2) {
            throw new KafkaUnreachableException(
                "Kafka at k:9092 did not answer within 30 s.", null);
          }
        },
        Duration.ofMillis(1),
        said::add);

    assertThat(calls).hasValue(3);
    assertThat(said).hasSize(3);
    assertThat(said.get(0))
        .startsWith("streamrec: Kafka at k:9092 did not answer within 30 s. The job's start waits")
        .contains("check kafka.bootstrap-servers");
    assertThat(said.get(2)).startsWith("streamrec: Kafka answered after ");
  }

  @Test
  void aRefusalFailsAtOnce() {
    AtomicInteger calls = new AtomicInteger();
    assertThatThrownBy(
            () ->
                JobMain.awaitKafka(
                    () -> {
                      calls.incrementAndGet();
                      throw new KafkaAccessException(
                          "Kafka at k:9092 refused streamrec's login", null);
                    },
                    Duration.ofMillis(1),
                    s -> {}))
        .isInstanceOf(KafkaAccessException.class)
        .hasMessageContaining("refused");
    assertThat(calls).hasValue(1);
  }
}
