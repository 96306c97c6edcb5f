package io.streamrec.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.streamrec.job.kafka.KafkaAccessException;
import io.streamrec.job.kafka.KafkaUnreachableException;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * A {@code run} started while its broker is down: one that resumes a checkpoint waits for the
 * broker, as the running job does through an outage, where it exited after 30 s; a first start,
 * whose address may be wrong, fails at once; a refusal fails either way.
 */
class ResumeBrokerWaitTest {
  private final ByteArrayOutputStream printed = new ByteArrayOutputStream();
  private final PrintStream out = new PrintStream(printed, true, StandardCharsets.UTF_8);

  private static final String NO_ANSWER =
      "Kafka at kafka:9092 did not answer within 30 s (describe topic requests, as PLAINTEXT): is"
          + " the address right, the broker up, and security.protocol the listener's?";

  /** A check that gets no answer {@code times} times, then passes; counts its calls. */
  private static Runnable answeringAfter(int times, int[] calls) {
    return () -> {
      if (calls[0]++ < times) {
        throw new KafkaUnreachableException(NO_ANSWER, null);
      }
    };
  }

  @Test
  void aStartThatResumesACheckpointWaitsForTheBroker() throws Exception {
    int[] calls = {0};
    RunCommand.awaitBroker(answeringAfter(3, calls), true, Duration.ZERO, out);

    assertThat(calls[0]).isEqualTo(4);
    String said = printed.toString(StandardCharsets.UTF_8);
    assertThat(said)
        .contains(NO_ANSWER + " This start resumes a checkpoint of a job that read from it")
        .contains("still waiting for Kafka")
        .contains("streamrec run: Kafka answers after");
  }

  @Test
  void aFirstStartFailsAtOnce() {
    int[] calls = {0};
    assertThatThrownBy(
            () -> RunCommand.awaitBroker(answeringAfter(1, calls), false, Duration.ZERO, out))
        .isInstanceOf(KafkaUnreachableException.class)
        .hasMessage(NO_ANSWER);
    assertThat(calls[0]).isEqualTo(1);
  }

  @Test
  void aRefusalFailsAResumingStartToo() {
    KafkaAccessException refused = new KafkaAccessException("login refused", null);
    assertThatThrownBy(
            () ->
                RunCommand.awaitBroker(
                    () -> {
                      throw refused;
                    },
                    true,
                    Duration.ZERO,
                    out))
        .isSameAs(refused);
  }

  @Test
  void aBrokerThatAnswersStartsWithoutAWord() throws Exception {
    RunCommand.awaitBroker(() -> {}, true, Duration.ZERO, out);
    assertThat(printed.toString(StandardCharsets.UTF_8)).isEmpty();
  }
}
