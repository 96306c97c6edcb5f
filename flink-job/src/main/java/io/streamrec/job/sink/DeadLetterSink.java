package io.streamrec.job.sink;

import io.streamrec.job.config.InputLimits;
import io.streamrec.job.deadletter.DeadLetters;
import io.streamrec.job.metrics.JobMetrics;
import io.streamrec.schemas.AvroCodec;
import io.streamrec.schemas.DeadLetter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;
import org.apache.flink.metrics.MetricGroup;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes dead letters to their topic so that no dead letter can fail the job. Every letter is cut
 * to fit ({@link DeadLetters#fit}) and carries no record timestamp of its own (a broker's bounds on
 * timestamps cannot refuse it; the source's time is in the letter). A letter the broker still
 * refuses for itself is counted ({@code dead_letters_unwritten}) and logged with where its record
 * came from, and the job goes on; a broker that cannot be reached only delays the letters (the
 * producer retries until it can, and a checkpoint waits for them).
 *
 * <p>At least once: the writer flushes at every checkpoint and at the end of input, so a restore
 * may write a letter twice. Each names its record's topic, partition and offset, which tells the
 * copies apart from distinct records.
 */
public final class DeadLetterSink implements Sink<DeadLetter> {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(DeadLetterSink.class);

  /** How long a writer's close waits for letters the broker has not acknowledged yet. */
  static final Duration CLOSE_WAIT = Duration.ofSeconds(5);

  /** Unwritten letters logged one by one, at most; after that every thousandth. */
  static final int LOGGED_ONE_BY_ONE = 20;

  private final String topic;
  private final Map<String, String> producerProperties;
  private final int maxPayloadBytes;

  /**
   * @param producerProperties the Kafka producer's settings (bootstrap servers and any client
   *     settings), to which the sink adds its own serializers and delivery settings
   */
  public DeadLetterSink(String topic, Map<String, String> producerProperties, int maxPayloadBytes) {
    this.topic = topic;
    this.producerProperties = Map.copyOf(producerProperties);
    this.maxPayloadBytes = Math.min(maxPayloadBytes, InputLimits.DEAD_LETTER_PAYLOAD_CAP);
  }

  @Override
  public SinkWriter<DeadLetter> createWriter(WriterInitContext context) throws IOException {
    return new Writer(
        new KafkaProducer<>(producerSettings(context.getTaskInfo().getIndexOfThisSubtask())),
        topic,
        maxPayloadBytes,
        JobMetrics.group(context.metricGroup()));
  }

  /** The settings of subtask {@code subtask}'s producer: the user's, then the sink's defaults. */
  Properties producerSettings(int subtask) {
    Properties p = new Properties();
    p.putAll(producerProperties);
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    p.putIfAbsent(ProducerConfig.ACKS_CONFIG, "all");
    // idempotent by Kafka's default: set here, it made the producer refuse a user's acks=1 or
    // retries=0, and every start of the job failed with it
    p.putIfAbsent(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
    p.putIfAbsent(ProducerConfig.LINGER_MS_CONFIG, KafkaSinks.LINGER_MS);
    // an unreachable broker delays letters; only what a broker refuses outright is given up. A
    // send also waits for the topic's metadata, which the producer lacks before its first letter
    // and forgets after five minutes without one: under Kafka's minute of max.block.ms, each letter
    // of an outage failed after a minute and was lost (counted as unwritten)
    p.putIfAbsent(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, KafkaSinks.AT_LEAST_ONCE_WAIT_MS);
    p.putIfAbsent(ProducerConfig.MAX_BLOCK_MS_CONFIG, KafkaSinks.AT_LEAST_ONCE_WAIT_MS);
    p.putIfAbsent(ProducerConfig.CLIENT_ID_CONFIG, "streamrec-dead-letters-" + subtask);
    return p;
  }

  /** The sink's writer: one producer per subtask. */
  public static final class Writer implements SinkWriter<DeadLetter> {
    private final Producer<byte[], byte[]> producer;
    private final String topic;
    private final int maxPayloadBytes;
    private final AtomicLong written = new AtomicLong();
    private final AtomicLong unwritten = new AtomicLong();

    /** Writes through {@code producer}, which it then owns, counting into {@code metrics}. */
    public Writer(
        Producer<byte[], byte[]> producer, String topic, int maxPayloadBytes, MetricGroup metrics) {
      this.producer = producer;
      this.topic = topic;
      this.maxPayloadBytes = maxPayloadBytes;
      metrics.gauge(JobMetrics.DEAD_LETTERS_WRITTEN, written::get);
      metrics.gauge(JobMetrics.DEAD_LETTERS_UNWRITTEN, unwritten::get);
    }

    @Override
    public void write(DeadLetter letter, Context context) {
      write(letter);
    }

    /** Sends one letter, cut to fit. */
    public void write(DeadLetter letter) {
      DeadLetter d = DeadLetters.fit(letter, maxPayloadBytes);
      byte[] key = d.getKey() == null ? null : d.getKey().getBytes(StandardCharsets.UTF_8);
      String origin =
          d.getReason()
              + " letter of "
              + d.getSourceTopic()
              + "/"
              + d.getSourcePartition()
              + "@"
              + d.getSourceOffset();
      producer.send(
          new ProducerRecord<>(topic, null, null, key, AvroCodec.encode(d)),
          (meta, error) -> {
            if (error == null) {
              written.incrementAndGet();
              return;
            }
            long n = unwritten.incrementAndGet();
            if (n <= LOGGED_ONE_BY_ONE || n % 1000 == 0) {
              LOG.warn(
                  "could not write the {} to '{}' ({} unwritten so far): {}",
                  origin,
                  topic,
                  n,
                  error.toString());
            }
          });
    }

    @Override
    public void flush(boolean endOfInput) {
      producer.flush();
    }

    /**
     * Waits up to {@link #CLOSE_WAIT} for letters the broker has not acknowledged, then gives them
     * up: a checkpoint flushed every letter before it, and a restore writes those after it again.
     * Without a limit, a job stopped or failed over while the broker was away waited in this close
     * for the broker, where Flink does not interrupt it, until Flink's cancellation watchdog killed
     * the task manager (after {@code task.cancellation.timeout}, 3 minutes).
     */
    @Override
    public void close() {
      producer.close(CLOSE_WAIT);
    }

    /** Letters the broker has acknowledged so far. */
    public long written() {
      return written.get();
    }

    /** Letters the broker refused so far (the first twenty logged one by one). */
    public long unwritten() {
      return unwritten.get();
    }
  }
}
