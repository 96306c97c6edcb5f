package io.streamrec.cli.kafka;

import io.streamrec.job.config.TopicsConfig;
import java.nio.file.Path;

/**
 * How to start an {@link EmbeddedKafka} broker.
 *
 * @param dataDirectory where the broker keeps its logs and metadata; {@code null} for a fresh
 *     temporary directory that is deleted on close. A directory given here is kept after close, and
 *     must be empty (or not yet exist) at start: the broker formats it anew.
 * @param port the client listener's port on localhost; {@code 0} for any free port (read the one
 *     chosen from {@link EmbeddedKafka#bootstrapServers()}), or a fixed one such as 9092 so that
 *     other processes find the broker at a stable address
 * @param defaultPartitions partitions of a topic created without a partition count
 */
public record EmbeddedKafkaConfig(Path dataDirectory, int port, int defaultPartitions) {
  /** Kafka's customary client port. */
  public static final int DEFAULT_PORT = 9092;

  /** Matches the default partitions of the input topics, see {@link TopicsConfig}. */
  public static final int DEFAULT_PARTITIONS = 2;

  private static final int MAX_PORT = 65_535;

  public EmbeddedKafkaConfig {
    if (port < 0 || port > MAX_PORT) {
      throw new IllegalArgumentException(
          "port must be 0 (any free port) or 1.." + MAX_PORT + ", got " + port);
    }
    if (defaultPartitions < 1) {
      throw new IllegalArgumentException(
          "defaultPartitions must be at least 1, got " + defaultPartitions);
    }
  }

  /** A temporary directory, any free port, {@value #DEFAULT_PARTITIONS} partitions. */
  public static EmbeddedKafkaConfig defaults() {
    return new EmbeddedKafkaConfig(null, 0, DEFAULT_PARTITIONS);
  }

  public EmbeddedKafkaConfig withPort(int newPort) {
    return new EmbeddedKafkaConfig(dataDirectory, newPort, defaultPartitions);
  }

  public EmbeddedKafkaConfig withDataDirectory(Path newDataDirectory) {
    return new EmbeddedKafkaConfig(newDataDirectory, port, defaultPartitions);
  }

  public EmbeddedKafkaConfig withDefaultPartitions(int newDefaultPartitions) {
    return new EmbeddedKafkaConfig(dataDirectory, port, newDefaultPartitions);
  }
}
