package io.streamrec.testutils;

import io.streamrec.cli.kafka.EmbeddedKafka;
import io.streamrec.cli.kafka.EmbeddedKafkaConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A real in-process KRaft broker for one test class: {@code @RegisterExtension static final
 * KafkaBroker KAFKA = new KafkaBroker()}, or {@code KafkaBroker.withSaslUsers(Map.of("alice",
 * "pw"))} for a client listener that asks for SASL/PLAIN, or {@code KafkaBroker.restartable()} for
 * one that {@link #restart} stops and starts again on its data, at the same address.
 */
public final class KafkaBroker implements BeforeAllCallback, AfterAllCallback {
  private final Map<String, String> saslUsers;
  private final boolean restartable;
  private EmbeddedKafkaConfig config;
  private EmbeddedKafka kafka;

  public KafkaBroker() {
    this(Map.of(), false);
  }

  private KafkaBroker(Map<String, String> saslUsers, boolean restartable) {
    this.saslUsers = Map.copyOf(saslUsers);
    this.restartable = restartable;
  }

  /** A broker whose clients log in with SASL/PLAIN as one of {@code users} (name to password). */
  public static KafkaBroker withSaslUsers(Map<String, String> users) {
    return new KafkaBroker(users, false);
  }

  /**
   * A broker that keeps its data in a directory of its own (deleted after the class) and listens on
   * a fixed free port, so that {@link #restart} brings it back where its clients left it.
   */
  public static KafkaBroker restartable() {
    return new KafkaBroker(Map.of(), true);
  }

  @Override
  public void beforeAll(ExtensionContext context) throws IOException {
    config = EmbeddedKafkaConfig.defaults().withSaslUsers(saslUsers);
    if (restartable) {
      config =
          config
              .withDataDirectory(Files.createTempDirectory("streamrec-kafka-restartable-"))
              .withPort(freePort());
    }
    kafka = EmbeddedKafka.start(config);
  }

  @Override
  public void afterAll(ExtensionContext context) {
    kafka.close();
    if (restartable) {
      delete(config.dataDirectory());
    }
  }

  /**
   * Stops the broker (as a clean shutdown does) and starts it again on its data directory and port:
   * the same cluster, topics, records and committed offsets.
   *
   * @throws IllegalStateException for a broker not made with {@link #restartable()}
   */
  public void restart() {
    if (!restartable) {
      throw new IllegalStateException("only a KafkaBroker.restartable() restarts on its data");
    }
    kafka.close();
    kafka = EmbeddedKafka.start(config);
    if (!kafka.restarted()) {
      throw new IllegalStateException("the broker did not start on its earlier data");
    }
  }

  public String bootstrapServers() {
    return kafka.bootstrapServers();
  }

  /** Kafka client settings that log in as {@code user} (empty for a plaintext broker). */
  public Map<String, String> clientSettings(String user) {
    return kafka.clientSettings(user);
  }

  /** Settings of an admin client of this broker. */
  public Map<String, Object> adminSettings() {
    return kafka.adminSettings();
  }

  /** Partitions of a topic created without a count, as of the input topics. */
  public int defaultPartitions() {
    return config.defaultPartitions();
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("localhost"))) {
      return s.getLocalPort();
    }
  }

  private static void delete(Path dir) {
    try (Stream<Path> paths = Files.walk(dir)) {
      paths
          .sorted(Comparator.reverseOrder())
          .forEach(
              p -> {
                try {
                  Files.deleteIfExists(p);
                } catch (IOException e) {
                  throw new UncheckedIOException(e);
                }
              });
    } catch (IOException | UncheckedIOException e) {
      // a leftover temporary directory fails no test
    }
  }
}
