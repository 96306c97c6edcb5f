package io.streamrec.cli.kafka;

import io.streamrec.common.StreamrecException;
import io.streamrec.job.config.TopicsConfig;
import io.streamrec.job.kafka.KafkaPreflight;
import io.streamrec.job.kafka.TopicSpec;
import io.streamrec.protocol.ModelTopicPartitions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.CreateTopicsResult;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Creates the topics streamrec needs, if missing, with the settings each one's role demands, and
 * checks the one topic whose settings decide correctness.
 *
 * <ul>
 *   <li><b>requests</b>, <b>impressions</b>: {@link TopicsConfig#inputPartitions()} partitions,
 *       delete policy. Both are keyed by request id, so while their partition counts match (as
 *       created here) a request and its impressions land in partitions of the same number.
 *   <li><b>request-units</b>: the same partitioning, delete policy, the cluster's default
 *       retention.
 *   <li><b>dead-letters</b>: one partition (it is small, and one partition keeps it in arrival
 *       order for whoever reads it), delete policy.
 *   <li><b>model-updates</b>: log-compacted, so that the latest value per key <i>is</i> the model
 *       and a new replica bootstraps by reading from the beginning. Exactly <b>one partition</b>:
 *       Kafka orders records only within a partition, and a publish is a run of row deltas closed
 *       by a version marker. Spread over partitions, a replica could read a marker before deltas it
 *       closes that sit in another partition, and could not tell which rows belong to which
 *       version. With one partition, the model as of version v is everything up to v's marker
 *       offset.
 * </ul>
 *
 * <p>{@link #ensure} is idempotent and safe to race with another caller: a topic that appears
 * between the listing and the creation counts as found. It never alters a topic that exists; a
 * model-updates topic that is not compacted, or has more than one partition, is an error that says
 * how to fix it, since the job would silently lose model rows or order on it.
 */
public final class Topics {
  private static final Logger LOG = LoggerFactory.getLogger(Topics.class);

  /** Long enough for a broker that just started; short enough that a wrong address fails soon. */
  static final Duration ADMIN_TIMEOUT = Duration.ofSeconds(30);

  /**
   * A topic created elsewhere may take a moment to reach the broker we ask; ask again after this.
   */
  private static final long METADATA_RETRY_MS = 100;

  /** Versions are ordered only within one partition; see {@link TopicSpec}. */
  static final int MODEL_UPDATE_PARTITIONS = TopicSpec.MODEL_UPDATE_PARTITIONS;

  /**
   * What {@link #ensure} did, topic names in {@link TopicsConfig#all()} order, and advice on the
   * settings of topics that were there already (each a line to show the user).
   */
  public record EnsureResult(List<String> created, List<String> existing, List<String> advice) {
    public EnsureResult {
      created = List.copyOf(created);
      existing = List.copyOf(existing);
      advice = List.copyOf(advice);
    }
  }

  private Topics() {}

  /**
   * Creates each missing topic of {@code cfg} with its settings and checks an existing
   * model-updates topic. Existing topics are left as they are. Returns once every topic it created
   * is visible, with a leader for each partition.
   *
   * @throws TopicConfigException if model-updates exists but is not compacted or has more than one
   *     partition, or if a topic cannot be created or checked
   */
  public static EnsureResult ensure(Admin admin, TopicsConfig cfg) {
    return ensure(admin, cfg, Optional.empty());
  }

  /**
   * As {@link #ensure(Admin, TopicsConfig)}, creating each missing topic with {@code
   * replicationFactor} replicas, or the cluster's {@code default.replication.factor} when empty.
   */
  public static EnsureResult ensure(
      Admin admin, TopicsConfig cfg, Optional<Short> replicationFactor) {
    Set<String> present = await(admin.listTopics().names(), "list the topics");
    List<String> created = new ArrayList<>();
    List<String> existing = new ArrayList<>();
    List<NewTopic> missing = new ArrayList<>();
    for (NewTopic spec : specs(cfg, replicationFactor)) {
      if (present.contains(spec.name())) {
        existing.add(spec.name());
      } else {
        missing.add(spec);
      }
    }
    if (!missing.isEmpty()) {
      CreateTopicsResult result = admin.createTopics(missing);
      for (NewTopic spec : missing) {
        try {
          await(result.values().get(spec.name()), "create topic '" + spec.name() + "'");
          created.add(spec.name());
        } catch (TopicConfigException e) {
          if (!(e.getCause() instanceof TopicExistsException)) {
            throw e;
          }
          existing.add(spec.name());
        }
      }
    }
    if (!created.isEmpty()) {
      awaitServed(admin, created);
    }
    List<String> advice = new ArrayList<>();
    if (existing.contains(cfg.modelUpdates())) {
      advice.addAll(checkModelUpdates(admin, cfg.modelUpdates()));
    }
    advice.addAll(fewerPartitions(admin, cfg, existing));
    EnsureResult outcome = new EnsureResult(inOrder(cfg, created), inOrder(cfg, existing), advice);
    advice.forEach(LOG::warn);
    LOG.info("Kafka topics: created {}, found {}", outcome.created(), outcome.existing());
    return outcome;
  }

  /**
   * Advice on each existing topic of more than one partition in its spec that has fewer than the
   * spec asks ({@code --partitions}, or the assembler's parallelism): its readers beyond them stay
   * idle, and {@link #ensure} leaves existing topics as they are, so the user adds them.
   */
  private static List<String> fewerPartitions(
      Admin admin, TopicsConfig cfg, List<String> existing) {
    List<TopicSpec> specs =
        TopicSpec.all(cfg).stream()
            .filter(t -> t.partitions() > 1 && existing.contains(t.name()))
            .toList();
    if (specs.isEmpty()) {
      return List.of();
    }
    Map<String, TopicDescription> described =
        describeWhenVisible(admin, specs.stream().map(TopicSpec::name).toList());
    List<String> advice = new ArrayList<>();
    for (TopicSpec t : specs) {
      int has = described.get(t.name()).partitions().size();
      if (has < t.partitions()) {
        advice.add(
            String.format(
                Locale.ROOT,
                "topic '%s' has %d partition(s), fewer than the %d asked (--partitions, or"
                    + " assembler.parallelism when more): readers beyond %d stay idle. Add them"
                    + " with kafka-topics.sh --alter --topic %s --partitions %d (%s)",
                t.name(),
                has,
                t.partitions(),
                has,
                t.name(),
                t.partitions(),
                t.name().equals(cfg.requestUnits())
                    ? "a running job writes to them once its producer sees them, and a backfill"
                        + " of the units log reads them"
                    : "a running job reads them within 5 s"));
      }
    }
    return advice;
  }

  /**
   * What {@link #ensure} creates ({@link TopicSpec#all}), in {@link TopicsConfig#all()} order, with
   * {@code replicationFactor} replicas or, when empty, the cluster's default.
   */
  static List<NewTopic> specs(TopicsConfig cfg, Optional<Short> replicationFactor) {
    return TopicSpec.all(cfg).stream()
        .map(
            t ->
                new NewTopic(t.name(), Optional.of(t.partitions()), replicationFactor)
                    .configs(t.configs()))
        .toList();
  }

  /**
   * Refuses a model-updates topic that cannot carry the model; advises on one that can but grew
   * partitions around it, or keeps the producer's timestamps.
   */
  private static List<String> checkModelUpdates(Admin admin, String name) {
    TopicDescription description = describeWhenVisible(admin, List.of(name)).get(name);
    ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, name);
    Config config =
        await(
                admin.describeConfigs(List.of(resource)).all(),
                "read the configs of topic '" + name + "'")
            .get(resource);
    Map<Integer, Long> ends =
        KafkaPreflight.endOffsets(
            name,
            await(
                admin.listOffsets(KafkaPreflight.endOffsetsOf(Map.of(name, description))).all(),
                "read the end offsets of topic '" + name + "'"));
    String pieces = ModelTopicPartitions.inPieces(name, ends);
    if (pieces != null) {
      throw new TopicConfigException(pieces);
    }
    boolean grown = ModelTopicPartitions.grewAroundTheModel(ends);
    checkModelUpdates(
        name,
        grown ? TopicSpec.MODEL_UPDATE_PARTITIONS : description.partitions().size(),
        cleanupPolicy(config));
    List<String> advice = new ArrayList<>();
    if (grown) {
      advice.add(ModelTopicPartitions.spare(name, ends.size()));
    }
    Optional.ofNullable(KafkaPreflight.timestampAdvice(name, config)).ifPresent(advice::add);
    return advice;
  }

  /**
   * Returns once the broker knows topics just created and the leader of each of their partitions
   * serves it ({@link KafkaPreflight#endOffsetsOf}: why a topic created a moment before is written
   * only then).
   *
   * @throws TopicConfigException when a partition is not served within {@link #ADMIN_TIMEOUT}
   */
  public static void awaitServed(Admin admin, List<String> names) {
    awaitWritable(admin, describeWhenVisible(admin, names));
  }

  private static void awaitWritable(Admin admin, Map<String, TopicDescription> topics) {
    await(
        admin.listOffsets(KafkaPreflight.endOffsetsOf(topics)).all(),
        "read the end offsets of topics " + topics.keySet());
  }

  /**
   * Describes topics once the broker knows them and every partition has a leader. A topic the
   * controller has just created reaches the broker's metadata a moment later; waiting here means a
   * client started right after {@link #ensure} finds its topics.
   */
  private static Map<String, TopicDescription> describeWhenVisible(
      Admin admin, List<String> names) {
    long deadline = System.nanoTime() + ADMIN_TIMEOUT.toNanos();
    while (true) {
      try {
        Map<String, TopicDescription> described =
            await(admin.describeTopics(names).allTopicNames(), "describe topics " + names);
        boolean ready =
            described.values().stream()
                .allMatch(
                    d ->
                        !d.partitions().isEmpty()
                            && d.partitions().stream().allMatch(p -> p.leader() != null));
        if (ready) {
          return described;
        }
        if (System.nanoTime() > deadline) {
          throw new TopicConfigException(
              "topics "
                  + names
                  + " have partitions without a leader after "
                  + ADMIN_TIMEOUT.toSeconds()
                  + " s");
        }
      } catch (TopicConfigException e) {
        if (!(e.getCause() instanceof UnknownTopicOrPartitionException)
            || System.nanoTime() > deadline) {
          throw e;
        }
      }
      sleep(METADATA_RETRY_MS);
    }
  }

  /** The check itself, apart from reading the topic. */
  static void checkModelUpdates(String name, int partitions, String cleanupPolicy) {
    String problem = KafkaPreflight.modelUpdatesProblem(name, partitions, cleanupPolicy);
    if (problem != null) {
      throw new TopicConfigException(problem);
    }
  }

  private static String cleanupPolicy(Config config) {
    ConfigEntry entry = config.get(TopicConfig.CLEANUP_POLICY_CONFIG);
    return entry == null || entry.value() == null ? "" : entry.value();
  }

  private static List<String> inOrder(TopicsConfig cfg, List<String> names) {
    return cfg.all().stream().filter(names::contains).toList();
  }

  private static <T> T await(KafkaFuture<T> future, String what) {
    try {
      return future.get(ADMIN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause() == null ? e : e.getCause();
      throw new TopicConfigException("cannot " + what + ": " + cause, cause);
    } catch (TimeoutException e) {
      throw new TopicConfigException(
          "cannot "
              + what
              + ": Kafka did not answer within "
              + ADMIN_TIMEOUT.toSeconds()
              + " s (is bootstrap.servers right and the broker up?)",
          e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StreamrecException("interrupted while waiting to " + what, e);
    }
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StreamrecException("interrupted while waiting for topic metadata", e);
    }
  }
}
