package io.streamrec.cli.kafka;

import io.streamrec.job.config.TopicsConfig;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * How to start an {@link EmbeddedKafka} broker.
 *
 * @param dataDirectory where the broker keeps its logs and metadata; {@code null} for a fresh
 *     temporary directory that is deleted on close. A directory given here is kept after close; an
 *     empty (or new) one is formatted, one an earlier broker left is started on as it is.
 * @param port the client listener's port on localhost; {@code 0} for any free port (read the one
 *     chosen from {@link EmbeddedKafka#bootstrapServers()}), or a fixed one such as 9092 so that
 *     other processes find the broker at a stable address
 * @param defaultPartitions partitions of a topic created without a partition count
 * @param saslUsers empty: the client listener is plaintext, without authentication; otherwise it
 *     asks for SASL/PLAIN (over plaintext) and these users (name to password) may log in, for
 *     trying and testing clients' security settings on one machine
 * @param superUsers empty: every client may do anything; otherwise (with SASL users) the broker
 *     checks each request against its ACLs (Kafka's {@code StandardAuthorizer}), these users may do
 *     anything, and the others what ACLs grant them, for trying and testing ACLs on one machine
 */
public record EmbeddedKafkaConfig(
    Path dataDirectory,
    int port,
    int defaultPartitions,
    Map<String, String> saslUsers,
    java.util.Set<String> superUsers) {
  /** Kafka's customary client port. */
  public static final int DEFAULT_PORT = 9092;

  /** Matches the default partitions of the input topics, see {@link TopicsConfig}. */
  public static final int DEFAULT_PARTITIONS = 2;

  private static final int MAX_PORT = 65_535;

  /** What a user name may hold: it goes into a JAAS configuration as an option name. */
  private static final Pattern SASL_NAME = Pattern.compile("[A-Za-z0-9._-]+");

  public EmbeddedKafkaConfig(Path dataDirectory, int port, int defaultPartitions) {
    this(dataDirectory, port, defaultPartitions, Map.of());
  }

  public EmbeddedKafkaConfig(
      Path dataDirectory, int port, int defaultPartitions, Map<String, String> saslUsers) {
    this(dataDirectory, port, defaultPartitions, saslUsers, java.util.Set.of());
  }

  public EmbeddedKafkaConfig {
    if (port < 0 || port > MAX_PORT) {
      throw new IllegalArgumentException(
          "port must be 0 (any free port) or 1.." + MAX_PORT + ", got " + port);
    }
    if (defaultPartitions < 1) {
      throw new IllegalArgumentException(
          "defaultPartitions must be at least 1, got " + defaultPartitions);
    }
    saslUsers = Collections.unmodifiableMap(new TreeMap<>(saslUsers));
    for (Map.Entry<String, String> u : saslUsers.entrySet()) {
      if (u.getKey().isEmpty() || !SASL_NAME.matcher(u.getKey()).matches()) {
        throw new IllegalArgumentException(
            "SASL user name '" + u.getKey() + "' must be letters, digits, '.', '_' or '-'");
      }
      if (u.getValue().isEmpty() || u.getValue().contains("\"") || u.getValue().contains("\\")) {
        throw new IllegalArgumentException(
            "the password of SASL user '" + u.getKey() + "' must be non-empty, without \" or \\");
      }
    }
    superUsers = java.util.Set.copyOf(superUsers);
    for (String u : superUsers) {
      if (!saslUsers.containsKey(u)) {
        throw new IllegalArgumentException(
            "super user '" + u + "' is none of the SASL users " + saslUsers.keySet());
      }
    }
  }

  /** A temporary directory, any free port, {@value #DEFAULT_PARTITIONS} partitions. */
  public static EmbeddedKafkaConfig defaults() {
    return new EmbeddedKafkaConfig(null, 0, DEFAULT_PARTITIONS);
  }

  public EmbeddedKafkaConfig withPort(int newPort) {
    return new EmbeddedKafkaConfig(
        dataDirectory, newPort, defaultPartitions, saslUsers, superUsers);
  }

  public EmbeddedKafkaConfig withDataDirectory(Path newDataDirectory) {
    return new EmbeddedKafkaConfig(
        newDataDirectory, port, defaultPartitions, saslUsers, superUsers);
  }

  public EmbeddedKafkaConfig withDefaultPartitions(int newDefaultPartitions) {
    return new EmbeddedKafkaConfig(
        dataDirectory, port, newDefaultPartitions, saslUsers, superUsers);
  }

  /** The client listener asks for SASL/PLAIN; {@code users} (name to password) may log in. */
  public EmbeddedKafkaConfig withSaslUsers(Map<String, String> users) {
    return new EmbeddedKafkaConfig(dataDirectory, port, defaultPartitions, users, superUsers);
  }

  /**
   * The broker checks requests against its ACLs; {@code users}, of the SASL users, may do anything.
   */
  public EmbeddedKafkaConfig withAcls(java.util.Set<String> users) {
    return new EmbeddedKafkaConfig(dataDirectory, port, defaultPartitions, saslUsers, users);
  }

  public boolean acls() {
    return !superUsers.isEmpty();
  }

  public boolean sasl() {
    return !saslUsers.isEmpty();
  }
}
