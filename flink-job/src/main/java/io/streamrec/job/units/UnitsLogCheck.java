package io.streamrec.job.units;

import io.streamrec.job.config.ConfigException;
import io.streamrec.job.config.JobConfig;
import io.streamrec.job.config.JobOptions;
import io.streamrec.job.kafka.KafkaPreflight;
import io.streamrec.model.units.CompactUnit;
import io.streamrec.model.units.CompactUnitCodec;
import io.streamrec.model.units.MalformedUnitException;
import io.streamrec.model.units.UnitLayout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Before a job trains from the request-units topic ({@code source.kind=units}): the first unit
 * where it starts reading each partition, against this model's feature layout. A log written by a
 * job of other features or labels cannot train this model, and such a job sent every unit to the
 * dead-letter topic as {@code unknown_schema}, to the end of the log, trained nothing and said so
 * only in its counts: a model given a label more, then backfilled from the log, wrote the whole log
 * again as dead letters. Refused here, before anything starts, where no partition starts with a
 * unit of this model's layout; a log whose writer changed its features partway (some partitions
 * start with units of this layout) runs, its older units counted as dead letters as before.
 */
public final class UnitsLogCheck {
  private static final Logger LOG = LoggerFactory.getLogger(UnitsLogCheck.class);

  /** Partitions named in the refusal, at most. */
  private static final int NAMED = 3;

  private UnitsLogCheck() {}

  /**
   * Refuses, in words, a units log whose first unit where the job starts reading is of another
   * layout than {@code cfg}'s model in every partition that has one.
   *
   * @param handoffStarts where a job going on from a handoff starts in the log (a partition not
   *     named: its earliest offset), or null
   * @param bounded a backfill, which starts at {@code fromMs} (null: the earliest offset); a live
   *     job starts at its group's committed offsets, or the earliest where it has none
   * @throws ConfigException when every first unit found is of another layout
   */
  public static void refuseUnitsOfAnotherSpec(
      JobConfig cfg, Map<TopicPartition, Long> handoffStarts, boolean bounded, Long fromMs) {
    String topic = cfg.requestUnitsTopic();
    long ours = new UnitLayout(cfg.model().features()).fingerprint();
    Map<Integer, Long> firstLayouts;
    try (KafkaConsumer<byte[], byte[]> c = consumer(cfg)) {
      firstLayouts = firstLayouts(c, topic, handoffStarts, bounded, fromMs);
    } catch (KafkaException e) {
      LOG.warn(
          "could not look at the first units of '{}' before the start ({}): not checked against"
              + " the model's features",
          topic,
          e.toString());
      return;
    }
    if (firstLayouts.isEmpty() || firstLayouts.containsValue(ours)) {
      return;
    }
    List<String> where = new ArrayList<>();
    firstLayouts.forEach(
        (partition, layout) -> {
          if (where.size() < NAMED) {
            where.add("partition " + partition + ": layout " + Long.toHexString(layout));
          }
        });
    if (firstLayouts.size() > NAMED) {
      where.add("and " + (firstLayouts.size() - NAMED) + " more");
    }
    throw new ConfigException(
        JobOptions.SOURCE_KIND,
        "is 'units', but the request-units topic '"
            + topic
            + "' holds units of other features or labels where this job starts reading ("
            + String.join(", ", where)
            + "; this model's is "
            + Long.toHexString(ours)
            + "): every one would be a dead letter (unknown_schema), as a units log trains only a"
            + " model of the features and labels of the job that wrote it (docs/request-units.md)",
        "train this model from the events (source.kind: events; backfill --source events), or give"
            + " it the model.features and model.labels of the job that wrote the log");
  }

  private static KafkaConsumer<byte[], byte[]> consumer(JobConfig cfg) {
    Properties p = KafkaPreflight.lookingConsumer(cfg.bootstrapServers(), cfg.kafkaProperties());
    p.put(ConsumerConfig.GROUP_ID_CONFIG, cfg.groupId()); // its committed offsets: read, not moved
    p.put(ConsumerConfig.CLIENT_ID_CONFIG, cfg.kafkaProperties().clientId("streamrec-units-check"));
    return new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
  }

  /**
   * The layout of the first unit that decodes where the job starts reading, by partition; a
   * partition with nothing to read there, or whose first record does not decode (the job counts it
   * as {@code malformed}), is left out.
   */
  static Map<Integer, Long> firstLayouts(
      KafkaConsumer<byte[], byte[]> c,
      String topic,
      Map<TopicPartition, Long> handoffStarts,
      boolean bounded,
      Long fromMs) {
    Duration timeout = KafkaPreflight.TIMEOUT;
    List<TopicPartition> parts = new ArrayList<>();
    for (PartitionInfo info : c.partitionsFor(topic, timeout)) {
      parts.add(new TopicPartition(topic, info.partition()));
    }
    Map<TopicPartition, Long> ends = c.endOffsets(parts, timeout);
    Map<TopicPartition, Long> starts = new HashMap<>(c.beginningOffsets(parts, timeout));
    if (handoffStarts != null) {
      handoffStarts.forEach((tp, o) -> starts.computeIfPresent(tp, (k, v) -> Math.max(v, o)));
    } else if (bounded && fromMs != null) {
      Map<TopicPartition, Long> at = new HashMap<>();
      parts.forEach(tp -> at.put(tp, fromMs));
      Map<TopicPartition, OffsetAndTimestamp> found = c.offsetsForTimes(at, timeout);
      parts.forEach(
          tp -> {
            OffsetAndTimestamp o = found.get(tp);
            starts.put(tp, o == null ? ends.get(tp) : o.offset());
          });
    } else if (!bounded) {
      Map<TopicPartition, OffsetAndMetadata> committed =
          c.committed(new java.util.HashSet<>(parts), timeout);
      committed.forEach(
          (tp, o) -> {
            if (o != null) {
              starts.computeIfPresent(tp, (k, v) -> Math.max(v, o.offset()));
            }
          });
    }
    List<TopicPartition> toRead = new ArrayList<>();
    for (TopicPartition tp : parts) {
      if (starts.get(tp) < ends.get(tp)) {
        toRead.add(tp);
      }
    }
    Map<Integer, Long> layouts = new TreeMap<>();
    if (toRead.isEmpty()) {
      return layouts;
    }
    c.assign(toRead);
    toRead.forEach(tp -> c.seek(tp, starts.get(tp)));
    List<TopicPartition> waiting = new ArrayList<>(toRead);
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!waiting.isEmpty() && System.nanoTime() < deadline) {
      for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(200))) {
        TopicPartition tp = new TopicPartition(r.topic(), r.partition());
        if (!waiting.remove(tp)) {
          continue;
        }
        c.pause(List.of(tp));
        if (r.value() == null) {
          continue; // not a unit: the job counts it as malformed
        }
        try {
          CompactUnit u = CompactUnitCodec.decode(r.value());
          layouts.put(r.partition(), u.layoutFingerprint());
        } catch (MalformedUnitException e) {
          // not a unit either: the job counts it as malformed
        }
      }
      // a partition whose records from its start were all of aborted transactions has none
      waiting.removeIf(tp -> c.position(tp, timeout) >= ends.get(tp));
    }
    return layouts;
  }
}
