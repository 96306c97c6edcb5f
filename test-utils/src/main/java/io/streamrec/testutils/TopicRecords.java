package io.streamrec.testutils;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/** Reads a topic back, for assertions on what a job or a command wrote. */
public final class TopicRecords {
  /** How long a read may take before the test fails. */
  private static final long READ_TIMEOUT_MS = 30_000;

  private TopicRecords() {}

  /** Every record of {@code topic}, every partition, from its first offset to its end now. */
  public static List<ConsumerRecord<byte[], byte[]>> readAll(String bootstrap, String topic) {
    return readAll(bootstrap, Map.of(), topic);
  }

  /** The same, for a client with {@code clientSettings} (e.g. SASL). */
  public static List<ConsumerRecord<byte[], byte[]>> readAll(
      String bootstrap, Map<String, String> clientSettings, String topic) {
    Properties p = new Properties();
    p.putAll(clientSettings);
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
    try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p)) {
      List<TopicPartition> parts = new ArrayList<>();
      c.partitionsFor(topic).forEach(i -> parts.add(new TopicPartition(topic, i.partition())));
      c.assign(parts);
      c.seekToBeginning(parts);
      Map<TopicPartition, Long> end = c.endOffsets(parts);
      long deadline = System.currentTimeMillis() + READ_TIMEOUT_MS;
      while (parts.stream().anyMatch(tp -> c.position(tp) < end.get(tp))) {
        if (System.currentTimeMillis() > deadline) {
          throw new AssertionError("timed out reading " + topic);
        }
        c.poll(Duration.ofMillis(200)).forEach(out::add);
      }
    }
    return out;
  }
}
