package io.streamrec.job.kafka;

import io.streamrec.common.KafkaClientErrors;
import io.streamrec.common.KafkaClientProperties;
import io.streamrec.common.StreamrecException;
import io.streamrec.job.config.JobConfig;
import io.streamrec.job.config.TopicsConfig;
import io.streamrec.protocol.ModelTopicPartitions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.DescribeTopicsOptions;
import org.apache.kafka.clients.admin.ListOffsetsResult.ListOffsetsResultInfo;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.SslAuthenticationException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checks, before a job or a command starts, that Kafka lets streamrec in and holds the topics it
 * needs, so that a mistake fails in a second with one message rather than after the clients'
 * timeouts (a source waits for a missing topic's metadata, a producer blocks for a minute) with a
 * stack trace. A missing topic is named with the command that creates it; a refused login names the
 * client's protocol, mechanism and user (never its secret) and the settings to check.
 */
public final class KafkaPreflight {
  private static final Logger LOG = LoggerFactory.getLogger(KafkaPreflight.class);

  /** Long enough for a broker that just started; short enough that a wrong address fails soon. */
  public static final Duration TIMEOUT = Duration.ofSeconds(30);

  private KafkaPreflight() {}

  /** Admin client settings: the servers, the user's client settings, the timeout above. */
  public static Map<String, Object> adminSettings(
      String bootstrapServers, KafkaClientProperties properties) {
    Map<String, Object> s = new HashMap<>(properties.asMap());
    s.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    s.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) TIMEOUT.toMillis());
    s.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) TIMEOUT.toMillis());
    return s;
  }

  /** The topics a job of {@code cfg} reads and writes. */
  public static List<TopicSpec> topicsOf(JobConfig cfg) {
    // input topics as streamrec's tools create them: at least as many partitions as readers
    TopicsConfig names =
        cfg.topics(Math.max(TopicsConfig.DEFAULT_INPUT_PARTITIONS, cfg.assemblerParallelism()));
    List<TopicSpec> all = TopicSpec.all(names);
    List<TopicSpec> needed = new ArrayList<>();
    for (TopicSpec t : all) {
      boolean events = t.name().equals(names.requests()) || t.name().equals(names.impressions());
      boolean units = t.name().equals(names.requestUnits());
      if (events && cfg.sourceKind() == JobConfig.SourceKind.EVENTS
          || units && (cfg.sourceKind() == JobConfig.SourceKind.UNITS || cfg.requestUnitsEnabled())
          || !events && !units) {
        needed.add(t);
      }
    }
    return needed;
  }

  /**
   * Checks the topics a job of {@code cfg} needs and, for an exactly-once job, that the brokers
   * allow its transactions' timeout.
   */
  public static void checkJob(JobConfig cfg) {
    try (Admin admin = admin(cfg.bootstrapServers(), cfg.kafkaProperties())) {
      Map<String, TopicDescription> described =
          checkTopics(
              admin,
              cfg.bootstrapServers(),
              cfg.kafkaProperties(),
              topicsOf(cfg),
              operationsOf(cfg));
      checkReplication(admin, described, writtenBy(cfg));
      if (cfg.requestUnitsEnabled() && cfg.sourceKind() == JobConfig.SourceKind.EVENTS) {
        checkUnitsRecordSize(admin, cfg.requestUnitsTopic(), cfg.kafkaProperties());
      }
      if (cfg.exactlyOnce()) {
        checkTransactionTimeout(admin, io.streamrec.job.sink.KafkaSinks.transactionTimeoutMs(cfg));
      }
    }
  }

  /**
   * What a job of {@code cfg} does with each of its topics, as the operations a broker's ACLs must
   * allow it: it reads its input, writes dead letters and the units log if kept, and reads the
   * newest version of the model before it writes the model.
   */
  static Map<String, Set<AclOperation>> operationsOf(JobConfig cfg) {
    TopicsConfig names = cfg.topics(TopicsConfig.DEFAULT_INPUT_PARTITIONS);
    Map<String, Set<AclOperation>> ops = new java.util.LinkedHashMap<>();
    if (cfg.sourceKind() == JobConfig.SourceKind.EVENTS) {
      ops.put(names.requests(), Set.of(AclOperation.READ));
      ops.put(names.impressions(), Set.of(AclOperation.READ));
    } else {
      ops.put(names.requestUnits(), Set.of(AclOperation.READ));
    }
    for (String written : writtenBy(cfg)) {
      ops.merge(written, Set.of(AclOperation.WRITE), KafkaPreflight::union);
    }
    ops.merge(names.modelUpdates(), Set.of(AclOperation.READ), KafkaPreflight::union);
    return ops;
  }

  private static Set<AclOperation> union(Set<AclOperation> a, Set<AclOperation> b) {
    Set<AclOperation> u = java.util.EnumSet.noneOf(AclOperation.class);
    u.addAll(a);
    u.addAll(b);
    return u;
  }

  /** The topics a job of {@code cfg} writes: dead letters, the model, and the units log if kept. */
  static List<String> writtenBy(JobConfig cfg) {
    TopicsConfig names = cfg.topics(TopicsConfig.DEFAULT_INPUT_PARTITIONS);
    List<String> written = new ArrayList<>(List.of(names.deadLetters(), names.modelUpdates()));
    if (cfg.requestUnitsEnabled()) {
      written.add(names.requestUnits());
    }
    return written;
  }

  /**
   * Refuses a topic the job writes that has fewer replicas than its {@code min.insync.replicas}:
   * the job's producers write with acks=all, which such a topic refuses every time as
   * NOT_ENOUGH_REPLICAS, a retriable error, so its sinks retry without end and the job stalls with
   * nothing but its producers' warnings to say why. Where the topic's settings cannot be read (no
   * DescribeConfigs ACL), not checked. {@code described}: the topics as {@link #checkTopics}
   * described them.
   */
  static void checkReplication(
      Admin admin, Map<String, TopicDescription> described, List<String> topics) {
    for (String name : topics) {
      Config config = settings(admin, name, "whether it has enough replicas to be written");
      ConfigEntry minInsync =
          config == null ? null : config.get(TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG);
      if (minInsync == null || minInsync.value() == null) {
        continue;
      }
      int replicas =
          described.get(name).partitions().stream()
              .mapToInt(p -> p.replicas().size())
              .min()
              .orElse(Integer.MAX_VALUE);
      String problem = replicationProblem(name, replicas, Integer.parseInt(minInsync.value()));
      if (problem != null) {
        throw new StreamrecException(problem);
      }
    }
  }

  /**
   * Why a topic the job writes, of {@code replicas} replicas, cannot be written with acks=all under
   * {@code minInsync}, with how to fix it; null when it can.
   */
  static String replicationProblem(String name, int replicas, int minInsync) {
    if (replicas >= minInsync) {
      return null;
    }
    return "topic '"
        + name
        + "' has replication factor "
        + replicas
        + ", below its min.insync.replicas of "
        + minInsync
        + ": the job writes it with acks=all, which it refuses every time (NOT_ENOUGH_REPLICAS),"
        + " and the job would retry without end. To fix it, give the topic at least "
        + minInsync
        + " replicas (kafka-reassign-partitions.sh, or delete it and create it again with"
        + " streamrec topics --replication-factor "
        + Math.max(minInsync, TopicSpec.PRODUCTION_REPLICATION_FACTOR)
        + "), or lower its min.insync.replicas (kafka-configs.sh --alter --entity-type topics"
        + " --entity-name "
        + name
        + " --add-config min.insync.replicas="
        + replicas
        + ").";
  }

  /**
   * A transaction timeout over the brokers' {@code transaction.max.timeout.ms} makes every start of
   * an exactly-once sink fail ("The transaction timeout is larger than the maximum value allowed by
   * the broker"), and the job restart for ever: refused here, in one line. Where the brokers'
   * settings cannot be read (no DescribeConfigs ACL on the cluster), not checked.
   */
  static void checkTransactionTimeout(Admin admin, long timeoutMs) {
    String unchecked = "the exactly-once sinks' transaction timeout";
    Long max;
    try {
      org.apache.kafka.common.Node node =
          admin.describeCluster().nodes().get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS).stream()
              .findFirst()
              .orElse(null);
      Config config =
          node == null
              ? null
              : settings(
                  admin,
                  new ConfigResource(ConfigResource.Type.BROKER, Integer.toString(node.id())),
                  unchecked);
      org.apache.kafka.clients.admin.ConfigEntry e =
          config == null ? null : config.get("transaction.max.timeout.ms");
      max = e == null || e.value() == null ? null : Long.parseLong(e.value());
    } catch (ExecutionException | java.util.concurrent.TimeoutException | RuntimeException e) {
      LOG.info(
          "cannot read the brokers' transaction.max.timeout.ms ({}): {} is not checked",
          e instanceof ExecutionException ? e.getCause() : e.toString(),
          unchecked);
      return;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StreamrecException("interrupted while checking the Kafka brokers", e);
    }
    if (max != null && timeoutMs > max) {
      throw new KafkaAccessException(
          "the exactly-once sinks' transaction.timeout.ms is "
              + timeoutMs
              + " ms, more than this cluster allows (its transaction.max.timeout.ms: "
              + max
              + " ms): set -D properties.transaction.timeout.ms to at most "
              + max,
          null);
    }
  }

  /**
   * Checks that the broker at {@code bootstrapServers} lets a client with {@code properties} in and
   * holds every topic of {@code needed}, and returns once the leader of each of their partitions
   * serves it ({@link #endOffsetsOf}).
   *
   * @throws KafkaAccessException if the broker refuses the login or the operation, or does not
   *     answer
   * @throws MissingTopicsException naming each missing topic and how to create it
   */
  public static void checkTopics(
      String bootstrapServers, KafkaClientProperties properties, List<TopicSpec> needed) {
    try (Admin admin = admin(bootstrapServers, properties)) {
      checkTopics(admin, bootstrapServers, properties, needed);
    }
  }

  /**
   * The operations of {@code operations} that the ACLs of the topics {@code described} (with their
   * authorized operations) do not allow, in words; null when all are allowed, or the broker does
   * not say (authorized operations unknown).
   */
  static String notAllowed(
      Map<String, TopicDescription> described, Map<String, Set<AclOperation>> operations) {
    List<String> refused = new ArrayList<>();
    operations.forEach(
        (topic, ops) -> {
          TopicDescription d = described.get(topic);
          Set<AclOperation> allowed = d == null ? null : d.authorizedOperations();
          if (allowed == null || allowed.contains(AclOperation.ALL)) {
            return;
          }
          List<String> missing =
              ops.stream()
                  .filter(op -> !allowed.contains(op))
                  .sorted()
                  .map(KafkaPreflight::aclName)
                  .toList();
          if (!missing.isEmpty()) {
            refused.add(String.join(" and ", missing) + " on topic '" + topic + "'");
          }
        });
    return refused.isEmpty() ? null : "its ACLs do not allow " + String.join(", ", refused);
  }

  /** An operation as ACLs and docs/deploy.md name it: Read, Write, DescribeConfigs. */
  private static String aclName(AclOperation op) {
    StringBuilder b = new StringBuilder();
    for (String word : op.name().toLowerCase(java.util.Locale.ROOT).split("_")) {
      b.append(Character.toUpperCase(word.charAt(0))).append(word.substring(1));
    }
    return b.toString();
  }

  /**
   * Returns once the brokers answer {@code admin}; a refused login or no answer is said as {@link
   * #access} says it.
   */
  public static void reachable(
      Admin admin, String bootstrapServers, KafkaClientProperties properties) {
    await(admin.describeCluster().nodes(), bootstrapServers, properties, "list the brokers");
  }

  /** The id of the Kafka cluster at {@code bootstrapServers}, as its brokers give it. */
  public static String clusterId(String bootstrapServers, KafkaClientProperties properties) {
    try (Admin admin = admin(bootstrapServers, properties)) {
      return await(
          admin.describeCluster().clusterId(), bootstrapServers, properties, "read the cluster id");
    }
  }

  /**
   * {@code future}'s value within {@link #TIMEOUT}; a refused login or operation, or no answer, is
   * said as {@link #access} says it.
   */
  private static <T> T await(
      KafkaFuture<T> future,
      String bootstrapServers,
      KafkaClientProperties properties,
      String what) {
    try {
      return future.get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      throw access(e.getCause(), bootstrapServers, properties, what);
    } catch (java.util.concurrent.TimeoutException e) {
      throw access(e, bootstrapServers, properties, what);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StreamrecException("interrupted while trying to " + what + " in Kafka", e);
    }
  }

  /**
   * An admin client of these settings; one that cannot be made of them (an address without a port,
   * a missing CA file, a sasl.jaas.config that does not parse) is said in one line, and never with
   * the text of a JAAS configuration, which Kafka quotes and which can hold the password.
   */
  /**
   * Settings of a consumer that looks at the job's records before it starts: the user's client
   * settings, no offsets committed, and the sources' isolation level (read_committed unless the
   * settings say otherwise), so that it sees the records the job will.
   */
  public static Properties lookingConsumer(
      String bootstrapServers, KafkaClientProperties properties) {
    Properties p = properties.toProperties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    p.putIfAbsent(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    return p;
  }

  public static Admin admin(String bootstrapServers, KafkaClientProperties properties) {
    try {
      return Admin.create(adminSettings(bootstrapServers, properties));
    } catch (org.apache.kafka.common.KafkaException e) {
      String problem = KafkaClientErrors.settingsProblem(e);
      if (problem == null) {
        throw e;
      }
      throw new KafkaAccessException(
          "cannot reach Kafka at " + bootstrapServers + ": " + problem,
          KafkaClientErrors.secret(e) ? null : e);
    }
  }

  public static void checkTopics(
      Admin admin,
      String bootstrapServers,
      KafkaClientProperties properties,
      List<TopicSpec> needed) {
    checkTopics(admin, bootstrapServers, properties, needed, Map.of());
  }

  /**
   * {@link #checkTopics(Admin, String, KafkaClientProperties, List)}, and that the broker's ACLs
   * allow the client {@code operations} on each topic (by name) where the broker says what they
   * allow: a job that may not read its input or write its dead letters was submitted, and failed
   * and restarted at its first fetch or send, over and over.
   *
   * @return each topic's description, by name
   * @throws KafkaAccessException naming each topic and operation the ACLs do not allow
   */
  public static Map<String, TopicDescription> checkTopics(
      Admin admin,
      String bootstrapServers,
      KafkaClientProperties properties,
      List<TopicSpec> needed,
      Map<String, Set<AclOperation>> operations) {
    Map<String, KafkaFuture<TopicDescription>> described =
        admin
            .describeTopics(
                needed.stream().map(TopicSpec::name).toList(),
                new DescribeTopicsOptions().includeAuthorizedOperations(!operations.isEmpty()))
            .topicNameValues();
    List<TopicSpec> missing = new ArrayList<>();
    Map<String, TopicDescription> present = new HashMap<>();
    for (TopicSpec t : needed) {
      try {
        TopicDescription d = described.get(t.name()).get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        present.put(t.name(), d);
      } catch (ExecutionException e) {
        if (e.getCause() instanceof UnknownTopicOrPartitionException) {
          missing.add(t);
        } else {
          throw access(e.getCause(), bootstrapServers, properties, "describe topic " + t.name());
        }
      } catch (java.util.concurrent.TimeoutException e) {
        throw access(e, bootstrapServers, properties, "describe topic " + t.name());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new StreamrecException("interrupted while checking the Kafka topics", e);
      }
    }
    if (!missing.isEmpty()) {
      throw missing(missing, bootstrapServers, !properties.isEmpty(), brokers(admin));
    }
    String notAllowed = notAllowed(present, operations);
    if (notAllowed != null) {
      throw new KafkaAccessException(properties.refusal(bootstrapServers, true, notAllowed), null);
    }
    // a topic created a moment before (by a script, an operator, Strimzi) is written to only once
    // the leader of each partition serves it: the end offset is what only a serving leader answers
    Map<TopicPartition, ListOffsetsResultInfo> ends =
        await(
            admin.listOffsets(endOffsetsOf(present)).all(),
            bootstrapServers,
            properties,
            "read the end offsets of " + present.keySet());
    for (TopicSpec t : needed) {
      if (holdsTheModel(t)) {
        // a model in pieces is refused; a topic that grew around its model is used, with a
        // warning: partitions added to it used to stop the job's next start, and the only way
        // back, making the topic again, took the model from the replicas until the next version
        Map<Integer, Long> offsets = endOffsets(t.name(), ends);
        String pieces = ModelTopicPartitions.inPieces(t.name(), offsets);
        if (pieces != null) {
          throw new StreamrecException(pieces);
        }
        if (ModelTopicPartitions.grewAroundTheModel(offsets)) {
          // said once a process: run checks the topics before it submits, and the job again
          if (SPARE_WARNED.add(t.name() + "/" + offsets.size())) {
            LOG.warn("{}", ModelTopicPartitions.spare(t.name(), offsets.size()));
          }
        } else if (offsets.size() != TopicSpec.MODEL_UPDATE_PARTITIONS) {
          throw new StreamrecException(
              "topic '"
                  + t.name()
                  + "' at "
                  + bootstrapServers
                  + " has "
                  + offsets.size()
                  + " partitions; it holds the model and needs exactly one (versions are ordered"
                  + " only within a partition, docs/model-updates.md): delete and re-create it, or"
                  + " name another model-updates topic (topics.model-updates, or --topic where a"
                  + " command reads one)");
        }
        checkCompacted(admin, t.name(), TopicSpec.MODEL_UPDATE_PARTITIONS, properties);
      }
    }
    LOG.info(
        "Kafka at {} ({}): topics {} present and served",
        bootstrapServers,
        properties.describe(),
        needed.stream().map(TopicSpec::name).toList());
    return present;
  }

  /**
   * {@link #checkTopics(Admin, String, KafkaClientProperties, List, Map)} where the client does
   * {@code operation} with every topic it needs: a command that reads them all, or writes them all.
   */
  public static void checkTopics(
      Admin admin,
      String bootstrapServers,
      KafkaClientProperties properties,
      List<TopicSpec> needed,
      AclOperation operation) {
    Map<String, Set<AclOperation>> operations = new HashMap<>();
    needed.forEach(t -> operations.put(t.name(), Set.of(operation)));
    checkTopics(admin, bootstrapServers, properties, needed, operations);
  }

  /** The grown model-updates topics warned of in this process, as topic/partitions. */
  private static final Set<String> SPARE_WARNED =
      java.util.concurrent.ConcurrentHashMap.newKeySet();

  /** The end offset of each partition of {@code topic} among {@code ends}, by partition. */
  public static Map<Integer, Long> endOffsets(
      String topic, Map<TopicPartition, ListOffsetsResultInfo> ends) {
    Map<Integer, Long> offsets = new HashMap<>();
    ends.forEach(
        (tp, end) -> {
          if (tp.topic().equals(topic)) {
            offsets.put(tp.partition(), end.offset());
          }
        });
    return offsets;
  }

  /** Whether {@code t} is a model-updates topic: compacted, of one partition by its spec. */
  public static boolean holdsTheModel(TopicSpec t) {
    return t.partitions() == TopicSpec.MODEL_UPDATE_PARTITIONS
        && t.configs().containsValue(TopicConfig.CLEANUP_POLICY_COMPACT);
  }

  /**
   * A model-updates topic that is not compacted loses the model once its retention passes (the
   * command line's topic set-up refused one, a job submitted otherwise took it). A user without the
   * DescribeConfigs ACL is warned that it was not checked.
   */
  private static void checkCompacted(
      Admin admin, String name, int partitions, KafkaClientProperties properties) {
    Config config = settings(admin, name, "whether it is log-compacted, as the model needs,");
    if (config == null) {
      return;
    }
    ConfigEntry policy = config.get(TopicConfig.CLEANUP_POLICY_CONFIG);
    String problem =
        modelUpdatesProblem(
            name, partitions, policy == null || policy.value() == null ? "" : policy.value());
    if (problem != null) {
      throw new StreamrecException(problem);
    }
    refuseSmallerRecords(config, name, properties, MODEL_RECORDS);
    String advice = timestampAdvice(name, config);
    if (advice != null) {
      LOG.warn(advice);
    }
  }

  /** What a record of the model-updates topic over its limit does. */
  static final String MODEL_RECORDS =
      "which bounds the model's records: a larger one would be refused and fail every publish";

  /** What a record of the request-units topic over its limit does. */
  static final String UNIT_RECORDS =
      "which bounds the units written to it: a larger unit would be refused and fail the job at"
          + " each restart, the same unit made again from the same events";

  /**
   * The request-units topic a job writes must take the records its producer sends: its units are
   * kept out of the log only past the producer's {@code max.request.size} (a {@code too_large} dead
   * letter, trained all the same). A user who raised that and not the topic's limit passed every
   * check, and a unit between the two limits failed the job, for ever.
   */
  private static void checkUnitsRecordSize(
      Admin admin, String name, KafkaClientProperties properties) {
    Config config = settings(admin, name, "the size of the records it takes");
    if (config != null) {
      refuseSmallerRecords(config, name, properties, UNIT_RECORDS);
    }
  }

  private static void refuseSmallerRecords(
      Config config, String name, KafkaClientProperties properties, String consequence) {
    ConfigEntry maxMessage = config.get(TopicConfig.MAX_MESSAGE_BYTES_CONFIG);
    String tooSmall =
        maxMessage == null || maxMessage.value() == null
            ? null
            : recordSizeProblem(
                name,
                Long.parseLong(maxMessage.value()),
                properties.asMap().get("max.request.size"),
                consequence);
    if (tooSmall != null) {
      throw new StreamrecException(tooSmall);
    }
  }

  /**
   * Why the topic {@code name}, of {@code maxMessageBytes}, cannot take the records the job may
   * write, with how to fix it; null when it can. Those records are bounded by the producer's {@code
   * max.request.size} ({@code maxRequestSize}, Kafka's 1 MiB when null; the trainer's dense blocks
   * are checked against it before training, the units before they are written): a user who raised
   * only that passed every check, and the broker then refused the larger record (not retried),
   * failing the job, for ever. {@code consequence} says what that bound does on this topic.
   */
  static String recordSizeProblem(
      String name, long maxMessageBytes, String maxRequestSize, String consequence) {
    long limit = io.streamrec.job.sink.KafkaSinks.maxRequestBytes(maxRequestSize);
    if (limit == Long.MAX_VALUE || maxMessageBytes >= limit) {
      // no number: the producer refuses it, by its name
      return null;
    }
    return "topic '"
        + name
        + "' takes records of at most "
        + maxMessageBytes
        + " bytes (max.message.bytes), less than the producer's max.request.size of "
        + limit
        + " bytes, "
        + consequence
        + ". To fix it, raise the topic's limit (kafka-configs.sh --alter --entity-type"
        + " topics --entity-name "
        + name
        + " --add-config max.message.bytes="
        + limit
        + ", and the brokers' replica.fetch.max.bytes with it), or lower"
        + " properties.max.request.size to "
        + maxMessageBytes
        + ".";
  }

  /**
   * What to do when records of {@code name} timestamped from {@code oldestMs} on are older than the
   * topic keeps records: the broker counts a record's retention from its timestamp, so history sent
   * to a topic of a week's retention is deleted within minutes, before any job reads it. Null when
   * the topic keeps them (or its settings cannot be read).
   */
  public static String retentionAdvice(Admin admin, String name, long oldestMs, long nowMs) {
    Config config = settings(admin, name, "whether it keeps the events sent");
    if (config == null) {
      return null;
    }
    ConfigEntry type = config.get(TopicConfig.MESSAGE_TIMESTAMP_TYPE_CONFIG);
    ConfigEntry retention = config.get(TopicConfig.RETENTION_MS_CONFIG);
    if (type != null && "LogAppendTime".equals(type.value()) || retention == null) {
      return null;
    }
    long keepMs;
    try {
      keepMs = Long.parseLong(retention.value());
    } catch (NumberFormatException e) {
      return null;
    }
    if (keepMs < 0 || oldestMs >= nowMs - keepMs) {
      return null;
    }
    return String.format(
        java.util.Locale.ROOT,
        "topic '%s' keeps records for %.1f days (retention.ms %d) counted from their timestamp, and"
            + " the events sent to it reach back to %s: the broker deletes those older than that"
            + " within minutes (at its next retention check), before a job reads them. For"
            + " history, give the topic retention.ms=-1 or a retention longer than the data's age"
            + " (kafka-configs.sh --alter --entity-type topics --entity-name %s --add-config"
            + " retention.ms=-1) and produce them again",
        name,
        keepMs / 86_400_000.0,
        keepMs,
        java.time.Instant.ofEpochMilli(oldestMs),
        name);
  }

  /**
   * Topic {@code name}'s settings; null, with a warning that {@code unchecked} is not checked,
   * where the DescribeConfigs ACL is missing.
   */
  private static Config settings(Admin admin, String name, String unchecked) {
    return settings(admin, new ConfigResource(ConfigResource.Type.TOPIC, name), unchecked);
  }

  /**
   * The settings of {@code resource} (a topic, a broker); null, with a warning that {@code
   * unchecked} is not checked, where the DescribeConfigs ACL is missing.
   */
  private static Config settings(Admin admin, ConfigResource resource, String unchecked) {
    String what =
        (resource.type() == ConfigResource.Type.TOPIC ? "topic '" : "broker '")
            + resource.name()
            + "'";
    try {
      return admin
          .describeConfigs(List.of(resource))
          .all()
          .get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
          .get(resource);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof AuthorizationException) {
        LOG.warn(
            "cannot read the settings of {} (no DescribeConfigs ACL): {} is not checked",
            what,
            unchecked);
        return null;
      }
      throw new StreamrecException(
          "cannot read the settings of " + what + ": " + e.getCause(), e.getCause());
    } catch (java.util.concurrent.TimeoutException e) {
      throw new StreamrecException(
          "cannot read the settings of " + what + ": no answer in " + TIMEOUT, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StreamrecException("interrupted while checking the Kafka topics", e);
    }
  }

  /**
   * Why a model-updates topic of these partitions and cleanup.policy cannot carry the model, with
   * how to fix it; null when it can.
   */
  public static String modelUpdatesProblem(String name, int partitions, String cleanupPolicy) {
    Set<String> policies =
        Arrays.stream(cleanupPolicy.split(","))
            .map(String::trim)
            .filter(p -> !p.isEmpty())
            .collect(Collectors.toSet());
    boolean compactedOnly = policies.equals(Set.of(TopicConfig.CLEANUP_POLICY_COMPACT));
    boolean onePartition = partitions == TopicSpec.MODEL_UPDATE_PARTITIONS;
    if (compactedOnly && onePartition) {
      return null;
    }
    String found =
        "cleanup.policy="
            + (cleanupPolicy.isEmpty() ? "(none)" : cleanupPolicy)
            + " and "
            + partitions
            + (partitions == 1 ? " partition" : " partitions");
    String fix;
    if (onePartition) {
      fix =
          "make it compacted only: kafka-configs.sh --bootstrap-server <broker> --alter --entity-type"
              + " topics --entity-name "
              + name
              + " --add-config cleanup.policy=compact";
    } else {
      fix =
          "partitions cannot be removed, so delete it (kafka-topics.sh --bootstrap-server <broker>"
              + " --delete --topic "
              + name
              + ") and let streamrec create it again, or configure another model-updates topic name";
    }
    return "topic '"
        + name
        + "' holds the model and must be log-compacted (cleanup.policy=compact, without delete)"
        + " with exactly one partition, but it has "
        + found
        + ". To fix it, "
        + fix
        + ".";
  }

  /**
   * Advice on a model-updates topic that keeps the producer's timestamps (it works, but compaction
   * counts from the versions' event times); null when it is stamped by the broker.
   */
  public static String timestampAdvice(String name, Config config) {
    ConfigEntry stamps = config.get(TopicConfig.MESSAGE_TIMESTAMP_TYPE_CONFIG);
    if (stamps != null && TopicSpec.MODEL_UPDATES_TIMESTAMP_TYPE.equals(stamps.value())) {
      return null;
    }
    return "topic '"
        + name
        + "' keeps the producer's timestamps ("
        + TopicConfig.MESSAGE_TIMESTAMP_TYPE_CONFIG
        + "="
        + (stamps == null ? "?" : stamps.value())
        + "): the trainer's are its versions' event times, so in a backfill its compaction lag"
        + " and segment time count from months back (docs/model-updates.md, section 1). Set it"
        + " with: kafka-configs.sh --alter --entity-type topics --entity-name "
        + name
        + " --add-config "
        + TopicConfig.MESSAGE_TIMESTAMP_TYPE_CONFIG
        + "="
        + TopicSpec.MODEL_UPDATES_TIMESTAMP_TYPE;
  }

  /**
   * A request for the end offset of every partition of {@code topics}. A broker names itself the
   * leader of a new partition in its metadata a moment before it serves it, and only a serving
   * leader answers this (the admin client retries until then), so a topic is safe to write once it
   * is answered: an idempotent producer writing in that moment can have its first batch refused and
   * its second taken, and the first is then out of sequence for good.
   */
  public static Map<TopicPartition, OffsetSpec> endOffsetsOf(Map<String, TopicDescription> topics) {
    Map<TopicPartition, OffsetSpec> partitions = new HashMap<>();
    topics.forEach(
        (name, d) ->
            d.partitions()
                .forEach(
                    p ->
                        partitions.put(
                            new TopicPartition(name, p.partition()), OffsetSpec.latest())));
    return partitions;
  }

  /**
   * What went wrong reaching Kafka, in words: a refused login or operation names the client (no
   * secret) and the settings to check; no answer names the address.
   */
  public static KafkaAccessException access(
      Throwable error, String bootstrapServers, KafkaClientProperties properties, String what) {
    for (Throwable t = error; t != null; t = t.getCause()) {
      if (t instanceof SslAuthenticationException) {
        return new KafkaAccessException(properties.tlsRefusal(bootstrapServers, t), error);
      }
      if (t instanceof AuthenticationException) {
        return new KafkaAccessException(
            properties.refusal(bootstrapServers, false, t.getMessage()), error);
      }
      if (t instanceof AuthorizationException) {
        return new KafkaAccessException(
            properties.refusal(bootstrapServers, true, t.getMessage()), error);
      }
    }
    if (error instanceof java.util.concurrent.TimeoutException
        || error instanceof org.apache.kafka.common.errors.TimeoutException) {
      return new KafkaUnreachableException(
          "Kafka at "
              + bootstrapServers
              + " did not answer within "
              + TIMEOUT.toSeconds()
              + " s ("
              + what
              + ", as "
              + properties.describe()
              + "): is the address right, the broker up, and security.protocol the listener's?",
          error);
    }
    return new KafkaAccessException(
        "cannot " + what + " at " + bootstrapServers + ": " + error, error);
  }

  /** How many brokers the cluster has; 1 when it does not say in time. */
  private static int brokers(Admin admin) {
    try {
      return admin.describeCluster().nodes().get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS).size();
    } catch (ExecutionException | java.util.concurrent.TimeoutException | RuntimeException e) {
      return 1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StreamrecException("interrupted while checking the Kafka brokers", e);
    }
  }

  private static MissingTopicsException missing(
      List<TopicSpec> missing, String bootstrapServers, boolean secured, int brokers) {
    StringBuilder b = new StringBuilder();
    b.append(
            missing.size() == 1
                ? "a topic streamrec needs does not exist"
                : "topics streamrec needs do not exist")
        .append(" at ")
        .append(bootstrapServers)
        .append(':');
    for (TopicSpec t : missing) {
      b.append("\n  '")
          .append(t.name())
          .append("', ")
          .append(t.role())
          .append(". Create it with\n    ")
          .append(
              t.createCommand(bootstrapServers, secured, TopicSpec.replicationFactorFor(brokers)));
    }
    b.append("\nor all of them with\n    streamrec topics --bootstrap-servers ")
        .append(bootstrapServers)
        .append(secured ? " --command-config client.properties" : "")
        .append(" [the same -D topics.* as this command]");
    b.append(
        "\nor with k8s/kafka-topics.yaml (Strimzi),"
            + " k8s/without-strimzi/topics-job.yaml or docker compose's topics service"
            + " ('streamrec broker' makes them on its own broker); the topics.* keys name other"
            + " topics.");
    return new MissingTopicsException(missing.stream().map(TopicSpec::name).toList(), b.toString());
  }
}
