package io.streamrec.job.sink;

import io.streamrec.model.units.CompactUnit;
import io.streamrec.model.units.CompactUnitCodec;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.utils.Utils;

/**
 * The request-units topic's records: a unit's {@link CompactUnitCodec} bytes keyed by its request
 * id, with its close time as the record's timestamp, in a partition of the writing subtask's own.
 *
 * <p>Each assembler subtask writes its units in close-time order (its timers fire in time order as
 * its watermark passes them), but the subtasks' event times drift apart, in a backfill by many
 * seconds. Had every subtask written to every partition, a partition would hold the units of one
 * subtask behind those of another, out of close order by that drift, far past what a run over the
 * log allows ({@code source.units.max-out-of-orderness}): its trainer took those units after their
 * close had passed and trained them in other batches than the run over the events. So subtask
 * {@code i} of {@code n} writes only to the partitions at positions {@code i}, {@code i + n}, ...
 * of the topic's (spread by the key's hash among them), and each partition is in close order. A
 * topic of fewer partitions than writers has subtasks share them ({@code i} modulo its count).
 */
final class UnitRecords implements KafkaRecordSerializationSchema<CompactUnit> {
  private static final long serialVersionUID = 1L;

  private final String topic;

  /** This subtask's partitions, found at its first record. */
  private transient int[] own;

  UnitRecords(String topic) {
    this.topic = topic;
  }

  @Override
  public ProducerRecord<byte[], byte[]> serialize(
      CompactUnit u, KafkaSinkContext context, Long timestamp) {
    byte[] key = u.requestId().getBytes(StandardCharsets.UTF_8);
    if (own == null) {
      own =
          partitionsOf(
              context.getParallelInstanceId(),
              context.getNumberOfParallelInstances(),
              context.getPartitionsForTopic(topic));
    }
    return new ProducerRecord<>(
        topic, partition(own, key), u.closedAtMs(), key, CompactUnitCodec.encode(u));
  }

  /** The partitions, of {@code all}, that subtask {@code subtask} of {@code subtasks} writes. */
  static int[] partitionsOf(int subtask, int subtasks, int[] all) {
    if (all.length == 0) {
      throw new IllegalStateException("no partitions found for the request-units topic");
    }
    int[] sorted = all.clone();
    Arrays.sort(sorted);
    if (sorted.length <= subtask) {
      return new int[] {sorted[subtask % sorted.length]};
    }
    int[] mine = new int[(sorted.length - subtask + subtasks - 1) / subtasks];
    for (int j = 0; j < mine.length; j++) {
      mine[j] = sorted[subtask + j * subtasks];
    }
    return mine;
  }

  /** The partition of {@code own} a record of {@code key} goes to. */
  static int partition(int[] own, byte[] key) {
    return own.length == 1 ? own[0] : own[Utils.toPositive(Utils.murmur2(key)) % own.length];
  }
}
