package io.streamrec.job.source;

import java.util.List;
import java.util.Set;
import org.apache.flink.connector.kafka.source.enumerator.subscriber.KafkaSubscriber;
import org.apache.flink.util.ExceptionUtils;
import org.apache.kafka.clients.admin.AdminClient;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Kafka source's partition discovery that waits out a broker outage.
 *
 * <p>The source lists its topics' partitions when it starts and every {@code
 * partition.discovery.interval.ms} (5 s in streamrec's jobs), and the connector fails the job when
 * one listing fails. Its admin client gives up after {@code default.api.timeout.ms} (60 s), so a
 * broker outage that outlasted a minute restarted the job, and a job restarted during an outage
 * failed again a minute after each start (its first listing is at once), until the broker was back.
 * Nothing was lost, but every restart re-read from the checkpoint.
 *
 * <p>This subscriber lists the topics as the connector's own does. Where a listing times out, it
 * answers the partitions it listed last, so the readers go on with theirs and the next discovery
 * asks again; where it has listed none yet (a source just started or restarted), it asks again
 * until the brokers answer, while the readers wait on the partitions they restored. Any other
 * failure (a topic deleted, an authorization refused) fails the job as before.
 */
public final class OutageTolerantSubscriber implements KafkaSubscriber {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(OutageTolerantSubscriber.class);

  /** Pause between two listings of a source that has none yet, where a listing fails at once. */
  static final long RETRY_PAUSE_MS = 1_000;

  private static final java.util.Comparator<TopicPartition> BY_NAME =
      java.util.Comparator.comparing(TopicPartition::topic)
          .thenComparingInt(TopicPartition::partition);

  private final KafkaSubscriber listing;
  private final List<String> topics;
  private final long retryPauseMs;
  private transient Set<TopicPartition> listed;
  private transient boolean unanswered;

  private OutageTolerantSubscriber(
      KafkaSubscriber listing, List<String> topics, long retryPauseMs) {
    this.listing = listing;
    this.topics = List.copyOf(topics);
    this.retryPauseMs = retryPauseMs;
  }

  /** Subscribes to {@code topics}, as the builder's {@code setTopics} does. */
  public static OutageTolerantSubscriber of(List<String> topics) {
    return new OutageTolerantSubscriber(
        KafkaSubscriber.getTopicListSubscriber(topics), topics, RETRY_PAUSE_MS);
  }

  /** Over another listing of the same topics, pausing {@code retryPauseMs} between; for tests. */
  static OutageTolerantSubscriber over(
      KafkaSubscriber listing, List<String> topics, long retryPauseMs) {
    return new OutageTolerantSubscriber(listing, topics, retryPauseMs);
  }

  @Override
  public Set<TopicPartition> getSubscribedTopicPartitions(AdminClient admin) {
    for (int attempt = 1; ; attempt++) {
      try {
        Set<TopicPartition> partitions = listing.getSubscribedTopicPartitions(admin);
        if (unanswered) {
          LOG.info("The brokers answered the partition discovery of {} again", topics);
          unanswered = false;
        }
        if (listed != null && !listed.containsAll(partitions)) {
          LOG.info(
              "Partitions added to {}: {}; the source reads them from their earliest offset",
              topics,
              partitions.stream().filter(tp -> !listed.contains(tp)).sorted(BY_NAME).toList());
        }
        listed = Set.copyOf(partitions);
        return partitions;
      } catch (RuntimeException e) {
        // a listing's time-out: no broker answered in time
        if (ExceptionUtils.findThrowable(e, TimeoutException.class).isEmpty()) {
          throw e;
        }
        unanswered = true;
        if (listed != null) {
          LOG.warn(
              "No broker answered the partition discovery of {} ({}); the source reads on from"
                  + " its {} partitions and asks again at the next discovery",
              topics,
              e.getMessage(),
              listed.size());
          return listed;
        }
        LOG.warn(
            "No broker answered the partition listing of {} ({}); asking again (attempt {}), the"
                + " source's readers wait on the partitions they have",
            topics,
            e.getMessage(),
            attempt);
        pause();
      }
    }
  }

  private void pause() {
    try {
      Thread.sleep(retryPauseMs);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("partition listing interrupted", e);
    }
  }
}
