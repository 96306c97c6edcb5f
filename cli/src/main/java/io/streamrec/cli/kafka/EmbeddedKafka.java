package io.streamrec.cli.kafka;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.network.ListenerName;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;
import org.apache.kafka.storage.internals.log.UnifiedLog;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real, single-node Kafka broker inside this JVM: one KRaft process that is both broker and
 * controller, no ZooKeeper and no Docker. It backs the demo, the {@code streamrec broker} command
 * and the integration tests, so that all of them talk to the same broker code a production cluster
 * runs.
 *
 * <p>It is built on Kafka's own {@link KafkaClusterTestKit}. That kit binds a socket on a random
 * port for each listener name it knows before the broker starts, and the broker adopts that socket
 * whatever port its {@code listeners} setting names: a fixed port set on the kit's own client
 * listener is advertised to clients but nothing listens there. So the node's per-server properties
 * replace {@code listeners} with a client listener of ours, {@value #CLIENT_LISTENER}, that the kit
 * has not bound, and the broker binds it itself on the port asked for (0 still means any free port,
 * and the broker then advertises the port it got). {@link #bootstrapServers()} reads the bound port
 * back from the broker.
 *
 * <p>The settings suit one laptop: internal topics with one replica, no delay before the first
 * consumer-group rebalance, no topic created by accident (a typo in a topic name fails instead of
 * creating a new empty topic), and a log cleaner that looks for work often, so that compaction of
 * the model-updates topic can be watched. Kafka refuses a {@code segment.bytes} under 1 MiB, but a
 * test topic may set {@link #TEST_SEGMENT_BYTES_CONFIG} to a few KB, so that records leave the
 * active segment, which is never compacted, after a few batches. Time-based retention is off: files
 * users load carry historical event times as record timestamps, and a week's retention measured
 * from those would delete them within minutes.
 *
 * <p>A start on an empty (or new) directory formats it: a new cluster id, a new KRaft metadata log.
 * A start on a directory an earlier broker left formats nothing: it takes that broker's cluster id
 * from its {@code meta.properties} and starts on its metadata log and topic logs, so a broker
 * stopped (or killed) and started again on its directory keeps its topics, their records and the
 * consumer groups' offsets. A directory that holds something else is refused.
 */
public final class EmbeddedKafka implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(EmbeddedKafka.class);

  /**
   * Topic setting for segments smaller than {@code segment.bytes} allows (1 MiB), meant by Kafka
   * for tests only; a batch larger than the segment is refused, so keep the producer's batches
   * below it.
   */
  public static final String TEST_SEGMENT_BYTES_CONFIG = "internal.segment.bytes";

  /** Our client listener; any name the test kit does not bind in advance would do. */
  static final String CLIENT_LISTENER = "CLIENT";

  /** With SASL users: the broker's own user, to talk to itself on the client listener. */
  static final String BROKER_USER = "streamrec-broker";

  /** The mechanism of a broker with SASL users: PLAIN, whose users live in the JAAS options. */
  static final String SASL_MECHANISM = "PLAIN";

  private static final String PLAIN_LOGIN_MODULE =
      "org.apache.kafka.common.security.plain.PlainLoginModule";

  /**
   * Our controller listener, on the loopback interface: the test kit binds its own ({@code
   * CONTROLLER}) on every interface, where anyone on the network could have sent the controller
   * unauthenticated requests (describe or alter configs, ACLs, features), with SASL users too.
   */
  static final String CONTROLLER_LISTENER = "LOCAL_CONTROLLER";

  /** Clients on this machine only: a demo broker has no authentication, so it is not exposed. */
  static final String HOST = "localhost";

  /** In combined mode the test kit numbers the one broker+controller node 0. */
  private static final int NODE_ID = 0;

  /** One broker can hold one replica of anything. */
  private static final String ONE_REPLICA = "1";

  /** One partition is plenty for one laptop's consumer groups and transactions. */
  private static final String INTERNAL_TOPIC_PARTITIONS = "1";

  /** Tests and the demo start consumers one after another; waiting for more joiners only delays. */
  private static final String GROUP_INITIAL_REBALANCE_DELAY_MS = "0";

  /**
   * Kafka's default (15 s) makes compaction slow to watch; 0.5 s costs little on an idle broker.
   */
  private static final String LOG_CLEANER_BACKOFF_MS = "500";

  /** What Kafka's formatter writes into each log directory, with the cluster id. */
  static final String META_PROPERTIES = "meta.properties";

  private static final String CLUSTER_ID = "cluster.id";

  /** No time limit: loaded files carry historical timestamps, see the class comment. */
  private static final String LOG_RETENTION_MS = "-1";

  private final KafkaClusterTestKit cluster;
  private final EmbeddedKafkaConfig config;
  private final String bootstrapServers;
  private final Path dataDirectory;
  private final boolean temporaryDirectory;
  private final boolean restarted;
  private final io.streamrec.cli.DirectoryLock lock;
  private final AtomicBoolean closed = new AtomicBoolean();

  private EmbeddedKafka(
      KafkaClusterTestKit cluster,
      io.streamrec.cli.DirectoryLock lock,
      EmbeddedKafkaConfig config,
      String bootstrapServers,
      Path dataDirectory,
      boolean temporaryDirectory,
      boolean restarted) {
    this.cluster = cluster;
    this.lock = lock;
    this.config = config;
    this.bootstrapServers = bootstrapServers;
    this.dataDirectory = dataDirectory;
    this.temporaryDirectory = temporaryDirectory;
    this.restarted = restarted;
  }

  /**
   * Formats the data directory (unless it holds an earlier broker's data, see the class comment),
   * starts the broker and waits until it accepts clients (a few seconds).
   *
   * @throws EmbeddedKafkaException if it cannot start, e.g. the port is taken or the data directory
   *     holds something other than a broker's data; nothing is left running then
   */
  public static EmbeddedKafka start(EmbeddedKafkaConfig cfg) {
    Objects.requireNonNull(cfg, "cfg");
    long startNanos = System.nanoTime();
    boolean temporary = cfg.dataDirectory() == null;
    // nothing is written into a directory refused as another's data (the lock file neither)
    Path dir = temporary ? createTemporaryDirectory() : checkDataDirectory(cfg.dataDirectory());
    io.streamrec.cli.DirectoryLock lock = lockDataDirectory(dir, temporary);
    KafkaClusterTestKit cluster = null;
    boolean started = false;
    try {
      // read once the lock is held: a broker still formatting the directory has it
      Optional<String> clusterId = temporary ? Optional.empty() : existingClusterId(dir);
      if (cfg.port() != 0) {
        checkPortFree(cfg.port());
      }
      cluster = build(dir, cfg, clusterId);
      if (clusterId.isEmpty()) {
        formatQuietly(cluster);
      }
      cluster.startup();
      cluster.waitForReadyBrokers();
      closeUnusedSockets(cluster);
      int port = cluster.brokers().get(NODE_ID).boundPort(ListenerName.normalised(CLIENT_LISTENER));
      String bootstrap = HOST + ":" + port;
      long millis = (System.nanoTime() - startNanos) / 1_000_000;
      LOG.info(
          "Kafka broker ready at {} (KRaft, {}, data in {}{}, started in {} ms)",
          bootstrap,
          cfg.sasl() ? "SASL/PLAIN, users " + cfg.saslUsers().keySet() : "plaintext",
          dir,
          clusterId.map(id -> ", restarted on cluster " + id).orElse(""),
          millis);
      EmbeddedKafka broker =
          new EmbeddedKafka(cluster, lock, cfg, bootstrap, dir, temporary, clusterId.isPresent());
      started = true;
      return broker;
    } catch (EmbeddedKafkaException e) {
      throw e;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new EmbeddedKafkaException("interrupted while starting the Kafka broker", e);
    } catch (Exception e) {
      throw new EmbeddedKafkaException(describeStartFailure(cfg, e), e);
    } finally {
      if (!started) {
        if (cluster != null) {
          closeQuietly(cluster);
        }
        releaseQuietly(lock);
        if (temporary) {
          deleteQuietly(dir);
        }
      }
    }
  }

  /**
   * Formats the node's directories. Kafka's formatter prints its bootstrap metadata to standard
   * output; that is noise here (the demo's progress lines go there), so it is dropped while the
   * format runs. Nothing else prints during start-up.
   */
  private static void formatQuietly(KafkaClusterTestKit cluster) throws Exception {
    java.io.PrintStream out = System.out;
    System.setOut(new java.io.PrintStream(java.io.OutputStream.nullOutputStream()));
    try {
      cluster.format();
    } finally {
      System.setOut(out);
    }
  }

  /**
   * Closes the sockets the test kit bound in advance, on every interface, for its own client and
   * controller listeners, which this broker does not use (ours bind on the loopback interface):
   * they stayed open, taking connections that nothing answered. The kit closes those of its sockets
   * no server took; it keeps them open only until its own close otherwise. Best effort: a kit
   * without that field leaves them open, as before.
   */
  private static void closeUnusedSockets(KafkaClusterTestKit cluster) {
    try {
      java.lang.reflect.Field f =
          KafkaClusterTestKit.class.getDeclaredField("socketFactoryManager");
      f.setAccessible(true);
      ((AutoCloseable) f.get(cluster)).close();
    } catch (Exception e) {
      LOG.debug("the test kit's unused sockets stay open: {}", e.toString());
    }
  }

  /** The port the controller listens on (loopback only). */
  int controllerPort() {
    return cluster
        .controllers()
        .get(NODE_ID)
        .socketServer()
        .boundPort(ListenerName.normalised(CONTROLLER_LISTENER));
  }

  /** {@code localhost:<port>}, for clients' {@code bootstrap.servers}. */
  public String bootstrapServers() {
    return bootstrapServers;
  }

  /** Whether this broker started on an earlier broker's data rather than a fresh directory. */
  public boolean restarted() {
    return restarted;
  }

  /** Where the broker keeps its data (deleted on close if it was a temporary directory). */
  public Path dataDirectory() {
    return dataDirectory;
  }

  /**
   * The broker's state as Kafka names it ({@code RUNNING} when it serves clients; {@code RECOVERY}
   * while it is fenced by its controller and catching up; {@code PENDING_CONTROLLED_SHUTDOWN},
   * {@code SHUTTING_DOWN} on the way out).
   */
  public String brokerState() {
    return String.valueOf(cluster.brokers().get(NODE_ID).brokerState());
  }

  /**
   * The first fault the broker or its controller met, if any: with {@code fatal}, one that stops a
   * broker running as a process of its own (Kafka's test kit, which this broker runs on, records it
   * and goes on running, so a caller has to ask); without, one that Kafka logs and survives, such
   * as a metadata change a part of the broker could not apply. Either explains a broker that
   * stopped serving a topic.
   */
  public Optional<RuntimeException> firstFault(boolean fatal) {
    return Optional.ofNullable(
        (fatal ? cluster.fatalFaultHandler() : cluster.nonFatalFaultHandler()).firstException());
  }

  /**
   * One partition as the broker holds it, on one line: leader epoch, in-sync replicas, log start,
   * high watermark and log end offset, and each producer it keeps sequence state for (id, epoch,
   * last sequence). Tells a write the broker never got (log end 0) from one it holds but has not
   * acknowledged (high watermark behind the log end) or refused for its sequence.
   */
  public String partitionState(String topic, int partition) {
    TopicPartition tp = new TopicPartition(topic, partition);
    scala.Option<kafka.cluster.Partition> online =
        cluster.brokers().get(NODE_ID).replicaManager().onlinePartition(tp);
    if (online.isEmpty()) {
      return tp + " not online on the broker";
    }
    kafka.cluster.Partition p = online.get();
    scala.Option<UnifiedLog> log = p.log();
    if (log.isEmpty()) {
      return tp + " online without a local log";
    }
    UnifiedLog l = log.get();
    StringBuilder producers = new StringBuilder();
    l.producerStateManager()
        .activeProducers()
        .forEach(
            (id, e) ->
                producers
                    .append(producers.length() == 0 ? "" : ", ")
                    .append(id)
                    .append(" epoch ")
                    .append(e.producerEpoch())
                    .append(" last sequence ")
                    .append(e.lastSeq()));
    return tp
        + ": leader epoch "
        + p.getLeaderEpoch()
        + ", in-sync "
        + p.inSyncReplicaIds().mkString("[", ", ", "]")
        + ", log start "
        + l.logStartOffset()
        + ", high watermark "
        + l.highWatermark()
        + ", log end "
        + l.logEndOffset()
        + ", producers ["
        + producers
        + "]";
  }

  /** Stops the broker and, if it was temporary, deletes its data. Idempotent; never throws. */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    closeQuietly(cluster);
    releaseQuietly(lock);
    if (temporaryDirectory) {
      deleteQuietly(dataDirectory);
    }
    LOG.debug("Kafka broker at {} stopped", bootstrapServers);
  }

  /** The file in a data directory that one broker holds while it runs. */
  static final String LOCK_FILE = "streamrec-broker.lock";

  /**
   * Takes {@code dir} for this broker, or refuses where another broker runs on it: a second broker
   * on a data directory in use wrote into the running one's metadata log (a new leader epoch, new
   * snapshots) before Kafka's own lock of its log directory refused it, and the running broker
   * could create no more topics and no longer stopped on SIGTERM.
   */
  private static io.streamrec.cli.DirectoryLock lockDataDirectory(Path dir, boolean temporary) {
    try {
      return io.streamrec.cli.DirectoryLock.take(
          dir,
          LOCK_FILE,
          holder ->
              new EmbeddedKafkaException(
                  "Kafka data directory "
                      + dir
                      + " is in use by another running broker"
                      + holder
                      + ": stop that one first, or name another --data-dir"));
    } catch (IOException e) {
      if (temporary) {
        deleteQuietly(dir);
      }
      throw new EmbeddedKafkaException("cannot lock Kafka data directory " + dir, e);
    } catch (EmbeddedKafkaException e) {
      if (temporary) {
        deleteQuietly(dir);
      }
      throw e;
    }
  }

  private static void releaseQuietly(io.streamrec.cli.DirectoryLock lock) {
    try {
      lock.close();
    } catch (IOException e) {
      LOG.debug("cannot release the data directory's lock: {}", e.toString());
    }
  }

  private static KafkaClusterTestKit build(
      Path dir, EmbeddedKafkaConfig cfg, Optional<String> clusterId) throws Exception {
    Map<String, String> listeners = listenerSettings(cfg);
    TestKitNodes.Builder nodeBuilder = new TestKitNodes.Builder();
    clusterId.ifPresent(nodeBuilder::setClusterId);
    TestKitNodes nodes =
        nodeBuilder
            .setCombined(true)
            .setNumBrokerNodes(1)
            .setNumControllerNodes(1)
            .setBaseDirectory(dir)
            .setPerServerProperties(Map.of(NODE_ID, listeners))
            .build();
    KafkaClusterTestKit.Builder builder = new KafkaClusterTestKit.Builder(nodes);
    brokerSettings(cfg).forEach(builder::setConfigProp);
    // We delete a temporary directory ourselves and never a directory the caller named.
    return builder.setDeleteOnClose(false).build();
  }

  /**
   * The node's listeners: ours for clients on the port asked for, the controller's. With SASL users
   * the client listener asks for SASL/PLAIN, and the broker logs in there too, as a user of its
   * own.
   */
  static Map<String, String> listenerSettings(EmbeddedKafkaConfig cfg) throws IOException {
    // the quorum is this node, at our controller listener's port, which the voters must name
    // before the broker binds it: a free port of the loopback interface
    int port;
    try (java.net.ServerSocket free =
        new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      port = free.getLocalPort();
    }
    String controller = HOST + ":" + port;
    Map<String, String> m = new java.util.HashMap<>();
    m.put(
        "listeners",
        CLIENT_LISTENER
            + "://"
            + HOST
            + ":"
            + cfg.port()
            + ","
            + CONTROLLER_LISTENER
            + "://"
            + controller);
    m.put(
        "listener.security.protocol.map",
        CLIENT_LISTENER
            + (cfg.sasl() ? ":SASL_PLAINTEXT," : ":PLAINTEXT,")
            + CONTROLLER_LISTENER
            + ":PLAINTEXT");
    m.put("inter.broker.listener.name", CLIENT_LISTENER);
    m.put("controller.listener.names", CONTROLLER_LISTENER);
    m.put("controller.quorum.voters", NODE_ID + "@" + controller);
    m.put("controller.quorum.bootstrap.servers", controller);
    if (cfg.sasl()) {
      m.putAll(saslSettings(cfg));
    }
    if (cfg.acls()) {
      m.put("authorizer.class.name", "org.apache.kafka.metadata.authorizer.StandardAuthorizer");
      // the broker's own user, and the node talking to its controller on the loopback listener,
      // which has no login (ANONYMOUS)
      StringBuilder supers = new StringBuilder("User:" + BROKER_USER + ";User:ANONYMOUS");
      cfg.superUsers().stream().sorted().forEach(u -> supers.append(";User:").append(u));
      m.put("super.users", supers.toString());
    }
    return m;
  }

  /**
   * With SASL users: SASL/PLAIN on the client listener, where the broker talks to itself too,
   * logged in as a user of its own whose password is drawn at each start (a plaintext listener of
   * its own took any client without a login).
   */
  private static Map<String, String> saslSettings(EmbeddedKafkaConfig cfg) {
    if (cfg.saslUsers().containsKey(BROKER_USER)) {
      throw new IllegalArgumentException(
          "'" + BROKER_USER + "' is the broker's own user: give your users other names");
    }
    String brokerPassword = java.util.UUID.randomUUID().toString();
    Map<String, String> users = new java.util.LinkedHashMap<>();
    users.put(BROKER_USER, brokerPassword);
    users.putAll(cfg.saslUsers());
    StringBuilder jaas =
        new StringBuilder(PLAIN_LOGIN_MODULE)
            .append(" required username=\"")
            .append(BROKER_USER)
            .append("\" password=\"")
            .append(brokerPassword)
            .append('"');
    users.forEach((u, pw) -> jaas.append(" user_").append(u).append("=\"").append(pw).append('"'));
    jaas.append(';');
    String prefix = "listener.name." + CLIENT_LISTENER.toLowerCase(Locale.ROOT) + ".";
    return Map.of(
        "sasl.mechanism.inter.broker.protocol",
        SASL_MECHANISM,
        "sasl.enabled.mechanisms",
        SASL_MECHANISM,
        prefix + "sasl.enabled.mechanisms",
        SASL_MECHANISM,
        prefix + SASL_MECHANISM.toLowerCase(Locale.ROOT) + ".sasl.jaas.config",
        jaas.toString());
  }

  /**
   * Client settings (as {@code properties.*} takes them, without the prefix) for logging in as
   * {@code user} on a broker started with SASL users; empty for a plaintext broker.
   *
   * @throws IllegalArgumentException if the broker has no such user
   */
  public Map<String, String> clientSettings(String user) {
    if (!config.sasl()) {
      return Map.of();
    }
    String pw = config.saslUsers().get(user);
    if (pw == null) {
      throw new IllegalArgumentException(
          "the broker has no SASL user '" + user + "'; it has " + config.saslUsers().keySet());
    }
    return clientSettings(user, pw);
  }

  /** Client settings for SASL/PLAIN as {@code user} with {@code password}, right or wrong. */
  public static Map<String, String> clientSettings(String user, String password) {
    return Map.of(
        "security.protocol",
        "SASL_PLAINTEXT",
        "sasl.mechanism",
        SASL_MECHANISM,
        "sasl.jaas.config",
        PLAIN_LOGIN_MODULE + " required username=\"" + user + "\" password=\"" + password + "\";");
  }

  /**
   * Settings of an admin client of this broker (as its first SASL user, if it has users; its first
   * super user where it checks ACLs).
   */
  public Map<String, Object> adminSettings() {
    Map<String, Object> s = new java.util.HashMap<>();
    if (config.sasl()) {
      s.putAll(
          clientSettings(
              (config.acls() ? config.superUsers() : config.saslUsers().keySet())
                  .stream().sorted().findFirst().orElseThrow()));
    }
    s.put("bootstrap.servers", bootstrapServers);
    return s;
  }

  /** Broker settings on top of the test kit's; see the class comment for why. */
  static Map<String, String> brokerSettings(EmbeddedKafkaConfig cfg) {
    return Map.ofEntries(
        Map.entry("auto.create.topics.enable", "false"),
        Map.entry("num.partitions", Integer.toString(cfg.defaultPartitions())),
        Map.entry("default.replication.factor", ONE_REPLICA),
        Map.entry("min.insync.replicas", ONE_REPLICA),
        Map.entry("offsets.topic.replication.factor", ONE_REPLICA),
        Map.entry("offsets.topic.num.partitions", INTERNAL_TOPIC_PARTITIONS),
        Map.entry("transaction.state.log.replication.factor", ONE_REPLICA),
        Map.entry("transaction.state.log.min.isr", ONE_REPLICA),
        Map.entry("transaction.state.log.num.partitions", INTERNAL_TOPIC_PARTITIONS),
        Map.entry("group.initial.rebalance.delay.ms", GROUP_INITIAL_REBALANCE_DELAY_MS),
        Map.entry("log.cleaner.enable", "true"),
        Map.entry("log.cleaner.backoff.ms", LOG_CLEANER_BACKOFF_MS),
        Map.entry("log.retention.ms", LOG_RETENTION_MS));
  }

  private static Path createTemporaryDirectory() {
    try {
      return Files.createTempDirectory("streamrec-kafka-");
    } catch (IOException e) {
      throw new EmbeddedKafkaException(
          "cannot create a temporary directory for the Kafka broker", e);
    }
  }

  private static Path checkDataDirectory(Path dir) {
    Path abs = dir.toAbsolutePath();
    if (Files.exists(abs)) {
      if (!Files.isDirectory(abs)) {
        throw new EmbeddedKafkaException(
            "Kafka data directory " + abs + " is a file, not a directory");
      }
      try (Stream<Path> entries = Files.list(abs)) {
        if (entries.anyMatch(e -> !e.getFileName().toString().equals(LOCK_FILE))
            && existingClusterId(abs).isEmpty()) {
          throw new EmbeddedKafkaException(
              "Kafka data directory "
                  + abs
                  + " is not empty and holds no Kafka broker's data (no "
                  + META_PROPERTIES
                  + " with a "
                  + CLUSTER_ID
                  + " in its subdirectories): name an empty directory, one an earlier 'streamrec"
                  + " broker' wrote, or none for a temporary directory.");
        }
      } catch (IOException e) {
        throw new EmbeddedKafkaException("cannot read Kafka data directory " + abs, e);
      }
    }
    return abs;
  }

  /**
   * The cluster id an earlier broker formatted {@code dir} with: the {@value #CLUSTER_ID} of the
   * {@value #META_PROPERTIES} in each of its node directories (they must agree), or empty when it
   * holds none.
   */
  static Optional<String> existingClusterId(Path dir) {
    if (!Files.isDirectory(dir)) {
      return Optional.empty();
    }
    Set<String> ids = new TreeSet<>();
    try (Stream<Path> nodeDirs = Files.list(dir)) {
      for (Path node : (Iterable<Path>) nodeDirs::iterator) {
        Path meta = node.resolve(META_PROPERTIES);
        if (!Files.isRegularFile(meta)) {
          continue;
        }
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(meta, StandardCharsets.UTF_8)) {
          p.load(r);
        }
        String id = p.getProperty(CLUSTER_ID);
        if (id == null || id.isBlank()) {
          throw new EmbeddedKafkaException(meta + " has no " + CLUSTER_ID + "; is it Kafka's?");
        }
        ids.add(id.trim());
      }
    } catch (IOException e) {
      throw new EmbeddedKafkaException("cannot read Kafka data directory " + dir, e);
    }
    if (ids.size() > 1) {
      throw new EmbeddedKafkaException(
          "Kafka data directory " + dir + " holds the data of several clusters " + ids);
    }
    return ids.stream().findFirst();
  }

  /**
   * Fails early, with the port in the message, if something already listens there. The broker would
   * fail too, but deep inside its start-up; this check and that failure may still race, and {@link
   * #describeStartFailure} words both alike.
   */
  private static void checkPortFree(int port) {
    try (ServerSocket probe = new ServerSocket()) {
      probe.setReuseAddress(true);
      probe.bind(new InetSocketAddress(HOST, port));
    } catch (IOException e) {
      throw new EmbeddedKafkaException(portInUse(port), e);
    }
  }

  private static String portInUse(int port) {
    return "cannot start the Kafka broker: port "
        + port
        + " on "
        + HOST
        + " is already in use (another Kafka broker?). Stop whatever listens there, or choose another"
        + " port (0 picks any free one).";
  }

  private static String describeStartFailure(EmbeddedKafkaConfig cfg, Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      String msg = t.getMessage();
      if (t instanceof BindException
          || (msg != null && msg.toLowerCase(Locale.ROOT).contains("address already in use"))) {
        return portInUse(cfg.port());
      }
    }
    Throwable root = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
    return "cannot start the Kafka broker (port "
        + (cfg.port() == 0 ? "any" : Integer.toString(cfg.port()))
        + "): "
        + root;
  }

  private static void closeQuietly(KafkaClusterTestKit cluster) {
    try {
      cluster.close();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      LOG.warn("interrupted while stopping the Kafka broker", e);
    } catch (Exception e) {
      LOG.warn("the Kafka broker reported an error while stopping", e);
    }
  }

  private static void deleteQuietly(Path dir) {
    try {
      io.streamrec.common.Directories.deleteRecursively(dir);
    } catch (IOException | UncheckedIOException e) {
      LOG.warn("could not delete the Kafka broker's temporary directory {}", dir, e);
    }
  }
}
