package io.streamrec.serving;

import io.streamrec.common.KafkaClientProperties;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * The consumer settings every reader of a model-updates topic uses (docs/model-updates.md §5 and
 * §6): no consumer group and no committed offsets (a reader assigns the partition and seeks
 * itself), no topic auto-creation, {@code read_committed} so an aborted transaction of an
 * exactly-once trainer is never seen, and raw bytes for keys and values (the key is text, the value
 * a single-object Avro message).
 */
public final class ModelUpdateConsumers {
  private ModelUpdateConsumers() {}

  /** Settings for a reader of model-updates at {@code bootstrapServers}, named {@code clientId}. */
  public static Properties properties(String bootstrapServers, String clientId) {
    return properties(bootstrapServers, KafkaClientProperties.empty(), clientId);
  }

  /**
   * Settings for a reader of model-updates at {@code bootstrapServers}, named {@code clientId}
   * under the user's {@code client.id} if any ({@link KafkaClientProperties#clientId}), with the
   * user's client settings ({@code client}: TLS, SASL, tuning); the settings the protocol needs win
   * over them.
   */
  public static Properties properties(
      String bootstrapServers, KafkaClientProperties client, String clientId) {
    Properties p = client.toProperties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    p.put(ConsumerConfig.CLIENT_ID_CONFIG, client.clientId(clientId));
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    // a reader that starts before the topic exists waits for it: it must never create it (a topic
    // made by a broker's defaults is neither compacted nor of one partition)
    p.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, "false");
    p.put(
        ConsumerConfig.ISOLATION_LEVEL_CONFIG,
        IsolationLevel.READ_COMMITTED.toString().toLowerCase(Locale.ROOT));
    p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    return p;
  }

  /**
   * The end offset of each of {@code partitions} of {@code topic}, by partition number, as {@code
   * c} reads them: what a reader of the model-updates topic asks of the partitions beside the
   * model's ({@link io.streamrec.protocol.ModelTopicPartitions}).
   */
  public static Map<Integer, Long> endOffsets(
      Consumer<?, ?> c, String topic, List<PartitionInfo> partitions, Duration timeout) {
    Map<Integer, Long> offsets = new HashMap<>();
    c.endOffsets(
            partitions.stream().map(i -> new TopicPartition(topic, i.partition())).toList(),
            timeout)
        .forEach((tp, end) -> offsets.put(tp.partition(), end));
    return offsets;
  }
}
