package io.streamrec.job.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;
import org.apache.flink.connector.kafka.source.enumerator.subscriber.KafkaSubscriber;
import org.apache.flink.util.InstantiationUtil;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.junit.jupiter.api.Test;

/**
 * The sources' partition discovery through a broker outage: a listing that times out fails nothing
 * (the connector failed the job on it, so an outage over a minute restarted the job), while any
 * other failure fails as before.
 */
class OutageTolerantSubscriberTest {
  private static final List<String> TOPICS = List.of("requests");
  private static final Set<TopicPartition> TWO =
      Set.of(new TopicPartition("requests", 0), new TopicPartition("requests", 1));
  private static final Set<TopicPartition> THREE =
      Set.of(
          new TopicPartition("requests", 0),
          new TopicPartition("requests", 1),
          new TopicPartition("requests", 2));

  /** The connector's own listing wraps the admin client's failure as this. */
  private static RuntimeException listingFailed(Throwable cause) {
    return new RuntimeException("Failed to get metadata for topics " + TOPICS, cause);
  }

  private static final Supplier<Set<TopicPartition>> TIMES_OUT =
      () -> {
        throw listingFailed(
            new java.util.concurrent.ExecutionException(
                new TimeoutException("Timed out waiting for a node assignment")));
      };

  /** A listing that answers from {@code answers} in turn. */
  private static OutageTolerantSubscriber answering(
      Deque<Supplier<Set<TopicPartition>>> answers, int[] calls) {
    KafkaSubscriber listing =
        admin -> {
          calls[0]++;
          return answers.removeFirst().get();
        };
    return OutageTolerantSubscriber.over(listing, TOPICS, 0);
  }

  @Test
  void aListingThatTimesOutAnswersThePartitionsListedLast() {
    int[] calls = {0};
    OutageTolerantSubscriber s =
        answering(new ArrayDeque<>(List.of(() -> TWO, TIMES_OUT, TIMES_OUT, () -> THREE)), calls);

    assertThat(s.getSubscribedTopicPartitions(null)).isEqualTo(TWO);
    assertThat(s.getSubscribedTopicPartitions(null)).as("broker down").isEqualTo(TWO);
    assertThat(s.getSubscribedTopicPartitions(null)).as("still down").isEqualTo(TWO);
    assertThat(s.getSubscribedTopicPartitions(null)).as("back, a partition added").isEqualTo(THREE);
    assertThat(calls[0]).isEqualTo(4);
  }

  @Test
  void aSourceThatListedNothingYetAsksAgainUntilTheBrokersAnswer() {
    int[] calls = {0};
    OutageTolerantSubscriber s =
        answering(new ArrayDeque<>(List.of(TIMES_OUT, TIMES_OUT, TIMES_OUT, () -> TWO)), calls);

    assertThat(s.getSubscribedTopicPartitions(null)).isEqualTo(TWO);
    assertThat(calls[0]).isEqualTo(4);
  }

  @Test
  void anyOtherFailureFailsAsBefore() {
    RuntimeException refused = listingFailed(new TopicAuthorizationException(Set.of("requests")));
    OutageTolerantSubscriber s =
        answering(
            new ArrayDeque<>(
                List.of(
                    () -> TWO,
                    () -> {
                      throw refused;
                    })),
            new int[1]);

    s.getSubscribedTopicPartitions(null);
    assertThatThrownBy(() -> s.getSubscribedTopicPartitions(null)).isSameAs(refused);
  }

  @Test
  void aWaitInterruptedByTheSourcesCloseEndsTheListing() {
    OutageTolerantSubscriber s =
        OutageTolerantSubscriber.over(admin -> TIMES_OUT.get(), TOPICS, 60_000);
    Thread.currentThread().interrupt();
    try {
      assertThatThrownBy(() -> s.getSubscribedTopicPartitions(null))
          .hasMessageContaining("interrupted");
    } finally {
      assertThat(Thread.interrupted()).as("the interrupt kept").isTrue();
    }
  }

  /** The source ships its subscriber to the job manager serialized; what it listed stays behind. */
  @Test
  void itTravelsSerializedWithTheSource() throws Exception {
    OutageTolerantSubscriber s = OutageTolerantSubscriber.of(TOPICS);
    OutageTolerantSubscriber copy =
        InstantiationUtil.clone(s, OutageTolerantSubscriber.class.getClassLoader());
    assertThat(copy).isNotNull().isNotSameAs(s);
  }
}
