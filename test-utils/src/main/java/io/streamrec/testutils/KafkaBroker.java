package io.streamrec.testutils;

import io.streamrec.cli.kafka.EmbeddedKafka;
import io.streamrec.cli.kafka.EmbeddedKafkaConfig;
import io.streamrec.cli.kafka.TopicConfigException;
import io.streamrec.cli.kafka.Topics;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.clients.admin.DescribeTopicsOptions;
import org.apache.kafka.clients.admin.ListTopicsOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.TestExecutionExceptionHandler;

/**
 * A real in-process KRaft broker for one test class: {@code @RegisterExtension static final
 * KafkaBroker KAFKA = new KafkaBroker()}, or {@code KafkaBroker.withSaslUsers(Map.of("alice",
 * "pw"))} for a client listener that asks for SASL/PLAIN, or {@code KafkaBroker.restartable()} for
 * one that {@link #restart} stops and starts again on its data, at the same address.
 *
 * <p>A test that fails with an error (not an assertion) gets the broker's {@link #state} at that
 * moment in its failure message: a produce that timed out, say, then tells whether the broker had
 * met a fault, was fenced, or left a partition without a leader.
 */
public final class KafkaBroker
    implements BeforeAllCallback, AfterAllCallback, TestExecutionExceptionHandler {
  /** How long each question {@link #state} asks the broker may take; it may be the one stuck. */
  private static final long STATE_TIMEOUT_MS = 5_000;

  /** The topic {@link #state} writes its probe record to, of its own so no test reads it. */
  static final String PROBE_TOPIC = "test-broker-probe";

  private final Map<String, String> saslUsers;
  private final java.util.Set<String> superUsers;
  private final boolean restartable;
  private EmbeddedKafkaConfig config;
  private EmbeddedKafka kafka;

  public KafkaBroker() {
    this(Map.of(), java.util.Set.of(), false);
  }

  private KafkaBroker(
      Map<String, String> saslUsers, java.util.Set<String> superUsers, boolean restartable) {
    this.saslUsers = Map.copyOf(saslUsers);
    this.superUsers = java.util.Set.copyOf(superUsers);
    this.restartable = restartable;
  }

  /** A broker whose clients log in with SASL/PLAIN as one of {@code users} (name to password). */
  public static KafkaBroker withSaslUsers(Map<String, String> users) {
    return new KafkaBroker(users, java.util.Set.of(), false);
  }

  /**
   * A broker whose clients log in with SASL/PLAIN as one of {@code users} (name to password) and
   * that checks their requests against its ACLs: {@code superUsers} may do anything, the others
   * what ACLs grant them. {@link #adminSettings} logs in as a super user.
   */
  public static KafkaBroker withAcls(Map<String, String> users, java.util.Set<String> superUsers) {
    return new KafkaBroker(users, superUsers, false);
  }

  /**
   * A broker that keeps its data in a directory of its own (deleted after the class) and listens on
   * a fixed free port, so that {@link #restart} brings it back where its clients left it.
   */
  public static KafkaBroker restartable() {
    return new KafkaBroker(Map.of(), java.util.Set.of(), true);
  }

  @Override
  public void beforeAll(ExtensionContext context) throws IOException {
    config = EmbeddedKafkaConfig.defaults().withSaslUsers(saslUsers).withAcls(superUsers);
    if (restartable) {
      config =
          config
              .withDataDirectory(Files.createTempDirectory("streamrec-kafka-restartable-"))
              .withPort(Ports.free());
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
    restartAfter(Duration.ZERO);
  }

  /**
   * As {@link #restart}, with the broker down for {@code down} in between: an outage its clients
   * wait through.
   *
   * @throws IllegalStateException for a broker not made with {@link #restartable()}
   */
  public void restartAfter(Duration down) {
    if (!restartable) {
      throw new IllegalStateException("only a KafkaBroker.restartable() restarts on its data");
    }
    kafka.close();
    try {
      Thread.sleep(down.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while the broker was down", e);
    } finally {
      kafka = EmbeddedKafka.start(config);
    }
    if (!kafka.restarted()) {
      throw new IllegalStateException("the broker did not start on its earlier data");
    }
  }

  @Override
  public void handleTestExecutionException(ExtensionContext context, Throwable failure)
      throws Throwable {
    if (kafka == null || failure instanceof AssertionError) {
      throw failure;
    }
    throw new BrokerStateAtFailure(failure, state() + expiredPartitions(failure));
  }

  /** A produce that timed out names its partition and time: "Expiring 561 record(s) for t-0:". */
  private static final Pattern EXPIRED =
      Pattern.compile("Expiring \\d+ record\\(s\\) for (\\S+)-(\\d+):");

  /**
   * For each partition whose records a producer gave up on (named anywhere in the failure's
   * causes), how the broker holds it: whether the records reached it at all.
   */
  private String expiredPartitions(Throwable failure) {
    Map<String, String> states = new LinkedHashMap<>();
    for (Throwable t = failure; t != null; t = t.getCause()) {
      Matcher m = EXPIRED.matcher(String.valueOf(t.getMessage()));
      while (m.find()) {
        states.computeIfAbsent(
            m.group(1) + "-" + m.group(2),
            tp -> kafka.partitionState(m.group(1), Integer.parseInt(m.group(2))));
      }
    }
    return states.isEmpty() ? "" : "; " + String.join("; ", states.values());
  }

  /** A test's error with the broker's {@link #state} when it happened; the error is the cause. */
  static final class BrokerStateAtFailure extends Exception {
    BrokerStateAtFailure(Throwable failure, String state) {
      super(failure + " [the test broker then: " + state + "]", failure);
    }
  }

  /**
   * The broker on one line, as far as it answers within a few seconds: its first fatal and
   * non-fatal fault, its state, its registration (fenced or not) and every partition without a
   * leader or with an in-sync replica set other than its replicas.
   */
  public String state() {
    List<String> parts = new ArrayList<>();
    parts.add("fatal fault " + describe(kafka.firstFault(true)));
    parts.add("non-fatal fault " + describe(kafka.firstFault(false)));
    parts.add("state " + kafka.brokerState());
    Admin admin = Admin.create(adminSettings());
    try {
      int timeout = (int) STATE_TIMEOUT_MS;
      List<String> nodes = new ArrayList<>();
      for (Node n :
          admin
              .describeCluster(
                  new DescribeClusterOptions().includeFencedBrokers(true).timeoutMs(timeout))
              .nodes()
              .get()) {
        nodes.add(n.id() + (n.isFenced() ? " fenced" : " unfenced"));
      }
      parts.add("registered " + nodes);
      Map<String, TopicDescription> topics =
          admin
              .describeTopics(
                  admin
                      .listTopics(new ListTopicsOptions().listInternal(true).timeoutMs(timeout))
                      .names()
                      .get(),
                  new DescribeTopicsOptions().timeoutMs(timeout))
              .allTopicNames()
              .get();
      List<String> unwell = new ArrayList<>();
      int partitions = 0;
      for (TopicDescription t : topics.values()) {
        for (TopicPartitionInfo p : t.partitions()) {
          partitions++;
          if (p.leader() == null || p.leader().isEmpty() || !p.isr().equals(p.replicas())) {
            unwell.add(t.name() + "-" + p.partition() + " " + p);
          }
        }
      }
      parts.add(
          topics.size()
              + " topics, "
              + partitions
              + " partitions, "
              + (unwell.isEmpty() ? "each led by an in-sync replica" : "unwell: " + unwell));
      admin
          .createTopics(List.of(new NewTopic(PROBE_TOPIC, 1, (short) 1)))
          .all()
          .toCompletionStage()
          .exceptionally(alreadyThere -> null)
          .toCompletableFuture()
          .get();
      Topics.awaitServed(admin, List.of(PROBE_TOPIC));
      parts.add("a write " + probeWrite(true));
      parts.add("a write without idempotence " + probeWrite(false));
    } catch (ExecutionException e) {
      parts.add("no answer from its admin API: " + e.getCause());
    } catch (TopicConfigException e) {
      parts.add("its probe topic is not served: " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      parts.add("interrupted while asking its admin API");
    } finally {
      admin.close(Duration.ofMillis(STATE_TIMEOUT_MS));
    }
    return String.join("; ", parts);
  }

  /**
   * One record written to a topic of the probe's own by a new producer, idempotent (which first
   * asks the broker for a producer id) or not: whether the broker takes writes now, and how fast. A
   * produce that timed out in a test says no more than that.
   */
  private String probeWrite(boolean idempotent) {
    Map<String, Object> settings = new java.util.HashMap<>(kafka.adminSettings());
    settings.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, idempotent);
    settings.put(ProducerConfig.ACKS_CONFIG, "all");
    settings.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, (int) STATE_TIMEOUT_MS);
    settings.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) STATE_TIMEOUT_MS);
    settings.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, (int) STATE_TIMEOUT_MS);
    settings.put(ProducerConfig.LINGER_MS_CONFIG, 0);
    long t0 = System.nanoTime();
    try (KafkaProducer<byte[], byte[]> p =
        new KafkaProducer<>(settings, new ByteArraySerializer(), new ByteArraySerializer())) {
      p.send(new ProducerRecord<>(PROBE_TOPIC, new byte[] {1}))
          .get(STATE_TIMEOUT_MS + 1_000, java.util.concurrent.TimeUnit.MILLISECONDS);
      return "took " + (System.nanoTime() - t0) / 1_000_000 + " ms";
    } catch (ExecutionException e) {
      return "failed after " + (System.nanoTime() - t0) / 1_000_000 + " ms: " + e.getCause();
    } catch (java.util.concurrent.TimeoutException | RuntimeException e) {
      return "failed after " + (System.nanoTime() - t0) / 1_000_000 + " ms: " + e;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "interrupted";
    }
  }

  private static String describe(Optional<RuntimeException> fault) {
    return fault
        .map(f -> f + (f.getCause() == null ? "" : " caused by " + f.getCause()))
        .orElse("none");
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
