package io.streamrec.cli.kafka;

import io.streamrec.common.StreamrecException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.InvalidRecordException;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.CorruptRecordException;
import org.apache.kafka.common.errors.InvalidTimestampException;
import org.apache.kafka.common.errors.OutOfOrderSequenceException;
import org.apache.kafka.common.errors.RecordBatchTooLargeException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends already-encoded records (topic, key, timestamp, value) with settings fit for loading data:
 * idempotent (Kafka's default, unless the user's own settings rule it out: {@code acks} other than
 * all, {@code retries=0}), acknowledged by all in-sync replicas, LZ4-compressed, batched.
 *
 * <p>Kafka reports most send errors later, on the producer's I/O thread. They are not dropped: the
 * first error per topic and a count are kept, and the next {@link #send} or {@link #flush} throws
 * them as a {@link ProduceFailedException} naming the topic. Sending stops at the first failure
 * because nothing after it can be trusted to be complete and in order. Only a {@link #flush} that
 * returns normally means every record sent so far is written. A caller that can deal with a refused
 * record (a broker refuses a whole batch for one record's timestamp or size) passes a handler to
 * {@link #send(String, byte[], long, byte[], Consumer)}: a refusal that concerns the records, not
 * the connection, the topic or the producer, goes to it instead.
 *
 * <p>Not thread-safe beyond what {@link KafkaProducer} is; one thread sends.
 */
public final class ByteRecordProducer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ByteRecordProducer.class);

  /**
   * A record counts as written only once every in-sync replica has it (required by idempotence).
   */
  static final String ACKS = "all";

  /** Fast to compress and decompress; Avro records with repeated feature names shrink well. */
  static final String COMPRESSION = "lz4";

  /** A bulk load fills batches long before this; a slow generator waits at most this long. */
  static final int LINGER_MS = 20;

  /** Bigger than Kafka's 16 KB default: fewer requests and better compression for bulk loads. */
  static final int BATCH_BYTES = 256 * 1024;

  /** Bound on how long close waits for records still in flight. */
  private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(30);

  private final Producer<byte[], byte[]> producer;
  private final Map<String, Failure> failures = new ConcurrentHashMap<>();
  private final Map<String, AtomicLong> acknowledged = new ConcurrentHashMap<>();
  private volatile boolean failuresReported;

  /** Producer settings for {@code bootstrapServers}, with the tuning above. */
  public static Map<String, Object> settings(String bootstrapServers) {
    Map<String, Object> s = new HashMap<>();
    s.put(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
        Objects.requireNonNull(bootstrapServers, "bootstrapServers"));
    // idempotent (no duplicates from retries, per-partition order kept across them) by Kafka's
    // default: set here, it made the producer refuse a user's acks=1 or retries=0, and produce
    // failed with words about an idempotence the user had not asked for
    s.put(ProducerConfig.ACKS_CONFIG, ACKS);
    s.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, COMPRESSION);
    s.put(ProducerConfig.LINGER_MS_CONFIG, LINGER_MS);
    s.put(ProducerConfig.BATCH_SIZE_CONFIG, BATCH_BYTES);
    s.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
    s.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
    return s;
  }

  public ByteRecordProducer(String bootstrapServers) {
    this(bootstrapServers, Map.of());
  }

  /** {@code overrides} (any producer setting) replace the defaults of {@link #settings}. */
  public ByteRecordProducer(String bootstrapServers, Map<String, ?> overrides) {
    Map<String, Object> s = settings(bootstrapServers);
    s.putAll(overrides);
    this.producer = new KafkaProducer<>(s);
  }

  /** For tests: wraps a producer this object then owns. */
  ByteRecordProducer(Producer<byte[], byte[]> producer) {
    this.producer = Objects.requireNonNull(producer, "producer");
  }

  /** Sends with a UTF-8 key. */
  public void send(String topic, String key, long timestampMs, byte[] value) {
    send(topic, key == null ? null : key.getBytes(StandardCharsets.UTF_8), timestampMs, value);
  }

  /**
   * Sends one record asynchronously; the record's timestamp is {@code timestampMs} (event time).
   *
   * @throws ProduceFailedException if an earlier send has failed, or this one fails at once
   */
  public void send(String topic, byte[] key, long timestampMs, byte[] value) {
    send(topic, key, timestampMs, value, null);
  }

  /**
   * Sends one record asynchronously; a refusal of the record's batch goes to {@code onRefused}
   * (called on the producer's I/O thread) instead of failing the producer. Any other error fails it
   * as {@link #send(String, byte[], long, byte[])} does.
   */
  public void send(
      String topic, byte[] key, long timestampMs, byte[] value, Consumer<Exception> onRefused) {
    throwIfFailed();
    ProducerRecord<byte[], byte[]> record =
        new ProducerRecord<>(topic, null, timestampMs, key, value);
    try {
      producer.send(
          record,
          (metadata, error) -> {
            if (error == null) {
              acknowledged.computeIfAbsent(topic, t -> new AtomicLong()).incrementAndGet();
            } else if (onRefused != null && refusesTheRecords(error)) {
              onRefused.accept(error);
            } else {
              failures.computeIfAbsent(topic, t -> new Failure()).add(error);
            }
          });
    } catch (KafkaException | IllegalArgumentException e) {
      failures.computeIfAbsent(topic, t -> new Failure()).add(e);
      throwIfFailed();
    }
  }

  /**
   * Waits until every record sent so far is written or has failed.
   *
   * @throws ProduceFailedException naming the topic if any send has failed
   */
  public void flush() {
    try {
      producer.flush();
    } catch (KafkaException e) {
      // flush itself fails only when the producer is unusable; the callbacks have the details.
      if (failures.isEmpty()) {
        throw new StreamrecException("flushing the Kafka producer failed: " + e, e);
      }
    }
    throwIfFailed();
  }

  /**
   * Whether {@code error} refuses the records of a batch rather than the client: a bad timestamp,
   * size or record; the plain error the producer gives the other records of a batch the broker
   * refused for one of them; or the sequence break a refused batch leaves behind. Sending the
   * records again one by one then tells the bad one from the rest.
   */
  static boolean refusesTheRecords(Exception error) {
    return error.getClass() == KafkaException.class
        || error instanceof InvalidTimestampException
        || error instanceof RecordTooLargeException
        || error instanceof RecordBatchTooLargeException
        || error instanceof InvalidRecordException
        || error instanceof CorruptRecordException
        || error instanceof OutOfOrderSequenceException;
  }

  /** Records the broker has acknowledged on {@code topic} so far. */
  public long acknowledged(String topic) {
    AtomicLong n = acknowledged.get(topic);
    return n == null ? 0 : n.get();
  }

  /**
   * Sends what is buffered and closes. Failures no {@link #flush} or {@link #send} reported are
   * logged, since close is often reached while another error is already propagating.
   */
  @Override
  public void close() {
    try {
      producer.close(CLOSE_TIMEOUT);
    } catch (KafkaException e) {
      LOG.warn("closing the Kafka producer failed", e);
    }
    if (!failuresReported && !failures.isEmpty()) {
      failures.forEach(
          (topic, f) ->
              LOG.error(
                  "{} records could not be written to topic '{}'", f.count.get(), topic, f.first));
    }
  }

  private void throwIfFailed() {
    if (failures.isEmpty()) {
      return;
    }
    failuresReported = true;
    ProduceFailedException primary = null;
    for (Map.Entry<String, Failure> e : failures.entrySet()) {
      ProduceFailedException ex =
          new ProduceFailedException(e.getKey(), e.getValue().count.get(), e.getValue().first);
      if (primary == null) {
        primary = ex;
      } else {
        primary.addSuppressed(ex);
      }
    }
    throw primary;
  }

  /** The errors of one topic: the first is kept, the rest counted. */
  private static final class Failure {
    final AtomicLong count = new AtomicLong();
    volatile Throwable first;

    synchronized void add(Throwable error) {
      if (first == null) {
        first = error;
      }
      count.incrementAndGet();
    }
  }
}
