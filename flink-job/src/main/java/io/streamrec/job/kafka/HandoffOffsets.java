package io.streamrec.job.kafka;

import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.runtime.execution.SuppressRestartsException;
import org.apache.kafka.clients.consumer.OffsetResetStrategy;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where a job started from a handoff reads each partition: the offset the handoff's backfill
 * stopped at, checked against what the partition holds when the job starts (a restore from a
 * checkpoint reads on from its own offsets and never asks). A partition added since starts at its
 * earliest offset.
 *
 * <ul>
 *   <li>An offset past the partition's end means the topic is not the one the handoff was written
 *       against (another Kafka cluster, the topic made again, or records lost to an unclean leader
 *       election): the source reset it to the earliest offset in silence and trained again what the
 *       backfill had trained. The job stops without restarts, saying so. (The trainer refuses a
 *       handoff of another cluster in its own words, but only once it opens, after the sources have
 *       started.)
 *   <li>An offset before the partition's first (retention deleted records before the job read them)
 *       cannot be read: the job starts at the first and says how many records the model will never
 *       see, where they were skipped in silence.
 * </ul>
 */
public final class HandoffOffsets implements OffsetsInitializer {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(HandoffOffsets.class);

  private final Map<TopicPartition, Long> offsets;
  private final String handoff;
  private final String cluster;

  /**
   * The handoff {@code handoff}'s {@code offsets}, positions in the Kafka cluster {@code cluster}
   * ("": the handoff does not say).
   */
  public HandoffOffsets(Map<TopicPartition, Long> offsets, String handoff, String cluster) {
    this.offsets = new HashMap<>(offsets);
    this.handoff = handoff;
    this.cluster = cluster;
  }

  @Override
  public Map<TopicPartition, Long> getPartitionOffsets(
      Collection<TopicPartition> partitions, PartitionOffsetsRetriever retriever) {
    Map<TopicPartition, Long> begin = retriever.beginningOffsets(partitions);
    Map<TopicPartition, Long> end = retriever.endOffsets(partitions);
    Map<TopicPartition, Long> out = new HashMap<>();
    for (TopicPartition tp : partitions) {
      Long at = offsets.get(tp);
      long first = begin.getOrDefault(tp, 0L);
      if (at == null) {
        out.put(tp, first); // a partition added since the handoff was written
        continue;
      }
      out.put(tp, check(tp, at, first, end.getOrDefault(tp, Long.MAX_VALUE)));
    }
    return out;
  }

  /**
   * Where {@code tp} is read from, for a handoff offset {@code at} and the partition's {@code
   * first} and {@code end} offsets; throws where the handoff does not belong to the partition.
   */
  private long check(TopicPartition tp, long at, long first, long end) {
    if (at > end) {
      throw new SuppressRestartsException(
          new io.streamrec.common.StreamrecException(
              "the handoff "
                  + handoff
                  + " reads "
                  + tp
                  + " from offset "
                  + at
                  + ", but the partition ends at "
                  + end
                  + ": the topic is not the one the backfill stopped on: "
                  + (cluster.isEmpty()
                      ? "another Kafka cluster's,"
                      : "the handoff's offsets are of Kafka cluster "
                          + cluster
                          + " (is this job's another?),")
                  + " the topic made again, or records lost since. Backfill again and start from"
                  + " the new handoff, or start without one"));
    }
    if (at < first) {
      LOG.warn(
          "the handoff {} reads {} from offset {}, but the partition begins at {}: {} records were"
              + " deleted (retention) before this job read them, and the model never sees those"
              + " its backfill had not read; reading from {}",
          handoff,
          tp,
          at,
          first,
          first - at,
          first);
      return first;
    }
    return at;
  }

  @Override
  public OffsetResetStrategy getAutoOffsetResetStrategy() {
    return OffsetResetStrategy.EARLIEST;
  }
}
