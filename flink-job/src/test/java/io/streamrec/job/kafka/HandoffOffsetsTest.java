package io.streamrec.job.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.runtime.execution.SuppressRestartsException;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

/**
 * A job started from a handoff whose offsets the partitions no longer hold: past the end (the topic
 * made again), the source reset to the earliest offset in silence and trained again what the
 * backfill had; before the first (retention), the records between were skipped in silence.
 */
class HandoffOffsetsTest {
  private static final TopicPartition P0 = new TopicPartition("requests", 0);
  private static final TopicPartition P1 = new TopicPartition("requests", 1);
  private static final TopicPartition P2 = new TopicPartition("requests", 2);

  @Test
  void anOffsetPastThePartitionsEndStopsTheJobWithoutRestarts() {
    HandoffOffsets o = new HandoffOffsets(Map.of(P0, 100_000L), "a.handoff", "n4kPq");
    assertThatThrownBy(() -> o.getPartitionOffsets(List.of(P0), retriever(0, 6_552)))
        .isInstanceOf(SuppressRestartsException.class)
        .cause()
        .hasMessageContaining(
            "the handoff a.handoff reads requests-0 from offset 100000, but the partition ends at"
                + " 6552")
        // a job on another cluster failed here first, before its trainer could say so: the cause
        // is named among the others
        .hasMessageContaining("the handoff's offsets are of Kafka cluster n4kPq (is this job's");
    HandoffOffsets older = new HandoffOffsets(Map.of(P0, 100_000L), "a.handoff", "");
    assertThatThrownBy(() -> older.getPartitionOffsets(List.of(P0), retriever(0, 6_552)))
        .cause()
        .hasMessageContaining("not the one the backfill stopped on: another Kafka cluster's,");
  }

  @Test
  void anOffsetRetentionDeletedStartsAtTheFirstAndOthersAsTheHandoffSays() {
    HandoffOffsets o = new HandoffOffsets(Map.of(P0, 2_243L, P1, 5_000L), "a.handoff", "n4kPq");
    Map<TopicPartition, Long> at =
        o.getPartitionOffsets(List.of(P0, P1, P2), retriever(3_027, 9_000));
    assertThat(at).containsEntry(P0, 3_027L).containsEntry(P1, 5_000L);
    assertThat(at).as("a partition added since starts at its first").containsEntry(P2, 3_027L);
    assertThat(o.getPartitionOffsets(List.of(P1), retriever(0, 5_000))).containsEntry(P1, 5_000L);
  }

  /** Every partition begins at {@code first} and ends at {@code end}. */
  private static OffsetsInitializer.PartitionOffsetsRetriever retriever(long first, long end) {
    return new OffsetsInitializer.PartitionOffsetsRetriever() {
      @Override
      public Map<TopicPartition, Long> committedOffsets(Collection<TopicPartition> partitions) {
        throw new UnsupportedOperationException();
      }

      @Override
      public Map<TopicPartition, Long> endOffsets(Collection<TopicPartition> partitions) {
        return of(partitions, end);
      }

      @Override
      public Map<TopicPartition, Long> beginningOffsets(Collection<TopicPartition> partitions) {
        return of(partitions, first);
      }

      @Override
      public Map<TopicPartition, OffsetAndTimestamp> offsetsForTimes(
          Map<TopicPartition, Long> timestampsToSearch) {
        throw new UnsupportedOperationException();
      }
    };
  }

  private static Map<TopicPartition, Long> of(Collection<TopicPartition> partitions, long v) {
    Map<TopicPartition, Long> m = new java.util.HashMap<>();
    partitions.forEach(p -> m.put(p, v));
    return m;
  }
}
