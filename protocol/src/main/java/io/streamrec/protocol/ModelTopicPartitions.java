package io.streamrec.protocol;

import java.util.Map;
import java.util.TreeMap;

/**
 * The model-updates topic's partitions. The model is published to one partition, {@link #MODEL}: a
 * version marker closes the deltas before it only within a partition. A topic made with one has
 * only that one; a topic that gained partitions afterwards (added by hand, or by a policy over
 * every topic; partitions are never removed) still carries the whole model while its other
 * partitions are empty, and is read and written at {@link #MODEL} only. A record in another
 * partition is a model in pieces: a trainer of an earlier release spread its records by key hash,
 * or another producer wrote there, and the versions of {@link #MODEL} miss it.
 */
public final class ModelTopicPartitions {
  /** The partition every record of the model is written to and read from. */
  public static final int MODEL = 0;

  private ModelTopicPartitions() {}

  /**
   * Why the topic whose partitions end at {@code endOffsets} (partition → end offset, {@link
   * #MODEL}'s among them or not) cannot be read as one model, naming the first other partition that
   * holds a record; null when every other partition is empty.
   */
  public static String inPieces(String topic, Map<Integer, Long> endOffsets) {
    for (Map.Entry<Integer, Long> e : new TreeMap<>(endOffsets).entrySet()) {
      if (e.getKey() != MODEL && e.getValue() > 0) {
        return "topic '"
            + topic
            + "' has "
            + Math.max(endOffsets.size(), e.getKey() + 1)
            + " partitions, and partition "
            + e.getKey()
            + " holds "
            + e.getValue()
            + (e.getValue() == 1 ? " record" : " records")
            + ": the model is published in pieces, and the versions of partition "
            + MODEL
            + " miss them; the model-update protocol needs the model in one partition (make the"
            + " topic again with one, and start the trainer again: its next version publishes the"
            + " whole model; docs/model-updates.md)";
      }
    }
    return null;
  }

  /**
   * Whether the topic whose partitions end at {@code endOffsets} grew around a model: several
   * partitions, the model's holding records and every other empty. It is read and written at {@link
   * #MODEL} (with {@link #spare}'s warning), where making it again would take the model from its
   * readers until the trainer's next version. A topic of several partitions that holds nothing yet
   * is no such topic: made so, it is made again at no cost.
   */
  public static boolean grewAroundTheModel(Map<Integer, Long> endOffsets) {
    return endOffsets.size() > 1
        && endOffsets.getOrDefault(MODEL, 0L) > 0
        && inPieces("", endOffsets) == null;
  }

  /** What to say of a topic of {@code partitions} partitions whose others are empty. */
  public static String spare(String topic, int partitions) {
    return "topic '"
        + topic
        + "' has "
        + partitions
        + " partitions; the model is in partition "
        + MODEL
        + " and the others are empty, so it is written and read there only. Partitions cannot be"
        + " removed: make the topic again with one partition when you can (docs/model-updates.md)";
  }
}
