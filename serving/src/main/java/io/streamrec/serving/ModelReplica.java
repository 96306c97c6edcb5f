package io.streamrec.serving;

import io.streamrec.common.KafkaClientProperties;
import io.streamrec.common.StreamrecException;
import io.streamrec.model.LabelScores;
import io.streamrec.model.ModelConfig;
import io.streamrec.model.ModelConfigJson;
import io.streamrec.model.RequestUnits;
import io.streamrec.protocol.ModelLineage;
import io.streamrec.protocol.ModelTopicPartitions;
import io.streamrec.protocol.ModelUpdate;
import io.streamrec.protocol.ModelUpdateDecoder;
import io.streamrec.protocol.ModelUpdateEncoder;
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
import java.util.Map;
import java.util.OptionalLong;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RetriableException;
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
 * <p><b>One lineage.</b> A model holds the entries of one lineage (docs/model-updates.md §8): a
 * marker of lineage M applies only the pending entries of M (and every tombstone); the others are
 * dropped and counted ({@link #foreignEntries}). A marker of another lineage than the model's
 * starts a fresh, empty model of that lineage.
 *
 * <p><b>Bootstrap and re-read.</b> A read from the earliest offset builds a fresh model that
 * readers do not see; it becomes the served model, in one swap, once the read has reached the end
 * offset the topic had when the read began and the model is <i>complete</i>: the spec of its
 * lineage, and as many rows as its newest marker says the trainer holds (until then the replica
 * keeps reading into it; on a topic that lost its older records the trainer's periodic
 * re-publication completes it). During such a read the versions need not follow one by one
 * (compaction removed older markers; a restarted trainer's repeats are history). Past that end
 * offset, a marker that is not the next version of the same lineage is a <i>gap</i>, a
 * <i>duplicate</i> or a <i>lineage switch</i>: it is counted, logged, and recovered by re-reading
 * the topic from its earliest offset into a fresh model while the current one keeps serving; so are
 * offsets that go back under the replica (a topic made again, a log truncated), and a version that
 * would leave the served model short of the rows its marker counts. The replica never guesses what
 * a missing version changed, and never goes back in version within a lineage: a re-read model of
 * the served lineage replaces the served one only once it is at least as new. A re-read holds a
 * second copy of the model for its duration.
 *
 * <p><b>Healing.</b> A broker that does not answer, or a topic that does not exist yet, is waited
 * for with back-off while the served model stays; the replica asks the broker where the topic ends
 * every second, so its lag reads -1 and its staleness ({@link #staleMs}) grows while the broker is
 * away. Only errors that waiting cannot heal (a refused login, a topic of several partitions) stop
 * it; an error of the JVM itself (out of memory) stops it and goes to the fatal handler.
 *
 * <p>The newest {@code spec} record of the model's lineage tells the replica the model's features
 * and tables; ids it has no row for score with their initial values, as the trainer scores ids it
 * has not admitted. A version is scored with the spec published before its marker, so when a
 * resumed trainer changes its configuration within its lineage the replica follows from that
 * version on.
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

  /**
   * How long a metadata or offsets request may wait for the broker before it counts as a failed
   * attempt (the client's own default, 60 s, would hide an outage for a minute).
   */
  private static final Duration METADATA_TIMEOUT = Duration.ofSeconds(5);

  /** How often the replica asks the broker where the topic ends (lag and staleness). */
  private static final long END_CHECK_MS = 1_000;

  /**
   * How often a replica looks whether the topic has gained partitions ({@link #checkOnePartition});
   * its end-offset consumer's metadata is as fresh.
   */
  static final long PARTITIONS_CHECK_MS = 5_000;

  /** How long that question may wait: past it the broker counts as unreachable. */
  private static final Duration END_CHECK_TIMEOUT = Duration.ofSeconds(2);

  /** First wait after a failed attempt to reach the broker; doubled on each failure. */
  private static final long RETRY_MIN_MS = 100;

  /** Longest wait between attempts to reach the broker: an outage ends within this of healing. */
  private static final long RETRY_MAX_MS = 5_000;

  /** While waiting for the topic to exist, one log line per this many attempts. */
  private static final int TOPIC_LOG_EVERY = 20;

  /** Freshness samples kept for the percentiles: the newest this many versions. */
  private static final int FRESHNESS_SAMPLES = 4096;

  /** What the replica is doing. */
  public enum State {
    /**
     * Reading the topic for the first time (or waiting for the broker, the topic or a complete
     * model); nothing is served yet.
     */
    BOOTSTRAPPING,
    /** Tailing the topic; the served model follows it version by version. */
    SERVING,
    /**
     * Re-reading the topic after a gap, a duplicate or a new lineage; the previous model is served
     * meanwhile.
     */
    REREADING,
    /** Stopped by an error ({@link #failure()}). */
    FAILED
  }

  /**
   * The spec last read, by lineage: applied to a model at a marker of the same lineage; a null
   * config when it could not be read.
   */
  private record SpecRead(long model, ModelConfig config) {}

  /** Why the newest spec read could not be used; null when it could. */
  private volatile String unreadableSpec;

  /**
   * Offset of the spec {@link #unreadableSpec} speaks of: a re-read of older specs (which an
   * unreadable one itself starts) does not change what the replica reports of the newest.
   */
  private long newestSpecOffset = -1;

  private final String topic;
  private volatile KafkaConsumer<byte[], byte[]> consumer;

  /**
   * Asks the broker for the partition's high watermark (reads nothing): records past the committed
   * end that {@link #consumer}, reading committed records only, cannot see yet.
   */
  private KafkaConsumer<byte[], byte[]> ends;

  /**
   * The two consumers' settings, made into consumers again while the broker's name does not
   * resolve.
   */
  private final java.util.Properties committedSettings;

  private final java.util.Properties endsSettings;

  private final Thread thread;
  private final Consumer<Throwable> fatal;
  private final ModelSwap models = new ModelSwap();

  /** The records of the version in flight; poll thread only. */
  private final PendingVersion pending = new PendingVersion();

  /** The newest spec read since the current read from the earliest offset began; poll thread. */
  private SpecRead spec;

  /** End offset of the topic when the current read from the earliest offset began. */
  private long readEnd;

  /** The end offset the broker told last, and when it was asked (wall clock). */
  private long checkedEnd = Long.MAX_VALUE;

  private volatile long endCheckedAtMs;

  private volatile State state = State.BOOTSTRAPPING;
  private volatile long versionsApplied;
  private volatile long gaps;
  private volatile long duplicates;
  private volatile long rereads;
  private volatile long lineageSwitches;
  private volatile long foreignEntries;
  private volatile long badRecords;

  /** The highest offset handled; a record at or below it is read again (a re-read). */
  private long highestRead = -1;

  /** The offset the next record must have at least; -1 right after a seek. */
  private long nextOffset = -1;

  /** Whether the record being handled is read for the first time. */
  private boolean firstRead;

  /**
   * Records that are not model updates each logged, the first of them; then a line now and then.
   */
  private static final int BAD_RECORDS_LOGGED = 20;

  private static final int BAD_RECORDS_SUMMARY_EVERY = 10_000;
  private volatile long recordsRead;
  private volatile long retries;
  private volatile long lag = -1;
  private volatile long newestVersion;
  private volatile long newestModel;

  /** When the served model last changed version (wall clock, ms; 0: never). */
  private volatile long appliedAtMs;

  /** The newest time at which the served model held everything the topic had (0: never). */
  private volatile long caughtUpAtMs;

  /** The committed end that records past it wait behind (an open transaction), or -1. */
  private long heldAt = -1;

  /** When the committed end was first seen standing at {@link #heldAt}; 0 while none is held. */
  private volatile long heldSinceMs;

  /** Records past the committed end at the last check (in open transactions), 0 without. */
  private volatile long uncommitted;

  /** Why the broker or topic cannot be read just now, or null. */
  private volatile String unreachable;

  /** When the current outage began (ms), while {@link #unreachable} is set. */
  private long unreachableSinceMs;

  private volatile Throwable failure;

  /** When the topic's partitions were last counted ({@link #checkOnePartition}). */
  private long partitionsCheckedAtMs;

  /** The topic's partitions when last counted: 1 but where some were added while it was read. */
  private volatile int topicPartitions = 1;

  private volatile boolean running = true;
  private final FreshnessSamples freshness = new FreshnessSamples(FRESHNESS_SAMPLES);

  private ModelReplica(
      String bootstrapServers,
      KafkaClientProperties client,
      String topic,
      String clientId,
      Consumer<Throwable> fatal) {
    this.topic = topic;
    this.fatal = fatal;
    this.committedSettings = ModelUpdateConsumers.properties(bootstrapServers, client, clientId);
    // the replica always seeks where it reads: a position the topic no longer has (a topic made
    // again, a log truncated) must reach it as an error and a re-read, not as a silent jump to the
    // earliest offset whose records it would take for the next ones
    committedSettings.put(
        org.apache.kafka.clients.consumer.ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "none");
    this.endsSettings =
        ModelUpdateConsumers.properties(bootstrapServers, client, clientId + "-ends");
    endsSettings.put(
        org.apache.kafka.clients.consumer.ConsumerConfig.ISOLATION_LEVEL_CONFIG,
        "read_uncommitted");
    endsSettings.put(
        org.apache.kafka.clients.consumer.ConsumerConfig.METADATA_MAX_AGE_CONFIG,
        String.valueOf(PARTITIONS_CHECK_MS));
    try {
      connect();
    } catch (org.apache.kafka.common.KafkaException e) {
      if (!unresolvable(e)) {
        throw e;
      }
      // a name not in DNS yet (a Kubernetes service made with the replica): waited for, as a
      // broker that does not answer is
      noteUnreachable("the broker's address " + bootstrapServers + " does not resolve");
      LOG.warn("model replica of '{}': {} (yet); retrying until it does", topic, unreachable);
    }
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
    return start(
        bootstrapServers,
        client,
        topic,
        e -> LOG.error("model replica of '{}' stopped: {}", topic, e.toString(), e));
  }

  /**
   * As {@link #start(String, KafkaClientProperties, String)}, with what to do when the replica's
   * thread meets an error of the JVM itself ({@link VirtualMachineError}, e.g. out of memory):
   * {@code streamrec serve} ends the process so that its supervisor restarts it.
   */
  public static ModelReplica start(
      String bootstrapServers,
      KafkaClientProperties client,
      String topic,
      Consumer<Throwable> fatal) {
    ModelReplica r = new ModelReplica(bootstrapServers, client, topic, "streamrec-replica", fatal);
    r.thread.start();
    return r;
  }

  // ---- the poll thread

  /** Makes the consumers. */
  private void connect() {
    KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(committedSettings);
    try {
      ends = new KafkaConsumer<>(endsSettings);
    } catch (RuntimeException e) {
      c.close(Duration.ZERO);
      throw e;
    }
    consumer = c;
  }

  /** Whether {@code e}, from making a consumer, is that no bootstrap address resolves. */
  private static boolean unresolvable(Throwable e) {
    for (Throwable c = e; c != null; c = c.getCause()) {
      if (c instanceof org.apache.kafka.common.config.ConfigException
          && String.valueOf(c.getMessage()).contains("resolvable")) {
        return true;
      }
    }
    return false;
  }

  private void loop() {
    long backoff = RETRY_MIN_MS;
    while (running && consumer == null) {
      sleep(backoff);
      backoff = Math.min(RETRY_MAX_MS, 2 * backoff);
      try {
        connect();
      } catch (org.apache.kafka.common.KafkaException e) {
        if (!unresolvable(e)) {
          failure = e;
          state = State.FAILED;
          LOG.error("model replica of '{}' stopped: {}", topic, e.toString());
          return;
        }
        retries++;
      }
    }
    if (consumer == null) {
      return; // closed while waiting
    }
    backoff = RETRY_MIN_MS;
    try {
      TopicPartition part = null;
      boolean read = true;
      while (running) {
        try {
          if (part == null) {
            part = partition();
            consumer.assign(List.of(part));
          }
          if (read) {
            readFromEarliest(part);
            read = false;
          }
          ConsumerRecords<byte[], byte[]> batch = consumer.poll(POLL);
          for (ConsumerRecord<byte[], byte[]> r : batch) {
            recordsRead++;
            if (!handle(r)) {
              read = true; // the rest of this batch is from before the seek
              break;
            }
          }
          if (!read) {
            afterPoll(part);
          }
          backoff = RETRY_MIN_MS;
        } catch (WakeupException e) {
          throw e;
        } catch (org.apache.kafka.clients.consumer.InvalidOffsetException e) {
          // the position is not on the topic any more (out of range, or past a truncation)
          noteOffsetsWentBack(
              "the replica's position is not on the topic (" + e.getMessage() + ")");
          read = true;
        } catch (RetriableException e) {
          // the broker is unreachable or not ready: the served model stays, and we try again
          retries++;
          lag = -1;
          noteUnreachable("the broker does not answer (" + e.getMessage() + ")");
          LOG.warn(
              "model replica of '{}': {}; retrying in {} ms (attempt {})",
              topic,
              e.toString(),
              backoff,
              retries);
          sleep(backoff);
          backoff = Math.min(RETRY_MAX_MS, 2 * backoff);
        }
      }
    } catch (WakeupException e) {
      // closing
    } catch (RuntimeException e) {
      failure = e;
      state = State.FAILED;
      if (e instanceof org.apache.kafka.common.errors.AuthenticationException
          || e instanceof org.apache.kafka.common.errors.AuthorizationException
          || e instanceof StreamrecException) {
        // a refused login or ACL, or a topic that cannot be a model's: the words say it all, a
        // trace adds nothing
        LOG.error("model replica of '{}' stopped: {}", topic, e.toString());
      } else {
        LOG.error("model replica of '{}' stopped: {}", topic, e.toString(), e);
      }
    } catch (VirtualMachineError e) {
      // out of memory (or worse): nothing here can be trusted to go on; the process decides
      failure = e;
      state = State.FAILED;
      fatal.accept(e);
    } finally {
      try {
        consumer.close(Duration.ofSeconds(1));
        ends.close(Duration.ofSeconds(1));
      } catch (RuntimeException e) {
        LOG.debug("closing the consumer: {}", e.toString());
      }
    }
  }

  /**
   * The topic's partition of the model: its one, or partition 0 of a topic that grew partitions
   * around the model, the others empty (with a warning); waits, with back-off, while the topic does
   * not exist yet (a replica started before the topic is made keeps waiting, and says so in its
   * state).
   */
  private TopicPartition partition() {
    long backoff = RETRY_MIN_MS;
    while (true) {
      List<PartitionInfo> info = consumer.partitionsFor(topic, METADATA_TIMEOUT);
      if (info != null && info.size() > 1) {
        Map<Integer, Long> offsets =
            ModelUpdateConsumers.endOffsets(consumer, topic, info, END_CHECK_TIMEOUT);
        String pieces = ModelTopicPartitions.inPieces(topic, offsets);
        if (pieces != null) {
          throw new StreamrecException(pieces);
        }
        if (!ModelTopicPartitions.grewAroundTheModel(offsets)) {
          throw new StreamrecException(
              "topic '"
                  + topic
                  + "' has "
                  + info.size()
                  + " partitions; the model-update protocol needs exactly 1 (versions are ordered"
                  + " only within a partition, see docs/model-updates.md)");
        }
        warnOfSpares(info.size());
      }
      if (info != null && !info.isEmpty()) {
        unreachable = null;
        return new TopicPartition(topic, ModelTopicPartitions.MODEL);
      }
      if (!running) {
        throw new WakeupException();
      }
      unreachable = "topic '" + topic + "' does not exist yet";
      if (retries++ % TOPIC_LOG_EVERY == 0) {
        LOG.warn("model replica: topic '{}' does not exist yet; waiting for it", topic);
      }
      sleep(backoff);
      backoff = Math.min(RETRY_MAX_MS, 2 * backoff);
    }
  }

  /** Starts a read from the earliest offset into a fresh model; the served model stays as it is. */
  private void readFromEarliest(TopicPartition part) {
    consumer.seekToBeginning(List.of(part));
    nextOffset = -1;
    readEnd = consumer.endOffsets(List.of(part), METADATA_TIMEOUT).get(part);
    if (readEnd <= highestRead) {
      highestRead = -1; // the topic was made again: its records are new ones
    }
    models.rebuild();
    pending.clear();
    spec = null;
    if (models.visible() != null) {
      state = State.REREADING;
    }
    readSaidAtMs = System.currentTimeMillis();
    LOG.info("model replica of '{}': reading from the earliest offset to {}", topic, readEnd);
  }

  /**
   * After each poll: makes a rebuilt model visible once it may be (read to the end offset, whole,
   * not behind the served version of its lineage), and checks with the broker how far the topic
   * goes.
   */
  private void afterPoll(TopicPartition part) {
    long position = consumer.position(part, METADATA_TIMEOUT);
    if (models.rebuilding() && position >= readEnd && mayServe(models.building())) {
      swapIn();
    }
    long now = System.currentTimeMillis();
    if (models.rebuilding() && now - readSaidAtMs >= READ_PROGRESS_MS) {
      readSaidAtMs = now;
      sayReadProgress(position);
    }
    if (now - endCheckedAtMs >= END_CHECK_MS) {
      endCheckedAtMs = now;
      try {
        // the high watermark first: a record appended between the two answers is then not taken
        // for one waiting past the committed end
        long highWatermark = ends.endOffsets(List.of(part), END_CHECK_TIMEOUT).get(part);
        checkedEnd = consumer.endOffsets(List.of(part), END_CHECK_TIMEOUT).get(part);
        noteHold(highWatermark, now);
        if (now - partitionsCheckedAtMs >= PARTITIONS_CHECK_MS) {
          partitionsCheckedAtMs = now;
          checkOnePartition(part);
        }
        if (unreachable != null && unreachableSinceMs > 0) {
          LOG.info(
              "model replica of '{}': the broker answers again after {} s; serving version {}",
              topic,
              (now - unreachableSinceMs) / 1000,
              version());
        }
        unreachable = null;
        unreachableSinceMs = 0;
      } catch (org.apache.kafka.common.errors.TimeoutException e) {
        // the broker does not answer: the lag is unknown, and the model ages; counted and logged
        // once per outage, as a failed poll is
        lag = -1;
        if (unreachable == null) {
          LOG.warn(
              "model replica of '{}': the broker does not answer ({}); serving version {} while it"
                  + " is away",
              topic,
              e.getMessage(),
              version());
        }
        retries++;
        noteUnreachable("the broker does not answer (" + e.getMessage() + ")");
        return;
      }
    }
    if (unreachable == null && checkedEnd != Long.MAX_VALUE) {
      // the last fetch's figure while the broker answers (fresher than the once-a-second end)
      OptionalLong fetched = consumer.currentLag(part);
      lag = fetched.isPresent() ? fetched.getAsLong() : Math.max(0, checkedEnd - position);
      if (!models.rebuilding() && models.visible() != null && position >= checkedEnd) {
        caughtUpAtMs = Math.max(caughtUpAtMs, endCheckedAtMs);
      }
    }
  }

  /** How often a read from the earliest offset says how far it is. */
  private static final long READ_PROGRESS_MS = 10_000;

  /** When a read from the earliest offset last said how far it is; 0 at its start. */
  private long readSaidAtMs;

  /**
   * Says how far a read from the earliest offset is: a topic of tens of millions of rows takes
   * minutes, which the log showed as nothing between its start and the first version served.
   */
  private void sayReadProgress(long position) {
    ReplicaModel b = models.building();
    if (position < readEnd) {
      LOG.info(
          "model replica of '{}': read to offset {} of {} ({}%), {} rows so far",
          topic, position, readEnd, readEnd > 0 ? 100 * position / readEnd : 100, b.rowCount());
    } else {
      LOG.info(
          "model replica of '{}': read to offset {}, past the end offset {}; waiting for a model to"
              + " serve: version {}, {} rows ({} short of the newest marker's), {} dense blocks"
              + " short, spec {}",
          topic,
          position,
          readEnd,
          b.version(),
          b.rowCount(),
          Math.max(0, b.missingRows()),
          b.missingDenseBlocks(),
          b.canScore() ? "read" : "not read yet");
    }
  }

  /**
   * The topic grown past one partition while this replica reads it (partitions added by hand, or by
   * a policy over every topic). The trainer writes partition 0 only, so while the others are empty
   * the model is whole in the one read, and is served on, with a warning. A record in another
   * partition is a model in pieces (a trainer of an earlier release spread its records over them,
   * or another producer wrote there): the replica stops rather than serve versions without those
   * records, a model the trainer never had.
   */
  private void checkOnePartition(TopicPartition part) {
    List<PartitionInfo> info = ends.partitionsFor(topic, END_CHECK_TIMEOUT);
    if (info == null || info.size() <= 1) {
      return;
    }
    String pieces =
        ModelTopicPartitions.inPieces(
            topic, ModelUpdateConsumers.endOffsets(ends, topic, info, END_CHECK_TIMEOUT));
    if (pieces != null) {
      throw new StreamrecException(pieces);
    }
    warnOfSpares(info.size());
  }

  /** Says once per count that the topic has {@code partitions}, its others empty. */
  private void warnOfSpares(int partitions) {
    if (topicPartitions != partitions) {
      topicPartitions = partitions;
      LOG.warn("model replica: {}", ModelTopicPartitions.spare(topic, partitions));
    }
  }

  /**
   * Notes, at {@code now}, the partition's high watermark against its committed end ({@link
   * #checkedEnd}). Records past the committed end are in transactions not committed yet: an
   * exactly-once trainer's, committed at its next checkpoint, or one a trainer killed inside it
   * left open, which holds every reader of committed records back until the broker aborts it
   * ({@code transaction.timeout.ms}), records written after it included. The time the committed end
   * has stood still with records past it counts as staleness.
   */
  private void noteHold(long highWatermark, long now) {
    uncommitted = Math.max(0, highWatermark - checkedEnd);
    if (uncommitted == 0) {
      heldAt = -1;
      heldSinceMs = 0;
    } else if (heldAt != checkedEnd) {
      heldAt = checkedEnd;
      heldSinceMs = now;
    }
  }

  /**
   * Notes why the broker cannot be read, from when (the first time of an outage), with what to
   * check: a listener of another security protocol does not answer either.
   */
  private void noteUnreachable(String why) {
    if (unreachable == null) {
      unreachableSinceMs = System.currentTimeMillis();
    }
    unreachable =
        why + ": is the address right, the broker up, and security.protocol the listener's?";
  }

  /**
   * Whether {@code b}, a model rebuilt from the earliest offset, may replace the one served: it is
   * complete, and not older than the served model of the same lineage (a replica never goes back in
   * version within a lineage).
   */
  private boolean mayServe(ReplicaModel b) {
    if (!b.complete()) {
      return false;
    }
    ReplicaModel v = models.visible();
    return v == null || v.lineage() != b.lineage() || b.version() >= v.version();
  }

  private void swapIn() {
    models.swapIn();
    state = State.SERVING;
    appliedAtMs = System.currentTimeMillis();
    ReplicaModel m = models.visible();
    LOG.info(
        "model replica of '{}': serving version {} of model {} ({} rows)",
        topic,
        m.version(),
        ModelLineage.format(m.lineage()),
        m.rowCount());
  }

  /**
   * Handles one record; false when it showed a gap, a duplicate or another lineage while tailing,
   * and the topic must be read again.
   */
  private boolean handle(ConsumerRecord<byte[], byte[]> r) {
    if (nextOffset >= 0 && r.offset() < nextOffset) {
      noteOffsetsWentBack("offset " + r.offset() + " came after offset " + (nextOffset - 1));
      return false;
    }
    nextOffset = r.offset() + 1;
    // a re-read meets the records read before again: what is wrong with them was counted then
    firstRead = r.offset() > highestRead;
    highestRead = Math.max(highestRead, r.offset());
    ModelUpdate u;
    try {
      u = ModelUpdateDecoder.decode(r.key(), r.value());
    } catch (StreamrecException e) {
      if (firstRead) {
        badRecords++;
        if (badRecords <= BAD_RECORDS_LOGGED) {
          LOG.warn("topic '{}' offset {}: {}, skipped", topic, r.offset(), e.getMessage());
        } else if (badRecords % BAD_RECORDS_SUMMARY_EVERY == 0) {
          LOG.warn(
              "topic '{}': {} records so far are not model updates and were skipped (offset {}"
                  + " the latest); is it the model-updates topic?",
              topic,
              badRecords,
              r.offset());
        }
      }
      return true;
    }
    if (u instanceof ModelUpdate.Spec s) {
      spec(s, r.offset());
      return true;
    }
    if (!pending.addEntry(u) && u instanceof ModelUpdate.Version v) {
      return marker(v.marker(), r.offset());
    }
    return true;
  }

  /**
   * The topic's offsets went back under the replica: the topic was deleted and made again, or its
   * log truncated. Its records from there on are not the ones read before, so nothing read is taken
   * for theirs: the topic is read again from its earliest offset into a fresh model (every record a
   * first read), while the served model stays until the new one may replace it, never back in
   * version within its lineage.
   */
  private void noteOffsetsWentBack(String how) {
    rereads++;
    highestRead = -1;
    newestSpecOffset = -1;
    LOG.warn(
        "model replica of '{}': {}: the topic was made again or truncated; reading it again from"
            + " the earliest offset (version {} is served until the new read may replace it)",
        topic,
        how,
        version());
  }

  /**
   * Takes a spec record. One this replica cannot read (a format it does not know, or JSON it cannot
   * make a model of) is kept as unreadable, and the marker of its version then keeps that version
   * from the served model ({@link #marker}).
   */
  private void spec(ModelUpdate.Spec s, long offset) {
    ModelConfig c;
    try {
      if (!ModelUpdateEncoder.SPEC_FORMATS.contains(s.format())) {
        throw new StreamrecException(
            "spec format '"
                + s.format()
                + "' is not one this replica reads ("
                + String.join(", ", new java.util.TreeSet<>(ModelUpdateEncoder.SPEC_FORMATS))
                + "); serve this model with a newer replica");
      }
      c = readSpec(s.json());
    } catch (StreamrecException e) {
      String why = "model " + ModelLineage.format(s.model()) + ": " + e.getMessage();
      if (offset > newestSpecOffset) {
        badRecords++;
        LOG.warn(
            "model-updates offset {}: {}; versions of that model are not served until a spec this"
                + " replica reads",
            offset,
            why);
      }
      newestSpec(offset, why);
      spec = new SpecRead(s.model(), null);
      if (models.visible() == null && models.rebuilding() && mayServe(models.building())) {
        // a replica started on a topic whose newest versions it cannot read: the spec opens a
        // version, so the model built so far is the version before it, whole. It is served, as a
        // replica that was tailing serves the last version it could read
        LOG.info(
            "model-updates offset {}: serving the version before the one this replica cannot read",
            offset);
        swapIn();
      }
      return;
    }
    spec = new SpecRead(s.model(), c);
    newestSpec(offset, null);
  }

  /**
   * The model configuration of a spec's JSON; a {@link StreamrecException} whatever is wrong with
   * it (JSON that is not an object, or whose fields are not of their types, fails inside the JSON
   * library with other exceptions).
   */
  private static ModelConfig readSpec(String json) {
    try {
      return ModelConfigJson.fromJson(json);
    } catch (StreamrecException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new StreamrecException("the spec's JSON is not a model configuration (" + e + ")", e);
    }
  }

  /** What a spec at {@code offset} says of the topic's newest, unless a newer one was read. */
  private void newestSpec(long offset, String unreadable) {
    if (offset >= newestSpecOffset) {
      newestSpecOffset = offset;
      unreadableSpec = unreadable;
    }
  }

  private boolean marker(VersionMarker m, long offset) {
    long v = m.getVersion();
    long model = m.getModel();
    ReplicaModel b = models.building();
    long held = b.version();
    if (offset >= readEnd || models.visible() == null) {
      // the newest marker on the topic as far as the replica knows (a re-read's older ones aren't)
      newestVersion = v;
      newestModel = model;
    }
    // past the end offset of the read, versions must follow one by one within one lineage
    boolean tailing = held > 0 && offset >= readEnd;
    if (tailing && model != b.lineage()) {
      lineageSwitches++;
      rereads++;
      LOG.warn(
          "model-updates offset {}: version {} of model {} after version {} of model {} (the model"
              + " was replaced); reading the topic again from the earliest offset into a fresh model",
          offset,
          v,
          ModelLineage.format(model),
          held,
          ModelLineage.format(b.lineage()));
      return false;
    }
    if (tailing && v != held + 1) {
      if (v <= held) {
        duplicates++;
        LOG.warn(
            "model-updates offset {}: version {} after version {} (a repeat, e.g. a restarted at-least-once "
                + "trainer); re-reading the topic from the earliest offset (version {} is served until"
                + " the re-read reaches it)",
            offset,
            v,
            held,
            version());
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
    if (held > 0 && model != b.lineage()) {
      // another lineage during a read from the earliest offset: its model starts empty
      if (!models.rebuilding()) {
        rereads++;
        lineageSwitches++;
        return false;
      }
      LOG.info(
          "model-updates offset {}: model {} follows model {}; building model {} from empty",
          offset,
          ModelLineage.format(model),
          ModelLineage.format(b.lineage()),
          ModelLineage.format(model));
      models.rebuild();
    }
    SpecRead s = spec;
    if (s != null && s.model() == model && s.config() == null && !models.rebuilding()) {
      // a version whose spec this replica cannot read never reaches the served model: read the
      // topic again into a model that stays incomplete (and is never made visible) until a spec it
      // reads comes; the served model stays at the last version it could score
      rereads++;
      return false;
    }
    long liveRows = m.getLiveRows();
    // what this version's entries do to the served model's row count against what its marker says
    // the trainer's did since the version served: a shortfall of an earlier version's bad records
    // (rows refused for their width, counted) is not this version's, and reading again would not
    // mend it
    VersionMarker served = models.rebuilding() ? null : b.marker();
    long rowsAfter =
        served == null || liveRows < 0 || served.getLiveRows() < 0 || served.getModel() != model
            ? liveRows
            : pending.rowsAfter(b, m) - b.rowCount() + served.getLiveRows();
    if (rowsAfter < liveRows) {
      // the served model would be short of rows its trainer holds (entries of another publish among
      // this version's, say the tombstones of a replacing trainer): served, most ids would score
      // with their initial values. Read the topic again into a model that is served only once it
      // is whole, as for a gap; the served version stays meanwhile
      rereads++;
      LOG.warn(
          "model-updates offset {}: version {} of model {} would leave the served model {} row(s)"
              + " short of the {} its marker counts; re-reading the topic from the earliest offset"
              + " (version {} is served meanwhile)",
          offset,
          v,
          ModelLineage.format(model),
          liveRows - rowsAfter,
          liveRows,
          version());
      return false;
    }
    PendingVersion.Applied[] applied = new PendingVersion.Applied[1];
    models.write(
        target -> {
          // the spec published with this version: a resumed trainer may have changed it (wide
          // crosses turned on, say), and the replica scores as the trainer now does. It is set
          // first, as it gives the width of each table's rows
          if (s != null && s.model() == model) {
            if (s.config() == null) {
              target.clearConfig();
            } else if (target.configLineage() != model || !s.config().equals(target.config())) {
              target.setConfig(s.config(), model);
            }
          }
          applied[0] = pending.applyTo(target, m);
        });
    if (applied[0].refused() > 0 && firstRead) {
      badRecords += applied[0].refused();
      LOG.warn(
          "model-updates version {}: {} row(s) whose width is not their table's, skipped",
          v,
          applied[0].refused());
    }
    if (applied[0].refusedBlocks() > 0 && firstRead) {
      badRecords += applied[0].refusedBlocks();
      LOG.warn(
          "model-updates version {}: {} dense block(s) of another length than the spec's, skipped"
              + " (each keeps the values it had; a model without one is not served)",
          v,
          applied[0].refusedBlocks());
    }
    if (applied[0].foreign() > 0) {
      foreignEntries += applied[0].foreign();
      LOG.warn(
          "model-updates version {} of model {}: {} entr(ies) of another model dropped",
          v,
          ModelLineage.format(model),
          applied[0].foreign());
    }
    versionsApplied++;
    if (!models.rebuilding()) {
      appliedAtMs = System.currentTimeMillis();
    }
    if (offset >= readEnd) {
      freshness.add(System.currentTimeMillis() - m.getEventTimeMs());
    }
    return true;
  }

  // ---- readers

  /**
   * The first label's (click) probabilities of {@code impressions} in answer to {@code request}, by
   * the newest whole version. Fails with {@link IllegalStateException} before the replica serves a
   * model.
   */
  public float[] score(RequestEvent request, List<ImpressionEvent> impressions) {
    return score(List.of(RequestUnits.of(request, impressions, request.getTimestampMs())));
  }

  /** The first label's probabilities of every impression of {@code units}, in order. */
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
    return models.read(m -> new Scored(servable(m).version(), m.score(units)));
  }

  /**
   * Every label's probabilities of {@code impressions} in answer to {@code request}, in the spec's
   * label order, from one forward pass of the newest whole version; label 0 is {@link
   * #score(RequestEvent, List)}. Fails with {@link IllegalStateException} before the replica serves
   * a model.
   */
  public LabelScores scoreAllLabels(RequestEvent request, List<ImpressionEvent> impressions) {
    return scoreAllLabelsVersioned(request, impressions).scores();
  }

  /** Every label's probabilities of every impression of {@code units}, in order. */
  public LabelScores scoreAllLabels(List<RequestUnit> units) {
    return scoreAllLabelsVersioned(units).scores();
  }

  /**
   * Scores with the version, the model (lineage) and the model's configuration that gave them:
   * after a replace, version 3 of the new model is not version 3 of the old one, and what its
   * features are is the configuration's that scored, not the one served a moment later.
   */
  public record ScoredLabels(long version, long model, ModelConfig config, LabelScores scores) {}

  /** As {@link #scoreAllLabels(RequestEvent, List)}, with the version that scored. */
  public ScoredLabels scoreAllLabelsVersioned(
      RequestEvent request, List<ImpressionEvent> impressions) {
    return scoreAllLabelsVersioned(
        List.of(RequestUnits.of(request, impressions, request.getTimestampMs())));
  }

  /** As {@link #scoreAllLabels(List)}, with the version that scored. */
  public ScoredLabels scoreAllLabelsVersioned(List<RequestUnit> units) {
    return models.read(
        m ->
            new ScoredLabels(
                servable(m).version(), m.lineage(), m.config(), m.scoreAllLabels(units)));
  }

  private ReplicaModel servable(ReplicaModel m) {
    if (m == null || !m.canScore()) {
      throw new IllegalStateException(
          "the replica of '" + topic + "' serves no model yet (" + describeState() + ")");
    }
    return m;
  }

  private String describeState() {
    if (failure != null) {
      return "failed: " + failure.getMessage();
    }
    StringBuilder b = new StringBuilder(state.name().toLowerCase(Locale.ROOT));
    ReplicaModel m = models.building();
    if (models.visible() == null && m != null) {
      if (m.version() > 0 && m.configLineage() != m.lineage()) {
        b.append(", no model spec read yet");
      } else if (m.missingRows() > 0) {
        b.append(", ").append(m.missingRows()).append(" rows of the model not read yet");
      }
    }
    String u = unreachable;
    if (u != null) {
      b.append(", ").append(u);
    }
    String spec = unreadableSpec;
    if (spec != null) {
      b.append(", unreadable spec of ").append(spec);
    }
    return b.toString();
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

  /**
   * True once the replica serves a model: it has read the topic to the end offset it had when it
   * began, holds a version, the spec of that version's lineage and every row the version's marker
   * says the trainer holds.
   */
  public boolean ready() {
    ReplicaModel m = models.visible();
    return m != null && m.canScore() && failure == null;
  }

  /** True while the replica's thread runs (it ends on close and on an error it cannot heal). */
  public boolean alive() {
    return thread.isAlive() && failure == null;
  }

  /**
   * Why the newest spec read cannot be used (a format this replica does not know, or JSON it cannot
   * make a model of), or null when it can. While it is set, the replica serves the last version it
   * could score and ages.
   */
  public String unreadableSpec() {
    return unreadableSpec;
  }

  /**
   * Why the broker or the topic cannot be read just now (the replica keeps trying), or null when
   * they can.
   */
  public String unreachable() {
    return unreachable;
  }

  /** Failed attempts to reach the broker or the topic, each followed by a wait and a retry. */
  public long retries() {
    return retries;
  }

  /** The lineage of the model served (or, before one is, being built); 0 before any marker. */
  public long lineage() {
    ReplicaModel m = models.visible();
    return m != null ? m.lineage() : models.building() == null ? 0 : models.building().lineage();
  }

  /**
   * Rows the newest marker applied says the trainer holds and the model does not: of the model
   * being built while none is served or a re-read runs (what keeps it from being served; the one
   * served is whole, so it said 0 while a re-read waited on rows), else of the one served; -1 when
   * the marker does not tell.
   */
  public long missingRows() {
    ReplicaModel m = models.rebuilding() ? models.building() : models.visible();
    if (m == null) {
      m = models.building();
    }
    return m == null ? -1 : m.missingRows();
  }

  /**
   * Versions the topic holds past the one served: the newest marker read less the served version
   * when both are of one lineage, the newest marker's version when it is another lineage's; -1
   * before the replica serves.
   */
  public long versionLag() {
    ReplicaModel m = models.visible();
    if (m == null) {
      return -1;
    }
    return newestModel == m.lineage() ? Math.max(0, newestVersion - m.version()) : newestVersion;
  }

  /** Milliseconds since the served model last changed version; -1 before the replica serves. */
  public long msSinceApplied() {
    long t = appliedAtMs;
    return t == 0 ? -1 : Math.max(0, System.currentTimeMillis() - t);
  }

  /**
   * How old the served model may be, ms: the time since the replica last knew from the broker that
   * it had read everything on the topic (0 within a second of that), or -1 before the replica
   * serves. It grows while the broker is unreachable, while a re-read runs, and while the replica
   * falls behind, but not while the trainer is idle. Records past the topic's committed end count
   * too, from when the committed end stopped moving with them there ({@link #heldMs}): under an
   * exactly-once trainer that is up to a checkpoint interval, and a transaction left open by a
   * trainer killed inside it holds every reader back until the broker aborts it.
   */
  public long staleMs() {
    if (models.visible() == null) {
      return -1;
    }
    long now = System.currentTimeMillis();
    long t = caughtUpAtMs;
    long stale = t == 0 ? Math.max(0, now - appliedAtMs) : Math.max(0, now - t - END_CHECK_MS);
    long held = heldSinceMs;
    return held == 0 ? stale : Math.max(stale, Math.max(0, now - held - END_CHECK_MS));
  }

  /**
   * Records on the topic past its committed end, in transactions not committed yet, that the
   * replica cannot read until they are (0 without; as of the last check with the broker).
   */
  public long uncommittedRecords() {
    return uncommitted;
  }

  /**
   * Milliseconds the topic's committed end has stood still with records past it (an open
   * transaction holding readers back), as of the last check; 0 while nothing is held.
   */
  public long heldMs() {
    long held = heldSinceMs;
    return held == 0 ? 0 : Math.max(0, endCheckedAtMs - held);
  }

  public State state() {
    return state;
  }

  /**
   * The model-updates topic's partitions: more than 1 where some were added while the replica read
   * it and none holds records (the model served is whole; no replica or job starts on the topic).
   */
  public int topicPartitions() {
    return topicPartitions;
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

  /**
   * Reads from the earliest offset after a gap, a duplicate, a new lineage, an unreadable spec,
   * offsets that went back, or a version that would leave the served model short of rows.
   */
  public long rereads() {
    return rereads;
  }

  /** Markers, while tailing, of another lineage than the model's (a replaced model). */
  public long lineageSwitches() {
    return lineageSwitches;
  }

  /** Rows and dense blocks dropped for belonging to another lineage than their version's marker. */
  public long foreignEntries() {
    return foreignEntries;
  }

  /** Records skipped as unreadable. */
  public long badRecords() {
    return badRecords;
  }

  /** Records read from the topic, re-reads included. */
  public long recordsRead() {
    return recordsRead;
  }

  /**
   * Rows held by the served model, over all tables. Takes no lock: {@code /healthz} answers while a
   * large version is applied.
   */
  public long rows() {
    ReplicaModel m = models.visible();
    return m == null ? 0L : m.rowCount();
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
   * Freshness percentile {@code q} (0..1) in ms over the versions applied while tailing in the last
   * ten minutes ({@link FreshnessSamples#WINDOW_MS}): the replica's wall clock when it applied a
   * version less the version's event time (see docs/model-updates.md §6); NaN before any.
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
    KafkaConsumer<byte[], byte[]> c = consumer;
    if (c != null) {
      c.wakeup();
    }
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
