package io.streamrec.cli;

import io.streamrec.common.KafkaClientProperties;
import io.streamrec.common.StreamrecException;
import io.streamrec.job.config.ClientSettings;
import io.streamrec.job.config.JobConfig;
import io.streamrec.job.config.JobOptions;
import io.streamrec.job.kafka.KafkaPreflight;
import io.streamrec.job.kafka.TopicSpec;
import io.streamrec.protocol.ModelTopicPartitions;
import io.streamrec.serving.JobConnection;
import io.streamrec.serving.ModelUpdateConsumers;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.AuthorizationException;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * What a command that prints a topic one line per record ({@code tail}, {@code dead-letters})
 * shares: the broker, the topic's name and the Kafka client settings, given as options or read from
 * the job's configuration file ({@code --config}, as {@code run} takes it), {@code --follow}, and
 * the read itself.
 */
final class TopicReading {
  @Option(names = "--follow", description = "Keep printing new records (Ctrl-C to stop).")
  boolean follow;

  /** The broker and the client settings: options, else the job's configuration file's. */
  @Mixin ClientSettings settings = new ClientSettings();

  private Configuration conf;

  private Configuration configuration() {
    if (conf == null) {
      conf = settings.configuration();
    }
    return conf;
  }

  /**
   * The topic to read: {@code given} (the command's {@code --topic}) where given, else {@code key}
   * of the configuration ({@code --config}, {@code -D}), else that key's default.
   */
  String topic(String given, ConfigOption<String> key) {
    return given != null ? given : configuration().get(key);
  }

  /** How often {@code --follow} looks for partitions added to the topic while it reads. */
  static final long PARTITIONS_CHECK_MS = 5_000;

  /**
   * Adds to {@code parts}, and reads from their earliest offset, the partitions of {@code topic}
   * added since: followed, the partitions found at the start were all it read, and the records of
   * partitions added later (the job writes to them) never showed.
   */
  private static void readAddedPartitions(
      KafkaConsumer<byte[], byte[]> c, String topic, List<TopicPartition> parts) {
    List<TopicPartition> added = new ArrayList<>();
    var info = c.partitionsFor(topic, Duration.ofSeconds(5));
    if (info != null) {
      info.stream()
          .map(i -> new TopicPartition(topic, i.partition()))
          .filter(tp -> !parts.contains(tp))
          .forEach(added::add);
    }
    if (added.isEmpty()) {
      return;
    }
    parts.addAll(added);
    c.assign(parts);
    c.seekToBeginning(added);
    System.err.println(
        "streamrec: partitions added to '" + topic + "': " + added + "; reading them too");
  }

  /**
   * Checks, while {@code --follow} reads the model's partition, the model-updates topic's others: a
   * record in one is a model in pieces, and the read stops ({@link ModelTopicPartitions}), where
   * {@code tail --follow} went on to print it as the model's; partitions added and empty are said
   * once. Returns the partitions counted.
   */
  private static int checkModelPartitions(KafkaConsumer<byte[], byte[]> c, String topic, int seen) {
    var info = c.partitionsFor(topic, Duration.ofSeconds(5));
    if (info == null || info.size() <= 1) {
      return seen;
    }
    String pieces =
        ModelTopicPartitions.inPieces(
            topic, ModelUpdateConsumers.endOffsets(c, topic, info, Duration.ofSeconds(5)));
    if (pieces != null) {
      throw new StreamrecException(pieces);
    }
    if (info.size() != seen) {
      System.err.println("streamrec: " + ModelTopicPartitions.spare(topic, info.size()));
    }
    return info.size();
  }

  /**
   * Prints {@code topic} from its earliest offset to its end when the read starts, or on and on
   * with {@code --follow}, the line {@code describe} makes of each record (none where it gives
   * null), then runs {@code end} (the command's summary of what it printed); a refused login or a
   * missing topic fails first, in words. A {@code --follow} stopped by Ctrl-C (or SIGTERM) ends its
   * read and runs {@code end} before the process exits, which otherwise printed no summary.
   *
   * @throws StreamrecException when the topic does not exist
   */
  void print(
      TopicSpec topic,
      String clientId,
      PrintWriter out,
      Function<ConsumerRecord<byte[], byte[]>, String> describe,
      Runnable end) {
    Configuration c0 = configuration();
    String bootstrapServers =
        JobConnection.requireBroker(c0.get(JobOptions.BOOTSTRAP_SERVERS), settings.configFile());
    KafkaClientProperties client = JobConfig.kafkaProperties(c0);
    try (org.apache.kafka.clients.admin.Admin admin =
        KafkaPreflight.admin(bootstrapServers, client)) {
      KafkaPreflight.checkTopics(
          admin,
          bootstrapServers,
          client,
          List.of(topic),
          org.apache.kafka.common.acl.AclOperation.READ);
    }
    java.util.Properties settings =
        ModelUpdateConsumers.properties(bootstrapServers, client, clientId);
    if (follow) {
      settings.put(
          org.apache.kafka.clients.consumer.ConsumerConfig.METADATA_MAX_AGE_CONFIG,
          String.valueOf(PARTITIONS_CHECK_MS));
    }
    java.util.concurrent.atomic.AtomicReference<KafkaConsumer<byte[], byte[]>> reading =
        new java.util.concurrent.atomic.AtomicReference<>();
    java.util.concurrent.CountDownLatch ended = new java.util.concurrent.CountDownLatch(1);
    Thread stop = null;
    if (follow) {
      stop =
          new Thread(
              () -> {
                KafkaConsumer<byte[], byte[]> c = reading.get();
                if (c != null) {
                  c.wakeup();
                }
                try {
                  ended.await(STOP_WAIT_S, java.util.concurrent.TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
              },
              "streamrec-follow-stop");
      Runtime.getRuntime().addShutdownHook(stop);
    }
    try {
      read(topic, bootstrapServers, client, settings, out, describe, reading);
      end.run();
      out.flush();
    } finally {
      ended.countDown();
      if (stop != null) {
        try {
          Runtime.getRuntime().removeShutdownHook(stop);
        } catch (IllegalStateException e) {
          // the process is exiting: the hook has run or runs now
        }
      }
    }
  }

  /** How long a stop waits for a {@code --follow} to print its summary. */
  private static final long STOP_WAIT_S = 5;

  /** The read of {@link #print}: until the end, or with {@code --follow} until woken up. */
  private void read(
      TopicSpec topic,
      String bootstrapServers,
      KafkaClientProperties client,
      java.util.Properties settings,
      PrintWriter out,
      Function<ConsumerRecord<byte[], byte[]>, String> describe,
      java.util.concurrent.atomic.AtomicReference<KafkaConsumer<byte[], byte[]>> reading) {
    try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(settings)) {
      reading.set(c);
      var info = c.partitionsFor(topic.name(), Duration.ofSeconds(30));
      if (info == null || info.isEmpty()) {
        throw new StreamrecException(
            "topic '" + topic.name() + "' does not exist at " + bootstrapServers);
      }
      // the model is read where it is written, its partition alone; any other topic whole
      boolean model = KafkaPreflight.holdsTheModel(topic);
      List<TopicPartition> parts = new ArrayList<>();
      if (model) {
        parts.add(new TopicPartition(topic.name(), ModelTopicPartitions.MODEL));
      } else {
        info.forEach(i -> parts.add(new TopicPartition(topic.name(), i.partition())));
      }
      int partitionsSeen = info.size();
      c.assign(parts);
      c.seekToBeginning(parts);
      Map<TopicPartition, Long> end = c.endOffsets(parts);
      long checkedAt = System.currentTimeMillis();
      while (follow || parts.stream().anyMatch(tp -> c.position(tp) < end.get(tp))) {
        for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(200))) {
          String line = describe.apply(r);
          if (line != null) {
            out.println(line);
          }
        }
        out.flush();
        if (follow && System.currentTimeMillis() - checkedAt >= PARTITIONS_CHECK_MS) {
          checkedAt = System.currentTimeMillis();
          if (model) {
            partitionsSeen = checkModelPartitions(c, topic.name(), partitionsSeen);
          } else {
            readAddedPartitions(c, topic.name(), parts);
          }
        }
      }
    } catch (org.apache.kafka.common.errors.WakeupException e) {
      // a --follow stopped (Ctrl-C): what it printed is what the summary counts
    } catch (AuthenticationException | AuthorizationException e) {
      throw KafkaPreflight.access(e, bootstrapServers, client, "read topic " + topic.name());
    }
  }
}
