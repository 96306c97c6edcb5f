package io.streamrec.serving;

import io.streamrec.common.KafkaClientProperties;
import io.streamrec.common.StreamrecException;
import io.streamrec.model.ModelConfig;
import io.streamrec.model.ModelConfigJson;
import io.streamrec.model.RequestUnits;
import io.streamrec.protocol.ModelUpdate;
import io.streamrec.protocol.ModelUpdateDecoder;
import io.streamrec.schemas.ImpressionEvent;
import io.streamrec.schemas.RequestEvent;
import io.streamrec.schemas.RequestUnit;
import io.streamrec.schemas.VersionMarker;
import io.streamrec.serving.internal.FreshnessSamples;
import io.streamrec.serving.internal.ModelSwap;
import io.streamrec.serving.internal.PendingVersion;
import io.streamrec.serving.internal.ReplicaModel;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.OptionalLong;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A serving replica of the model, built from the model-updates topic alone, following the protocol
 * in docs/model-updates.md: it reads the topic from its earliest offset (the compacted topic's
 * latest value per key is the model), then tails it, and scores requests with the model it holds.
 *
 * <p><b>Whole versions only.</b> Rows, tombstones and dense blocks are held back as pending until
 * the version marker that closes them arrives; the marker then applies them under a write lock, and
 * scoring holds the read lock, so a score never mixes two versions and never sees half a publish.
 *
 * <p><b>Bootstrap and re-read.</b> A read from the earliest offset builds a fresh model that
 * readers do not see; it becomes the served model, in one swap, once the read has reached the end
 * offset the topic had when the read began and has applied a marker. During such a read the
 * versions need not follow one by one (compaction removed older markers; a restarted trainer's
 * repeats are history). While tailing, a marker that is not the next version is a <i>gap</i> or a
 * <i>duplicate</i>: it is counted, logged, and recovered by re-reading the topic from its earliest
 * offset into a fresh model while the current one keeps serving. The replica never guesses what a
 * missing version changed. A re-read holds a second copy of the model for its duration.
 *
 * <p>The topic's {@code spec} record tells the replica the model's features and tables; ids it has
 * no row for score with their initial values, as the trainer scores ids it has not admitted.
 *
 * <p>The consumer reads with {@code isolation.level=read_committed}, so the records of an aborted
 * transaction (an exactly-once trainer that failed mid-checkpoint) are never seen.
 *
 * <p>This class is the tail: the poll thread, the version order and the figures. Records are
 * decoded by the protocol's {@link ModelUpdateDecoder}, a version is built in a {@link
 * PendingVersion} and applied to a {@link ReplicaModel}, and {@link ModelSwap} decides which model
 * readers see.
 */
public final class ModelReplica implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ModelReplica.class);

  /** How long one poll waits for records: short, so close() and lag stay responsive. */
  private static final Duration POLL = Duration.ofMillis(100);

  /** How long to wait for the topic to appear before failing. */
  private static final long TOPIC_WAIT_MS = 30_000;

  /** Freshness samples kept for the percentiles: the newest this many versions. */
  private static final int FRESHNESS_SAMPLES = 4096;

  /** What the replica is doing. */
  public enum State {
    /** Reading the topic for the first time; nothing is served yet. */
    BOOTSTRAPPING,
    /** Tailing the topic; the served model follows it version by version. */
    SERVING,
    /** Re-reading the topic after a gap or duplicate; the previous model is served meanwhile. */
    REREADING,
    /** Stopped by an error ({@link #failure()}). */
    FAILED
  }

  private final String topic;
  private final KafkaConsumer<byte[], byte[]> consumer;
  private final Thread thread;
  private final ModelSwap models = new ModelSwap();

  /** The records of the version in flight; poll thread only. */
  private final PendingVersion pending = new PendingVersion();

  /** End offset of the topic when the current read from the earliest offset began. */
  private long readEnd;

  private volatile State state = State.BOOTSTRAPPING;
  private volatile long versionsApplied;
  private volatile long gaps;
  private volatile long duplicates;
  private volatile long rereads;
  private volatile long badRecords;
  private volatile long recordsRead;
  private volatile long lag = -1;
  private volatile Throwable failure;
  private volatile boolean running = true;
  private final FreshnessSamples freshness = new FreshnessSamples(FRESHNESS_SAMPLES);

  private ModelReplica(
      String bootstrapServers, KafkaClientProperties client, String topic, String clientId) {
    this.topic = topic;
    this.consumer =
        new KafkaConsumer<>(ModelUpdateConsumers.properties(bootstrapServers, client, clientId));
    this.thread = new Thread(this::loop, "model-replica-" + topic);
    this.thread.setDaemon(true);
  }

  /** Starts a replica of {@code topic}: bootstraps from its earliest offset, then tails it. */
  public static ModelReplica start(String bootstrapServers, String topic) {
    return start(bootstrapServers, KafkaClientProperties.empty(), topic);
  }

  /**
   * Starts a replica of {@code topic} whose consumer has the user's client settings ({@code
   * client}: TLS, SASL): bootstraps from its earliest offset, then tails it.
   */
  public static ModelReplica start(
      String bootstrapServers, KafkaClientProperties client, String topic) {
    ModelReplica r = new ModelReplica(bootstrapServers, client, topic, "streamrec-replica");
    r.thread.start();
    return r;
  }

  // ---- the poll thread

  private void loop() {
    try {
      TopicPartition part = partition();
      if (part == null) {
        return;
      }
      consumer.assign(List.of(part));
      readFromEarliest(part);
      while (running) {
        ConsumerRecords<byte[], byte[]> batch = consumer.poll(POLL);
        for (ConsumerRecord<byte[], byte[]> r : batch) {
          recordsRead++;
          if (!handle(r)) {
            readFromEarliest(part); // the rest of this batch is from before the seek
            break;
          }
        }
        if (models.rebuilding()
            && models.building().version() > 0
            && consumer.position(part) >= readEnd) {
          swapIn();
        }
        updateLag(part);
      }
    } catch (WakeupException e) {
      // closing
    } catch (RuntimeException e) {
      failure = e;
      state = State.FAILED;
      LOG.error("model replica of '{}' stopped: {}", topic, e.toString(), e);
    } finally {
      consumer.close();
    }
  }

  private TopicPartition partition() {
    long deadline = System.currentTimeMillis() + TOPIC_WAIT_MS;
    while (running) {
      List<PartitionInfo> info = consumer.partitionsFor(topic);
      if (info != null && info.size() > 1) {
        throw new StreamrecException(
            "topic '"
                + topic
                + "' has "
                + info.size()
                + " partitions; the model-update "
                + "protocol needs exactly 1 (versions are ordered only within a partition, see docs/model-updates.md)");
      }
      if (info != null && info.size() == 1) {
        return new TopicPartition(topic, info.get(0).partition());
      }
      if (System.currentTimeMillis() > deadline) {
        throw new StreamrecException("topic '" + topic + "' does not exist");
      }
      sleep(200);
    }
    return null;
  }

  /** Starts a read from the earliest offset into a fresh model; the served model stays as it is. */
  private void readFromEarliest(TopicPartition part) {
    consumer.seekToBeginning(List.of(part));
    readEnd = consumer.endOffsets(List.of(part)).get(part);
    models.rebuild();
    pending.clear();
    if (models.visible() != null) {
      state = State.REREADING;
    }
    LOG.info("model replica of '{}': reading from the earliest offset to {}", topic, readEnd);
  }

  private void swapIn() {
    models.swapIn();
    state = State.SERVING;
    ReplicaModel m = models.visible();
    LOG.info(
        "model replica of '{}': serving version {} ({} rows)", topic, m.version(), m.rowCount());
  }

  private void updateLag(TopicPartition part) {
    OptionalLong l = consumer.currentLag(part);
    lag =
        l.isPresent()
            ? l.getAsLong()
            : Math.max(0, consumer.endOffsets(List.of(part)).get(part) - consumer.position(part));
  }

  /**
   * Handles one record; false when it showed a gap or a duplicate and the topic must be read again.
   */
  private boolean handle(ConsumerRecord<byte[], byte[]> r) {
    ModelUpdate u;
    try {
      u = ModelUpdateDecoder.decode(r.key(), r.value());
      if (u instanceof ModelUpdate.Spec spec) {
        ModelConfig c = ModelConfigJson.fromJson(spec.json());
        models.write(m -> m.setConfig(c));
        return true;
      }
    } catch (StreamrecException e) {
      badRecords++;
      LOG.warn("model-updates offset {}: {}, skipped", r.offset(), e.getMessage());
      return true;
    }
    if (!pending.addEntry(u) && u instanceof ModelUpdate.Version v) {
      return marker(v.marker(), r.offset());
    }
    return true;
  }

  private boolean marker(VersionMarker m, long offset) {
    long v = m.getVersion();
    long held = models.building().version();
    if (!models.rebuilding() && v != held + 1) {
      if (v <= held) {
        duplicates++;
        LOG.warn(
            "model-updates offset {}: version {} after version {} (a repeat, e.g. a restarted at-least-once "
                + "trainer); re-reading the topic from the earliest offset",
            offset,
            v,
            held);
      } else {
        gaps++;
        LOG.warn(
            "model-updates offset {}: version {} after version {} (versions {}..{} are missing, e.g. compacted "
                + "while this replica lagged); re-reading the topic from the earliest offset",
            offset,
            v,
            held,
            held + 1,
            v - 1);
      }
      rereads++;
      return false;
    }
    int[] refused = new int[1];
    models.write(model -> refused[0] = pending.applyTo(model, m));
    if (refused[0] > 0) {
      badRecords += refused[0];
      LOG.warn(
          "model-updates version {}: {} row(s) whose width differs from their table's, skipped",
          v,
          refused[0]);
    }
    versionsApplied++;
    if (offset >= readEnd) {
      freshness.add(System.currentTimeMillis() - m.getEventTimeMs());
    }
    return true;
  }

  // ---- readers

  /**
   * Click probabilities of {@code impressions} in answer to {@code request}, by the newest whole
   * version. Fails with {@link IllegalStateException} before the replica serves a model.
   */
  public float[] score(RequestEvent request, List<ImpressionEvent> impressions) {
    return score(List.of(RequestUnits.of(request, impressions, request.getTimestampMs())));
  }

  /** Click probabilities of every impression of {@code units}, in order. */
  public float[] score(List<RequestUnit> units) {
    return scoreVersioned(units).scores();
  }

  /** Scores and the version that gave them. */
  public record Scored(long version, float[] scores) {}

  /** As {@link #score(RequestEvent, List)}, with the version that scored. */
  public Scored scoreVersioned(RequestEvent request, List<ImpressionEvent> impressions) {
    return scoreVersioned(List.of(RequestUnits.of(request, impressions, request.getTimestampMs())));
  }

  /** As {@link #score(List)}, with the version that scored. */
  public Scored scoreVersioned(List<RequestUnit> units) {
    return models.read(
        m -> {
          if (m == null || !m.canScore()) {
            throw new IllegalStateException(
                "the replica of '" + topic + "' serves no model yet (" + describeState() + ")");
          }
          return new Scored(m.version(), m.score(units));
        });
  }

  private String describeState() {
    ReplicaModel b = models.building();
    return failure != null
        ? "failed: " + failure.getMessage()
        : state.name().toLowerCase(Locale.ROOT)
            + (models.visible() == null && b != null && b.config() == null
                ? ", no model spec read yet"
                : "");
  }

  /** Blocks until the replica serves version {@code v} or later; false on timeout. */
  public boolean awaitVersion(long v, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (version() < v) {
      if (failure != null) {
        throw new StreamrecException("the replica of '" + topic + "' failed", failure);
      }
      if (System.nanoTime() > deadline) {
        return false;
      }
      Thread.sleep(5);
    }
    return true;
  }

  /** True once the replica serves a model (it has bootstrapped and holds a version). */
  public boolean ready() {
    ReplicaModel m = models.visible();
    return m != null && m.canScore() && failure == null;
  }

  public State state() {
    return state;
  }

  /** The error that stopped the replica, or null. */
  public Throwable failure() {
    return failure;
  }

  /** The version served; 0 before the first. */
  public long version() {
    ReplicaModel m = models.visible();
    return m == null ? 0 : m.version();
  }

  /** The marker of the version served, or null. */
  public VersionMarker lastMarker() {
    ReplicaModel m = models.visible();
    return m == null ? null : m.marker();
  }

  /** Records on the topic the replica has not read yet (-1 before it knows). */
  public long lag() {
    return lag;
  }

  /** Markers applied, re-reads included. */
  public long versionsApplied() {
    return versionsApplied;
  }

  /** Markers, while tailing, newer than the next version. */
  public long gaps() {
    return gaps;
  }

  /** Markers, while tailing, of a version already held. */
  public long duplicates() {
    return duplicates;
  }

  /** Reads from the earliest offset after a gap or duplicate. */
  public long rereads() {
    return rereads;
  }

  /** Records skipped as unreadable. */
  public long badRecords() {
    return badRecords;
  }

  /** Records read from the topic, re-reads included. */
  public long recordsRead() {
    return recordsRead;
  }

  /** Rows held by the served model, over all tables. */
  public long rows() {
    return models.read(m -> m == null ? 0L : m.rowCount());
  }

  /** Values of a row of the served model (a copy), or null when it has none. */
  public float[] row(String table, long id) {
    return models.read(m -> m == null ? null : m.row(table, id));
  }

  /** A dense block of the served model (a copy), or null. */
  public float[] denseBlock(String block) {
    return models.read(
        m -> {
          float[] v = m == null ? null : m.dense(block);
          return v == null ? null : v.clone();
        });
  }

  /**
   * The model's configuration as read from the topic, or null before the replica serves a model.
   */
  public ModelConfig config() {
    ReplicaModel m = models.visible();
    return m == null ? null : m.config();
  }

  /**
   * Freshness percentile {@code q} (0..1) in ms over the newest versions applied while tailing: the
   * replica's wall clock when it applied a version less the version's event time (see
   * docs/model-updates.md §6); NaN before any.
   */
  public double freshnessPercentileMs(double q) {
    return freshness.percentile(q);
  }

  /** The sum of every freshness sample so far, ms. */
  public long freshnessSumMs() {
    return freshness.sum();
  }

  /** Versions with a freshness sample. */
  public long freshnessSamples() {
    return freshness.count();
  }

  @Override
  public void close() {
    running = false;
    consumer.wakeup();
    try {
      thread.join(5_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StreamrecException("interrupted", e);
    }
  }
}
