package io.streamrec.job.kafka;

import io.streamrec.common.KafkaClientProperties;
import io.streamrec.common.StreamrecException;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.ListOffsetsResult.ListOffsetsResultInfo;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;

/**
 * Where a bounded read of some topics stops, resolved once, before the job starts: for every
 * partition, its end offset now, or the first offset at or after a time (the end where no record is
 * that late), as Flink's Kafka source resolves {@code latest()} and {@code timestamp(t)}. Resolved
 * here rather than by the source so that the very offsets the job stops at can be handed on.
 */
public final class TopicOffsets {
  private TopicOffsets() {}

  /**
   * The stopping offset of every partition of {@code topics}: before {@code untilMs} (null: the end
   * now), under the consumers' {@code isolation.level} of {@code properties}.
   */
  public static Map<TopicPartition, Long> stoppingOffsets(
      String bootstrapServers,
      KafkaClientProperties properties,
      List<String> topics,
      Long untilMs) {
    Map<TopicPartition, Long> out = new HashMap<>();
    stoppingOffsets(
            bootstrapServers, properties, topics.stream().map(t -> new At(t, untilMs)).toList())
        .forEach(out::putAll);
    return out;
  }

  /** A lookup of {@link #stoppingOffsets(String, KafkaClientProperties, List)}. */
  public record At(String topic, Long timeMs) {}

  /**
   * For each lookup, the stopping offset of every partition of its topic before its time (null: the
   * end now), all through one admin client, under the consumers' {@code isolation.level}.
   */
  public static List<Map<TopicPartition, Long>> stoppingOffsets(
      String bootstrapServers, KafkaClientProperties properties, List<At> lookups) {
    List<String> topics = lookups.stream().map(At::topic).distinct().toList();
    String what = "list the offsets of " + topics;
    try (Admin admin = KafkaPreflight.admin(bootstrapServers, properties)) {
      Map<String, TopicDescription> described =
          admin.describeTopics(topics).allTopicNames().get(timeout(), TimeUnit.MILLISECONDS);
      Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
      for (TopicDescription d : described.values()) {
        for (TopicPartitionInfo p : d.partitions()) {
          latest.put(new TopicPartition(d.name(), p.partition()), OffsetSpec.latest());
        }
      }
      ListOffsetsOptions options = new ListOffsetsOptions(isolation(properties));
      Map<TopicPartition, Long> ends = offsets(admin, latest, options);
      List<Map<TopicPartition, Long>> out = new java.util.ArrayList<>();
      for (At at : lookups) {
        Map<TopicPartition, Long> offsets = new HashMap<>();
        ends.forEach(
            (tp, end) -> {
              if (tp.topic().equals(at.topic())) {
                offsets.put(tp, end);
              }
            });
        if (at.timeMs() != null) {
          Map<TopicPartition, OffsetSpec> atTime = new HashMap<>();
          offsets.keySet().forEach(tp -> atTime.put(tp, OffsetSpec.forTimestamp(at.timeMs())));
          offsets(admin, atTime, options)
              .forEach(
                  (tp, offset) -> {
                    if (offset >= 0) {
                      offsets.put(tp, offset); // else no record that late: the end, as above
                    }
                  });
        }
        out.add(offsets);
      }
      return out;
    } catch (ExecutionException e) {
      throw KafkaPreflight.access(e.getCause(), bootstrapServers, properties, what);
    } catch (java.util.concurrent.TimeoutException e) {
      throw KafkaPreflight.access(e, bootstrapServers, properties, what);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StreamrecException("interrupted while listing the offsets of " + topics, e);
    }
  }

  private static Map<TopicPartition, Long> offsets(
      Admin admin, Map<TopicPartition, OffsetSpec> specs, ListOffsetsOptions options)
      throws ExecutionException, InterruptedException, java.util.concurrent.TimeoutException {
    Map<TopicPartition, ListOffsetsResultInfo> listed =
        admin.listOffsets(specs, options).all().get(timeout(), TimeUnit.MILLISECONDS);
    Map<TopicPartition, Long> offsets = new HashMap<>();
    listed.forEach((tp, info) -> offsets.put(tp, info.offset()));
    return offsets;
  }

  /**
   * The sources' isolation level (read_committed unless the settings say read_uncommitted): the end
   * of a read_committed consumer is the stable offset.
   */
  private static IsolationLevel isolation(KafkaClientProperties properties) {
    Object level = properties.asMap().get(ConsumerConfig.ISOLATION_LEVEL_CONFIG);
    return level != null
            && level.toString().trim().toLowerCase(Locale.ROOT).equals("read_uncommitted")
        ? IsolationLevel.READ_UNCOMMITTED
        : IsolationLevel.READ_COMMITTED;
  }

  private static long timeout() {
    return KafkaPreflight.TIMEOUT.toMillis();
  }
}
