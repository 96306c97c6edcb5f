package io.streamrec.serving;

import io.streamrec.model.ModelConfig;
import io.streamrec.model.ModelConfigJson;
import io.streamrec.model.ModelScorer;
import io.streamrec.model.ParameterView;
import io.streamrec.model.RequestUnits;
import io.streamrec.schemas.AvroCodec;
import io.streamrec.schemas.ImpressionEvent;
import io.streamrec.schemas.MalformedRecordException;
import io.streamrec.schemas.ModelDelta;
import io.streamrec.schemas.ModelSpec;
import io.streamrec.schemas.ModelUpdateKeys;
import io.streamrec.schemas.RequestEvent;
import io.streamrec.schemas.RequestUnit;
import io.streamrec.schemas.RowValues;
import io.streamrec.schemas.StreamrecException;
import io.streamrec.schemas.VersionMarker;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A serving replica of the model, built from the model-updates topic alone: it reads the topic from
 * its first offset (the compacted topic's latest value per key is the model), then tails it, and
 * scores requests with the model it holds.
 *
 * <p><b>Whole versions only.</b> Rows, tombstones and dense blocks are buffered until the version
 * marker that closes them arrives; the marker's version is then applied under a write lock, and
 * scoring holds the read lock, so a score never mixes two versions. The first marker a replica
 * sees is its base (older markers are compacted away); from then on versions must follow one by
 * one: a gap or a repeat is counted and logged.
 *
 * <p>The topic's {@code spec} record tells the replica the model's features and tables; ids it has
 * no row for score with their initial values, as the trainer scores ids it has not admitted.
 */
public final class ModelReplica implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ModelReplica.class);
  /** How long one poll waits for records: short, so close() and lag stay responsive. */
  private static final Duration POLL = Duration.ofMillis(100);

  private final String topic;
  private final KafkaConsumer<byte[], byte[]> consumer;
  private final Thread thread;
  private final ReadWriteLock lock = new ReentrantReadWriteLock();

  // applied model (guarded by lock)
  private final Map<String, Map<Long, float[]>> rows = new HashMap<>();
  private final Map<String, float[]> dense = new HashMap<>();
  private volatile ModelConfig config;
  private ThreadLocal<ModelScorer> scorers;

  // pending version (poll thread only)
  private final Map<String, float[]> pendingRows = new LinkedHashMap<>();
  private final Map<String, float[]> pendingDense = new LinkedHashMap<>();

  private volatile long version;
  private volatile VersionMarker lastMarker;
  private volatile long versionsApplied;
  private volatile long gaps;
  private volatile long duplicates;
  private volatile long badRecords;
  private volatile long lag = -1;
  private volatile Throwable failure;
  private volatile boolean running = true;

  private ModelReplica(String bootstrapServers, String topic, String clientId) {
    this.topic = topic;
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    p.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId);
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    this.consumer = new KafkaConsumer<>(p);
    this.thread = new Thread(this::loop, "model-replica-" + topic);
    this.thread.setDaemon(true);
  }

  /** Starts a replica of {@code topic}: bootstraps from its first offset, then tails it. */
  public static ModelReplica start(String bootstrapServers, String topic) {
    ModelReplica r = new ModelReplica(bootstrapServers, topic, "streamrec-replica");
    r.thread.start();
    return r;
  }

  private void loop() {
    try {
      List<TopicPartition> parts = partitions();
      consumer.assign(parts);
      consumer.seekToBeginning(parts);
      while (running) {
        ConsumerRecords<byte[], byte[]> batch = consumer.poll(POLL);
        for (ConsumerRecord<byte[], byte[]> r : batch) {
          handle(r);
        }
        updateLag(parts);
      }
    } catch (WakeupException e) {
      // closing
    } catch (RuntimeException e) {
      failure = e;
      LOG.error("model replica of '{}' stopped: {}", topic, e.toString(), e);
    } finally {
      consumer.close();
    }
  }

  private List<TopicPartition> partitions() {
    long deadline = System.currentTimeMillis() + 30_000;
    while (running) {
      List<PartitionInfo> info = consumer.partitionsFor(topic);
      if (info != null && !info.isEmpty()) {
        List<TopicPartition> out = new ArrayList<>();
        info.forEach(i -> out.add(new TopicPartition(i.topic(), i.partition())));
        return out;
      }
      if (System.currentTimeMillis() > deadline) {
        throw new StreamrecException("topic '" + topic + "' does not exist");
      }
      sleep(200);
    }
    return List.of();
  }

  private void updateLag(List<TopicPartition> parts) {
    long total = 0;
    for (Map.Entry<TopicPartition, Long> e : consumer.endOffsets(parts).entrySet()) {
      total += Math.max(0, e.getValue() - consumer.position(e.getKey()));
    }
    lag = total;
  }

  private void handle(ConsumerRecord<byte[], byte[]> r) {
    String key = r.key() == null ? "" : new String(r.key(), StandardCharsets.UTF_8);
    try {
      if (ModelUpdateKeys.isRow(key)) {
        if (r.value() == null) {
          pendingRows.put(key, null);
        } else {
          pendingRows.put(key, values(AvroCodec.decode(r.value(), ModelDelta.class)));
        }
      } else if (key.startsWith("dense/")) {
        ModelDelta d = AvroCodec.decode(r.value(), ModelDelta.class);
        pendingDense.put(d.getTable(), values(d));
      } else if (key.equals(ModelUpdateKeys.SPEC)) {
        ModelSpec s = AvroCodec.decode(r.value(), ModelSpec.class);
        ModelConfig c = ModelConfigJson.fromJson(s.getJson());
        lock.writeLock().lock();
        try {
          config = c;
          scorers = ThreadLocal.withInitial(() -> new ModelScorer(c));
        } finally {
          lock.writeLock().unlock();
        }
      } else if (key.equals(ModelUpdateKeys.VERSION)) {
        apply(AvroCodec.decode(r.value(), VersionMarker.class));
      } else {
        badRecords++;
        LOG.warn("model-updates offset {}: unknown key '{}', skipped", r.offset(), key);
      }
    } catch (MalformedRecordException | NullPointerException e) {
      badRecords++;
      LOG.warn("model-updates offset {} (key '{}'): {}, skipped", r.offset(), key, e.getMessage());
    }
  }

  private static float[] values(ModelDelta d) {
    return RowValues.get(d);
  }

  private void apply(VersionMarker m) {
    long v = m.getVersion();
    if (version != 0 && v <= version) {
      duplicates++;
      LOG.warn("model-updates: version {} again after {}; applying its records as a repeat", v, version);
    } else if (version != 0 && v != version + 1) {
      gaps++;
      LOG.warn("model-updates: gap in versions, {} after {}", v, version);
    }
    lock.writeLock().lock();
    try {
      for (Map.Entry<String, float[]> e : pendingRows.entrySet()) {
        String key = e.getKey();
        Map<Long, float[]> table = rows.computeIfAbsent(ModelUpdateKeys.rowTable(key), t -> new HashMap<>());
        long id = ModelUpdateKeys.rowId(key);
        if (e.getValue() == null) {
          table.remove(id);
        } else {
          table.put(id, e.getValue());
        }
      }
      dense.putAll(pendingDense);
      version = Math.max(version, v);
      lastMarker = m;
      versionsApplied++;
    } finally {
      lock.writeLock().unlock();
    }
    pendingRows.clear();
    pendingDense.clear();
  }

  /**
   * Click probabilities of {@code impressions} in answer to {@code request}, by the newest whole
   * version. Fails with {@link IllegalStateException} before the replica has a model spec.
   */
  public float[] score(RequestEvent request, List<ImpressionEvent> impressions) {
    return score(List.of(RequestUnits.of(request, impressions, request.getTimestampMs())));
  }

  /** Click probabilities of every impression of {@code units}, in order. */
  public float[] score(List<RequestUnit> units) {
    lock.readLock().lock();
    try {
      if (scorers == null) {
        throw new IllegalStateException("the replica has not read a model spec from '" + topic + "' yet");
      }
      return scorers.get().score(units, view);
    } finally {
      lock.readLock().unlock();
    }
  }

  private final ParameterView view = new ParameterView() {
    @Override
    public boolean readRow(String table, long id, float[] out, int offset) {
      Map<Long, float[]> t = rows.get(table);
      float[] v = t == null ? null : t.get(id);
      if (v == null) {
        return false;
      }
      System.arraycopy(v, 0, out, offset, v.length);
      return true;
    }

    @Override
    public float[] dense(String block) {
      return dense.get(block);
    }
  };

  /** Blocks until the replica holds version {@code v} or later; false on timeout. */
  public boolean awaitVersion(long v, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (version < v) {
      if (failure != null) {
        throw new StreamrecException("the replica failed", failure);
      }
      if (System.nanoTime() > deadline) {
        return false;
      }
      Thread.sleep(20);
    }
    return true;
  }

  /** The newest version applied; 0 before the first. */
  public long version() {
    return version;
  }

  /** The marker of the newest version applied, or null. */
  public VersionMarker lastMarker() {
    return lastMarker;
  }

  /** Records on the topic the replica has not read yet (-1 before it knows). */
  public long lag() {
    return lag;
  }

  public long versionsApplied() {
    return versionsApplied;
  }

  /** Versions that did not follow the previous one. */
  public long gaps() {
    return gaps;
  }

  /** Versions seen again. */
  public long duplicates() {
    return duplicates;
  }

  /** Records skipped as unreadable. */
  public long badRecords() {
    return badRecords;
  }

  /** Rows held, over all tables. */
  public long rows() {
    lock.readLock().lock();
    try {
      long n = 0;
      for (Map<Long, float[]> t : rows.values()) {
        n += t.size();
      }
      return n;
    } finally {
      lock.readLock().unlock();
    }
  }

  /** The model's configuration as read from the topic, or null before its spec arrived. */
  public ModelConfig config() {
    return config;
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
