package io.streamrec.job.kafka;

import io.streamrec.job.config.TopicsConfig;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One of streamrec's topics as it must be created: its name, partitions and topic settings, and
 * what the job does with it. The one home of these settings: the command line's topic creation, the
 * job's start-up check and its "how to create it" messages all read them here.
 *
 * <ul>
 *   <li><b>requests</b>, <b>impressions</b>, <b>request-units</b>: the input partitions, delete
 *       policy. Both event topics are keyed by request id, so while their partition counts match a
 *       request and its impressions land in partitions of the same number.
 *   <li><b>dead-letters</b>: one partition (small, and in arrival order for whoever reads it).
 *   <li><b>model-updates</b>: log-compacted, so the latest value per key is the model, with exactly
 *       one partition, since a version marker closes the deltas before it only within a partition
 *       (docs/model-updates.md).
 * </ul>
 *
 * @param name the topic's name
 * @param partitions partitions to create it with
 * @param configs topic settings to create it with, in a stable order
 * @param role what streamrec keeps there, for messages
 */
public record TopicSpec(String name, int partitions, Map<String, String> configs, String role) {
  /** Low volume; one partition keeps dead letters in arrival order. */
  public static final int DEAD_LETTER_PARTITIONS = 1;

  /** Versions are ordered only within one partition; see the class comment. */
  public static final int MODEL_UPDATE_PARTITIONS = 1;

  /**
   * A record this young is never compacted away, so a replica tailing within this lag sees every
   * delta and marker of each publish; small, because superseded rows wait this long to go.
   */
  public static final long MODEL_UPDATES_MIN_COMPACTION_LAG_MS = 10_000;

  /**
   * Compaction never touches the active segment; rolling it every five minutes bounds how long
   * superseded rows are kept, without a flood of tiny segment files.
   */
  public static final long MODEL_UPDATES_SEGMENT_MS = 300_000;

  /**
   * The broker stamps each record of the model-updates topic with the time it was written. The
   * trainer's records carry their versions' event times, which in a backfill or a catch-up lie
   * hours or months back: by those, every record would be older than the compaction lag at once,
   * and a segment would roll for every five minutes of event time (thousands in a month's
   * backfill). The compaction lag and the segment time are meant in the broker's time.
   */
  public static final String MODEL_UPDATES_TIMESTAMP_TYPE = "LogAppendTime";

  public TopicSpec {
    configs = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(configs));
  }

  /** Every topic of {@code topics}, in {@link TopicsConfig#all()} order. */
  public static List<TopicSpec> all(TopicsConfig topics) {
    Map<String, String> delete = Map.of("cleanup.policy", "delete");
    Map<String, String> compacted = new LinkedHashMap<>();
    compacted.put("cleanup.policy", "compact");
    compacted.put("min.compaction.lag.ms", Long.toString(MODEL_UPDATES_MIN_COMPACTION_LAG_MS));
    compacted.put("segment.ms", Long.toString(MODEL_UPDATES_SEGMENT_MS));
    compacted.put("message.timestamp.type", MODEL_UPDATES_TIMESTAMP_TYPE);
    int inputs = topics.inputPartitions();
    return List.of(
        new TopicSpec(topics.requests(), inputs, delete, "the requests it trains on"),
        new TopicSpec(topics.impressions(), inputs, delete, "the impressions it trains on"),
        new TopicSpec(
            topics.deadLetters(),
            DEAD_LETTER_PARTITIONS,
            delete,
            "where it sends the records it cannot use"),
        new TopicSpec(
            topics.modelUpdates(),
            MODEL_UPDATE_PARTITIONS,
            compacted,
            "where it publishes the model (compacted, one partition)"),
        new TopicSpec(topics.requestUnits(), inputs, delete, "the assembled training units"));
  }

  /** The same topic under another name (e.g. a backfill's model-updates). */
  public TopicSpec named(String otherName) {
    return new TopicSpec(otherName, partitions, configs, role);
  }

  /** The spec of a model-updates topic named {@code name}. */
  public static TopicSpec modelUpdates(String name) {
    return ofDefault(TopicsConfig.defaults().modelUpdates(), name);
  }

  /** The spec of a dead-letter topic named {@code name}. */
  public static TopicSpec deadLetters(String name) {
    return ofDefault(TopicsConfig.defaults().deadLetters(), name);
  }

  /** The spec of the default topic named {@code defaultName}, under {@code name}. */
  private static TopicSpec ofDefault(String defaultName, String name) {
    return all(TopicsConfig.defaults()).stream()
        .filter(t -> t.name().equals(defaultName))
        .findFirst()
        .orElseThrow()
        .named(name);
  }

  /**
   * Replicas to give a topic on a cluster of {@code brokers}: three where there are as many, as on
   * a production cluster, otherwise one a broker. Left to the cluster, a topic gets its {@code
   * default.replication.factor}, which Kafka leaves at 1.
   */
  public static int replicationFactorFor(int brokers) {
    return Math.max(1, Math.min(PRODUCTION_REPLICATION_FACTOR, brokers));
  }

  /** The replicas of every topic in k8s/kafka-topics.yaml, as a production cluster needs. */
  public static final int PRODUCTION_REPLICATION_FACTOR = 3;

  /**
   * The {@code kafka-topics.sh} command that creates this topic at {@code bootstrapServers} with
   * {@code replicationFactor} replicas.
   */
  public String createCommand(
      String bootstrapServers, boolean withCommandConfig, int replicationFactor) {
    StringBuilder b =
        new StringBuilder("kafka-topics.sh --bootstrap-server ").append(bootstrapServers);
    if (withCommandConfig) {
      b.append(" --command-config client.properties");
    }
    b.append(" --create --topic ").append(name).append(" --partitions ").append(partitions);
    b.append(" --replication-factor ").append(replicationFactor);
    configs.forEach((k, v) -> b.append(" --config ").append(k).append('=').append(v));
    return b.toString();
  }
}
