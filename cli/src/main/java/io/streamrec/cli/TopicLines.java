package io.streamrec.cli;

import io.streamrec.common.StreamrecException;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;

/** Prints a topic one line per record, as {@code tail} and {@code dead-letters} read theirs. */
final class TopicLines {
  private TopicLines() {}

  /**
   * Reads every partition of {@code topic} from its earliest offset to its end when the read
   * starts, or on and on with {@code follow}; prints the line {@code describe} makes of each record
   * (none where it gives null).
   *
   * @throws StreamrecException when the topic does not exist
   */
  static void print(
      KafkaConsumer<byte[], byte[]> c,
      String topic,
      String bootstrapServers,
      boolean follow,
      PrintWriter out,
      Function<ConsumerRecord<byte[], byte[]>, String> describe) {
    var info = c.partitionsFor(topic, Duration.ofSeconds(30));
    if (info == null || info.isEmpty()) {
      throw new StreamrecException("topic '" + topic + "' does not exist at " + bootstrapServers);
    }
    List<TopicPartition> parts = new ArrayList<>();
    info.forEach(i -> parts.add(new TopicPartition(topic, i.partition())));
    c.assign(parts);
    c.seekToBeginning(parts);
    Map<TopicPartition, Long> end = c.endOffsets(parts);
    while (follow || parts.stream().anyMatch(tp -> c.position(tp) < end.get(tp))) {
      for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(200))) {
        String line = describe.apply(r);
        if (line != null) {
          out.println(line);
        }
      }
      out.flush();
    }
  }
}
