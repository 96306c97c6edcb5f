package io.streamrec.job.kafka;

import io.streamrec.common.KafkaClientProperties;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Where a backfill's {@code --from} or {@code --until} cuts a partition at a record timed ahead of
 * those after it. A range is cut by offset, as Kafka finds the first record at or after the time,
 * so one record from a producer whose clock ran ahead cuts its partition there: with {@code
 * --until}, the records after it timed before the bound are not read (a walk lost a quarter of a
 * range's requests to one record ten minutes ahead); with {@code --from}, those timed before the
 * range are read. Cutting by offset is what lets a handoff's live job read on from exactly where
 * the backfill stopped, so the cut stays; each such partition is said, with what it costs.
 */
public final class RangeCuts {
  /** Records after a cut looked at, per partition. */
  static final int LOOK_AHEAD = 200;

  private RangeCuts() {}

  /**
   * A line per partition of {@code topics} that a cut at {@code timeMs} ({@code flag}: {@code
   * --from}, or {@code --until} or another end of a range) makes at a record timed more than {@code
   * toleranceMs} after it, with records timed before it among the {@link #LOOK_AHEAD} that follow;
   * none when no cut is.
   */
  public static List<String> skewed(
      String bootstrapServers,
      KafkaClientProperties properties,
      List<String> topics,
      long timeMs,
      long toleranceMs,
      String flag) {
    Properties p = KafkaPreflight.lookingConsumer(bootstrapServers, properties);
    p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, Integer.toString(LOOK_AHEAD));
    List<String> out = new ArrayList<>();
    try (KafkaConsumer<byte[], byte[]> c =
        new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      Map<TopicPartition, Long> at = new HashMap<>();
      for (String topic : topics) {
        for (PartitionInfo info : c.partitionsFor(topic, KafkaPreflight.TIMEOUT)) {
          at.put(new TopicPartition(topic, info.partition()), timeMs);
        }
      }
      Map<TopicPartition, OffsetAndTimestamp> found = c.offsetsForTimes(at, KafkaPreflight.TIMEOUT);
      Map<TopicPartition, OffsetAndTimestamp> ahead = new HashMap<>();
      found.forEach(
          (tp, o) -> {
            // within the topics' out-of-orderness, records after the cut timed before it are
            // ordinary disorder, which the watermark allows for
            if (o != null && o.timestamp() > timeMs + toleranceMs) {
              ahead.put(tp, o);
            }
          });
      if (ahead.isEmpty()) {
        return out;
      }
      c.assign(ahead.keySet());
      ahead.forEach((tp, o) -> c.seek(tp, o.offset() + 1));
      Map<TopicPartition, int[]> seen = new HashMap<>(); // records looked at, timed before
      long deadline = System.currentTimeMillis() + KafkaPreflight.TIMEOUT.toMillis();
      int empty = 0;
      while (seen.size() < ahead.size()
          || seen.values().stream().anyMatch(s -> s[0] < LOOK_AHEAD)) {
        var records = c.poll(java.time.Duration.ofMillis(500));
        if (records.isEmpty() && ++empty >= 3 || System.currentTimeMillis() > deadline) {
          break;
        }
        for (ConsumerRecord<byte[], byte[]> r : records) {
          TopicPartition tp = new TopicPartition(r.topic(), r.partition());
          int[] s = seen.computeIfAbsent(tp, k -> new int[2]);
          if (s[0] < LOOK_AHEAD) {
            s[0]++;
            if (r.timestamp() < timeMs) {
              s[1]++;
            }
          }
        }
      }
      ahead.entrySet().stream()
          .sorted(
              Map.Entry.comparingByKey(
                  java.util.Comparator.comparing(TopicPartition::topic)
                      .thenComparingInt(TopicPartition::partition)))
          .forEach(
              e -> {
                int[] s = seen.get(e.getKey());
                if (s != null && s[1] > 0) {
                  out.add(line(e.getKey(), e.getValue(), s[1], s[0], timeMs, flag));
                }
              });
    }
    return out;
  }

  private static String line(
      TopicPartition tp, OffsetAndTimestamp o, int before, int looked, long timeMs, String flag) {
    return String.format(
        java.util.Locale.ROOT,
        "%s[%d]: %s %s cuts it at offset %,d, a record timed %s, and %d of the %d records after"
            + " it are timed before %s (a producer's clock ahead?): %s. A range is cut by offset,"
            + " where Kafka finds the first record at or after the time",
        tp.topic(),
        tp.partition(),
        flag,
        iso(timeMs),
        o.offset(),
        iso(o.timestamp()),
        before,
        looked,
        iso(timeMs),
        flag.startsWith("--from")
            ? "those, before the range, are read"
            : "those are not read, nor anything after the cut in this partition");
  }

  private static String iso(long ms) {
    return Instant.ofEpochMilli(ms).toString();
  }
}
