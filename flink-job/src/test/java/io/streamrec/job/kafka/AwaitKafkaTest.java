package io.streamrec.job.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A start that waits through a broker outage: a trainer restarted during one failed its start every
 * 30 s until the broker was back. No answer is waited for; anything else is not.
 */
class AwaitKafkaTest {
  private static final KafkaUnreachableException NO_ANSWER =
      new KafkaUnreachableException("Kafka at kafka:9092 did not answer within 30 s", null);

  @Test
  void callsAgainUntilKafkaAnswersSayingEachWait() throws Exception {
    int[] calls = {0};
    List<Integer> waits = new ArrayList<>();
    long[] answeredAfter = {-1};
    String answer =
        AwaitKafka.untilAnswered(
            () -> {
              if (calls[0]++ < 2) {
                throw NO_ANSWER;
              }
              return "cluster-a";
            },
            Duration.ZERO,
            new AwaitKafka.Waiting() {
              @Override
              public void unanswered(KafkaUnreachableException e, int attempt, long seconds) {
                assertThat(e).isSameAs(NO_ANSWER);
                waits.add(attempt);
              }

              @Override
              public void answered(long seconds) {
                answeredAfter[0] = seconds;
              }
            });

    assertThat(answer).isEqualTo("cluster-a");
    assertThat(calls[0]).isEqualTo(3);
    assertThat(waits).containsExactly(1, 2);
    assertThat(answeredAfter[0]).isNotNegative();
  }

  @Test
  void aRefusalIsNotWaitedFor() {
    KafkaAccessException refused = new KafkaAccessException("login refused", null);
    assertThatThrownBy(
            () ->
                AwaitKafka.untilAnswered(
                    () -> {
                      throw refused;
                    },
                    Duration.ZERO,
                    (e, attempt, seconds) -> {}))
        .isSameAs(refused);
  }

  @Test
  void aCancelledTaskStopsWaiting() {
    Thread.currentThread().interrupt();
    try {
      assertThatThrownBy(
              () ->
                  AwaitKafka.untilAnswered(
                      () -> {
                        throw NO_ANSWER;
                      },
                      Duration.ofMinutes(1),
                      (e, attempt, seconds) -> {}))
          .isInstanceOf(InterruptedException.class);
    } finally {
      Thread.interrupted();
    }
  }
}
