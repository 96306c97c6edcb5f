package io.streamrec.cli;

import io.streamrec.common.KafkaClientProperties;
import io.streamrec.common.StreamrecException;
import io.streamrec.job.kafka.KafkaPreflight;
import io.streamrec.job.kafka.TopicSpec;
import io.streamrec.serving.KafkaClientOptions;
import io.streamrec.serving.ModelUpdateConsumers;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.AuthorizationException;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * What a command that prints a topic one line per record ({@code tail}, {@code dead-letters})
 * shares: the broker, {@code --follow}, the Kafka client settings, and the read itself.
 */
final class TopicReading {
  @Option(
      names = "--bootstrap-servers",
      required = true,
      paramLabel = "HOST:PORT",
      description = "Kafka bootstrap servers.")
  String bootstrapServers;

  @Option(names = "--follow", description = "Keep printing new records (Ctrl-C to stop).")
  boolean follow;

  @Mixin KafkaClientOptions kafka = new KafkaClientOptions();

  /**
   * Prints {@code topic} from its earliest offset to its end when the read starts, or on and on
   * with {@code --follow}, the line {@code describe} makes of each record (none where it gives
   * null); a refused login or a missing topic fails first, in words.
   *
   * @throws StreamrecException when the topic does not exist
   */
  void print(
      TopicSpec topic,
      String clientId,
      PrintWriter out,
      Function<ConsumerRecord<byte[], byte[]>, String> describe) {
    KafkaClientProperties client = kafka.properties();
    KafkaPreflight.checkTopics(bootstrapServers, client, List.of(topic));
    try (KafkaConsumer<byte[], byte[]> c =
        new KafkaConsumer<>(ModelUpdateConsumers.properties(bootstrapServers, client, clientId))) {
      var info = c.partitionsFor(topic.name(), Duration.ofSeconds(30));
      if (info == null || info.isEmpty()) {
        throw new StreamrecException(
            "topic '" + topic.name() + "' does not exist at " + bootstrapServers);
      }
      List<TopicPartition> parts = new ArrayList<>();
      info.forEach(i -> parts.add(new TopicPartition(topic.name(), i.partition())));
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
    } catch (AuthenticationException | AuthorizationException e) {
      throw KafkaPreflight.access(e, bootstrapServers, client, "read topic " + topic.name());
    }
  }
}
