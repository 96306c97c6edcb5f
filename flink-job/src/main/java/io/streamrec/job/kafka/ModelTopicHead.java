package io.streamrec.job.kafka;

import io.streamrec.common.KafkaClientProperties;
import io.streamrec.common.LongIntHashMap;
import io.streamrec.protocol.MalformedModelUpdateException;
import io.streamrec.protocol.ModelUpdate;
import io.streamrec.protocol.ModelUpdateDecoder;
import io.streamrec.protocol.ModelUpdateKeys;
import io.streamrec.schemas.VersionMarker;
import java.io.Serializable;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeMap;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a model-updates topic holds, read by the trainer before it publishes: the newest version
 * marker (whose lineage and version the trainer checks its own against), and on a replace the rows
 * of other lineages that are still current on the topic (which it tombstones). One partition, read
 * {@code read_committed}, without a consumer group.
 */
public final class ModelTopicHead implements Serializable {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(ModelTopicHead.class);
  private static final Duration POLL = Duration.ofMillis(500);

  /** Records read back from the end per step while looking for the newest marker (it doubles). */
  private static final long FIRST_STEP = 4_096;

  private final String bootstrapServers;
  private final KafkaClientProperties properties;
  private final String topic;
  private final long timeoutMs;

  public ModelTopicHead(
      String bootstrapServers, KafkaClientProperties properties, String topic, Duration timeout) {
    this.bootstrapServers = bootstrapServers;
    this.properties = properties;
    this.topic = topic;
    this.timeoutMs = timeout.toMillis();
  }

  /** The id of the Kafka cluster the topic is on. */
  public String clusterId() {
    return KafkaPreflight.clusterId(bootstrapServers, properties);
  }

  /**
   * Rows of the topic by table: each table's ids in ascending unsigned order. Held as primitive
   * arrays: a replaced model may have tens of millions of rows.
   */
  public record Rows(Map<String, long[]> byTable) {
    public static final Rows NONE = new Rows(Map.of());

    public long count() {
      long n = 0;
      for (long[] ids : byTable.values()) {
        n += ids.length;
      }
      return n;
    }
  }

  /** The newest version marker on the topic; empty when it holds none (or does not exist). */
  public Optional<VersionMarker> newestMarker() {
    return head().marker();
  }

  /**
   * Whether the topic holds rows or tombstones after its newest version marker (or, holding none,
   * at all): a publish that a failure cut short, whose marker never came. A trainer restored at
   * that marker's version publishes the next one again over them.
   */
  public boolean rowsAfterNewestMarker() {
    return head().rowsAfter();
  }

  /** The newest marker, and whether row entries follow it. */
  private record Head(Optional<VersionMarker> marker, boolean rowsAfter) {}

  private Head head() {
    try (KafkaConsumer<byte[], byte[]> c = consumer()) {
      TopicPartition tp = partition(c);
      if (tp == null) {
        return new Head(Optional.empty(), false);
      }
      long start = c.beginningOffsets(List.of(tp)).get(tp);
      long end = c.endOffsets(List.of(tp)).get(tp);
      long step = FIRST_STEP;
      long to = end;
      // rows in the ranges read so far, all after the newest marker (none in them)
      boolean rowsLater = false;
      while (to > start) {
        long from = Math.max(start, to - step);
        VersionMarker[] last = {null};
        boolean[] rowsAfterLast = {false};
        readRange(
            c,
            tp,
            from,
            to,
            r -> {
              String k = r.key() == null ? "" : key(r);
              if (ModelUpdateKeys.isRow(k)) {
                rowsAfterLast[0] = true;
              } else if (ModelUpdateKeys.VERSION.equals(k)) {
                try {
                  ModelUpdate u = ModelUpdateDecoder.decode(r.key(), r.value());
                  if (u instanceof ModelUpdate.Version v) {
                    last[0] = v.marker();
                    rowsAfterLast[0] = false;
                  }
                } catch (MalformedModelUpdateException e) {
                  LOG.warn("model-updates topic '{}': skipped an unreadable marker: {}", topic, e);
                }
              }
            });
        if (last[0] != null) {
          return new Head(Optional.of(last[0]), rowsLater || rowsAfterLast[0]);
        }
        rowsLater |= rowsAfterLast[0];
        to = from;
        step *= 2;
      }
      return new Head(Optional.empty(), rowsLater);
    }
  }

  /**
   * The rows whose current value on the topic (the latest under their key, not a tombstone) belongs
   * to a lineage other than {@code model}: a full read of the topic.
   */
  public Rows rowsNotOf(long model) {
    Map<String, long[]> out = new TreeMap<>();
    rows(m -> m != model, "for the rows to replace")
        .forEach(
            (table, ids) -> {
              long[] sorted = ids.keys();
              if (sorted.length > 0) {
                // ascending unsigned: flip the sign bit, sort signed, flip back
                for (int i = 0; i < sorted.length; i++) {
                  sorted[i] ^= Long.MIN_VALUE;
                }
                Arrays.sort(sorted);
                for (int i = 0; i < sorted.length; i++) {
                  sorted[i] ^= Long.MIN_VALUE;
                }
                out.put(table, sorted);
              }
            });
    return new Rows(out);
  }

  /**
   * The rows whose current value on the topic belongs to the lineage {@code model}, per table its
   * ids, each mapped to the {@link #valueHash} of its values, in no order: a full read of the
   * topic.
   */
  public Map<String, LongIntHashMap> rowsOf(long model) {
    return rows(m -> m == model, "for the rows of this model");
  }

  /** The rows whose current value on the topic is of a lineage that {@code of} accepts. */
  private Map<String, LongIntHashMap> rows(java.util.function.LongPredicate of, String why) {
    Map<String, LongIntHashMap> kept = new TreeMap<>();
    try (KafkaConsumer<byte[], byte[]> c = consumer()) {
      TopicPartition tp = partition(c);
      if (tp == null) {
        return kept;
      }
      long start = c.beginningOffsets(List.of(tp)).get(tp);
      long end = c.endOffsets(List.of(tp)).get(tp);
      long[] read = {0};
      readRange(
          c,
          tp,
          start,
          end,
          r -> {
            if (++read[0] % 1_000_000 == 0) {
              LOG.info(
                  "model-updates topic '{}': {} of {} records read {}",
                  topic,
                  read[0],
                  end - start,
                  why);
            }
            String k = r.key() == null ? "" : key(r);
            if (!ModelUpdateKeys.isRow(k)) {
              return;
            }
            String table;
            long id;
            boolean wanted = false;
            int hash = 0;
            ModelUpdate u;
            try {
              u = ModelUpdateDecoder.decode(r.key(), r.value());
            } catch (MalformedModelUpdateException e) {
              u = null;
            }
            if (u instanceof ModelUpdate.Row row) {
              table = row.table();
              id = row.id();
              wanted = of.test(row.model());
              hash = valueHash(row.values());
            } else if (u instanceof ModelUpdate.Tombstone t) {
              table = t.table();
              id = t.id();
            } else {
              // an unreadable row: whatever it held before is no longer current
              try {
                table = ModelUpdateKeys.rowTable(k);
                id = ModelUpdateKeys.rowId(k);
              } catch (RuntimeException e) {
                return; // not a row key a trainer writes: nothing to tombstone
              }
            }
            if (wanted) {
              kept.computeIfAbsent(table, t -> new LongIntHashMap(1 << 10)).put(id, hash);
            } else if (kept.containsKey(table)) {
              kept.get(table).remove(id);
            }
          });
    }
    return kept;
  }

  /**
   * A hash of a row's values as a reader decodes them (widened to float32), in [2^30, 2^31): never
   * one of the small values or {@link LongIntHashMap#MISSING} that the maps of rows use as marks.
   */
  public static int valueHash(float[] values) {
    return (java.util.Arrays.hashCode(values) & 0x3FFF_FFFF) | 0x4000_0000;
  }

  private static String key(ConsumerRecord<byte[], byte[]> r) {
    return new String(r.key(), java.nio.charset.StandardCharsets.UTF_8);
  }

  /**
   * The version markers written to the topic from now on: a consumer positioned at the topic's end
   * when this is called. Empty when the topic does not exist yet.
   */
  public Optional<MarkerTail> tailFromEnd() {
    KafkaConsumer<byte[], byte[]> c = consumer();
    try {
      TopicPartition tp = partition(c);
      if (tp == null) {
        c.close();
        return Optional.empty();
      }
      c.seekToEnd(List.of(tp));
      c.position(tp);
      return Optional.of(new MarkerTail(c, tp));
    } catch (RuntimeException e) {
      c.close();
      throw e;
    }
  }

  /** See {@link #tailFromEnd}. */
  public static final class MarkerTail implements AutoCloseable {
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final TopicPartition tp;

    private MarkerTail(KafkaConsumer<byte[], byte[]> consumer, TopicPartition tp) {
      this.consumer = consumer;
      this.tp = tp;
    }

    /** The markers among the records that came within {@code wait}, in topic order. */
    public List<VersionMarker> poll(Duration wait) {
      List<VersionMarker> out = new java.util.ArrayList<>();
      for (ConsumerRecord<byte[], byte[]> r : consumer.poll(wait).records(tp)) {
        if (r.key() != null && ModelUpdateKeys.VERSION.equals(key(r))) {
          try {
            if (ModelUpdateDecoder.decode(r.key(), r.value()) instanceof ModelUpdate.Version v) {
              out.add(v.marker());
            }
          } catch (MalformedModelUpdateException e) {
            // a reader skips what it cannot read (docs/model-updates.md, section 6)
          }
        }
      }
      return out;
    }

    /** Ends a poll under way, from another thread. */
    public void wakeup() {
      consumer.wakeup();
    }

    @Override
    public void close() {
      consumer.close(Duration.ofSeconds(1));
    }
  }

  private interface RecordVisitor {
    void accept(ConsumerRecord<byte[], byte[]> r);
  }

  /**
   * Reads the records at offsets {@code [from, to)}; fails when the read stays at one position for
   * the timeout. The timeout bounds a read that makes no progress, not the whole read: a full read
   * of a large model's topic takes longer, and bounded as a whole it failed the trainer's start at
   * every restart.
   */
  private void readRange(
      KafkaConsumer<byte[], byte[]> c, TopicPartition tp, long from, long to, RecordVisitor v) {
    c.seek(tp, from);
    long at = from;
    long deadline = System.currentTimeMillis() + timeoutMs;
    while (true) {
      long position = c.position(tp);
      if (position >= to) {
        return;
      }
      if (position > at) {
        at = position;
        deadline = System.currentTimeMillis() + timeoutMs;
      } else if (System.currentTimeMillis() > deadline) {
        throw new KafkaAccessException(
            "model-updates topic '"
                + topic
                + "' could not be read past offset "
                + position
                + " (of "
                + to
                + ") for "
                + timeoutMs
                + " ms",
            null);
      }
      for (ConsumerRecord<byte[], byte[]> r : c.poll(POLL).records(tp)) {
        if (r.offset() >= to) {
          return;
        }
        v.accept(r);
      }
    }
  }

  /**
   * Waits up to {@code wait} until no transaction is open on the topic (its committed end, what
   * {@code read_committed} reads to, is its high watermark); whether that came. A restored job's
   * sink commits the transaction of the checkpoint it restored, or aborts those after it, in a task
   * of its own, while the trainer reads the head: until then the head may be short of versions the
   * checkpoint published.
   */
  public boolean awaitNoOpenTransaction(Duration wait) throws InterruptedException {
    long deadline = System.nanoTime() + wait.toNanos();
    try (KafkaConsumer<byte[], byte[]> committed = consumer();
        KafkaConsumer<byte[], byte[]> all = consumer("read_uncommitted")) {
      TopicPartition tp = partition(committed);
      if (tp == null) {
        return true;
      }
      while (true) {
        long lastStable = committed.endOffsets(List.of(tp)).get(tp);
        long highWatermark = all.endOffsets(List.of(tp)).get(tp);
        if (lastStable >= highWatermark) {
          return true;
        }
        if (System.nanoTime() > deadline) {
          return false;
        }
        Thread.sleep(POLL.toMillis());
      }
    }
  }

  /** The topic's one partition, or null when the topic does not exist yet. */
  private TopicPartition partition(KafkaConsumer<byte[], byte[]> c) {
    var parts = c.partitionsFor(topic, Duration.ofMillis(timeoutMs));
    if (parts == null || parts.isEmpty()) {
      return null;
    }
    TopicPartition tp = new TopicPartition(topic, 0);
    c.assign(List.of(tp));
    return tp;
  }

  private KafkaConsumer<byte[], byte[]> consumer() {
    return consumer("read_committed");
  }

  private KafkaConsumer<byte[], byte[]> consumer(String isolation) {
    Properties p = new Properties();
    p.putAll(properties.asMap());
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation);
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "5000");
    p.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, String.valueOf(timeoutMs));
    return new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
  }
}
