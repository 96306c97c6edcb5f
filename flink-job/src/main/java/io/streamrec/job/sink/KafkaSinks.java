package io.streamrec.job.sink;

import io.streamrec.common.Sha256;
import io.streamrec.job.config.JobConfig;
import io.streamrec.job.kafka.KafkaPreflight;
import io.streamrec.model.units.CompactUnit;
import io.streamrec.model.units.CompactUnitCodec;
import io.streamrec.protocol.ModelTopicPartitions;
import io.streamrec.protocol.ModelUpdateRecord;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListTransactionsOptions;
import org.apache.kafka.clients.admin.TransactionListing;
import org.apache.kafka.clients.admin.TransactionState;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The job's Kafka sinks. All use idempotent producers with lz4 compression and the user's client
 * settings ({@code properties.*}: security, tuning); the model-updates sink keeps the trainer's
 * order (one partition, one writer), which the version protocol relies on.
 */
public final class KafkaSinks {
  /**
   * Batch records for up to this long: a few ms of latency for much larger, better-compressed
   * batches.
   */
  static final String LINGER_MS = "5";

  /** Producer batch size: a publish holds many small rows. */
  static final String BATCH_BYTES = String.valueOf(256 * 1024);

  /**
   * Transactions must outlive a checkpoint interval and an outage; 15 min is the broker's default
   * maximum ({@code properties.transaction.timeout.ms} sets another).
   */
  static final String TRANSACTION_TIMEOUT_MS = String.valueOf(15 * 60 * 1000);

  /**
   * An at-least-once sink's records wait for the broker however long it is away: with Kafka's
   * default of 2 minutes, a version published just before an outage expired in the producer and
   * failed the job; and a send that waits for the topic's metadata ({@code max.block.ms}, 60 s by
   * default) failed it after a minute. The sink's task waits instead, as its input does, and a
   * checkpoint with it, up to the checkpoint's own timeout.
   */
  static final String AT_LEAST_ONCE_WAIT_MS = String.valueOf(Integer.MAX_VALUE);

  private static final Logger LOG = LoggerFactory.getLogger(KafkaSinks.class);

  private KafkaSinks() {}

  /**
   * The model-updates sink; exactly-once, one whose transaction is aborted before its commit fails
   * the job ({@link LostCommitCheck}).
   */
  public static Sink<ModelUpdateRecord> modelUpdates(JobConfig cfg, boolean backfill) {
    String topic = cfg.modelUpdatesTopic();
    KafkaSink<ModelUpdateRecord> sink =
        sink(cfg, modelUpdateRecords(topic), transactionalIdPrefix(cfg, backfill, "model-updates"));
    return cfg.exactlyOnce()
        ? new LostCommitCheck<>(sink, "model-updates topic '" + topic + "'")
        : sink;
  }

  /**
   * The model's records, every one to the topic's partition of the model ({@link
   * ModelTopicPartitions#MODEL}): a version marker closes the deltas before it only within one
   * partition. Left to the producer, records went by their keys' hash to partitions added to the
   * topic while the job ran (once its producer saw them, within {@code metadata.max.age.ms}), and a
   * replica reading the one partition it had found served versions without the rows and dense
   * blocks sent to the others.
   */
  static KafkaRecordSerializationSchema<ModelUpdateRecord> modelUpdateRecords(String topic) {
    return (r, ctx, ts) ->
        new ProducerRecord<>(topic, ModelTopicPartitions.MODEL, r.timestampMs, r.key, r.value);
  }

  /**
   * The transactional ids of one job's sink of {@code kind} (exactly-once only): named by the job's
   * group and model-updates topic, and whether it is a backfill. On its start a sink aborts the
   * open transactions of its prefix, so two jobs of one prefix (two models' live jobs, a live job
   * and a backfill) would abort each other's; one fixed prefix for every job made them share.
   *
   * <p>The readable part alone is ambiguous: names hold dashes, so group {@code ctr} with topic
   * {@code eu-model-updates} and group {@code ctr-eu} with topic {@code model-updates} read the
   * same, and one job's prefix may begin another's ids. The prefix ends with a hash of the four
   * parts, so that neither happens; it still begins {@code streamrec-<group>-<topic>-}, which the
   * ACLs of docs/deploy.md grant.
   */
  public static String transactionalIdPrefix(JobConfig cfg, boolean backfill, String kind) {
    String readable =
        "streamrec-"
            + cfg.groupId()
            + "-"
            + cfg.modelUpdatesTopic()
            + (backfill ? "-backfill-" : "-")
            + kind;
    String parts =
        String.join("\0", cfg.groupId(), cfg.modelUpdatesTopic(), String.valueOf(backfill), kind);
    return readable
        + "-"
        + Sha256.hex(parts.getBytes(StandardCharsets.UTF_8)).substring(0, PREFIX_HASH_CHARS);
  }

  /** Hex digits of the prefix's hash: 48 bits. */
  static final int PREFIX_HASH_CHARS = 12;

  /**
   * An at-least-once job's start: aborts the transactions an exactly-once run of the same job left
   * open (killed inside one, then started again at-least-once), which would otherwise hold every
   * reader of committed records (replicas, a units-log reader) back until the broker times them
   * out, the records this job writes after them included. An exactly-once sink does this itself on
   * its start. Nothing is aborted where none is open; a user not allowed to describe or write the
   * transactional ids is told what that leaves, and the job goes on.
   */
  public static void abortLeftOpenTransactions(JobConfig cfg, boolean backfill) {
    if (cfg.exactlyOnce()) {
      return;
    }
    List<String> prefixes = new ArrayList<>();
    prefixes.add(transactionalIdPrefix(cfg, backfill, "model-updates") + "-");
    prefixes.add(transactionalIdPrefix(cfg, backfill, "request-units") + "-");
    List<String> open;
    try (Admin admin = KafkaPreflight.admin(cfg.bootstrapServers(), cfg.kafkaProperties())) {
      open =
          admin
              .listTransactions(
                  new ListTransactionsOptions().filterStates(List.of(TransactionState.ONGOING)))
              .all()
              .get(KafkaPreflight.TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
              .stream()
              .map(TransactionListing::transactionalId)
              .filter(id -> prefixes.stream().anyMatch(id::startsWith))
              .sorted()
              .toList();
    } catch (ExecutionException | java.util.concurrent.TimeoutException | RuntimeException e) {
      LOG.info(
          "could not list the transactions an exactly-once run of this job may have left open"
              + " ({}); if one is, replicas stay at the version before it until the broker aborts"
              + " it (docs/deploy.md)",
          e instanceof ExecutionException ? e.getCause() : e);
      return;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return;
    }
    for (String id : open) {
      Map<String, Object> settings = new HashMap<>(producerSettings(cfg));
      settings.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, id);
      settings.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, (int) KafkaPreflight.TIMEOUT.toMillis());
      try (KafkaProducer<byte[], byte[]> p =
          new KafkaProducer<>(settings, new ByteArraySerializer(), new ByteArraySerializer())) {
        // a new epoch of the id: the broker aborts the transaction its earlier epoch left open
        p.initTransactions();
        LOG.warn(
            "aborted transaction '{}', left open by an exactly-once run of this job: it held"
                + " readers of committed records back, replicas at the version before it",
            id);
      } catch (RuntimeException e) {
        LOG.warn(
            "could not abort transaction '{}', left open by an exactly-once run of this job ({}):"
                + " replicas stay at the version before it until the broker aborts it"
                + " (docs/deploy.md)",
            id,
            e.toString());
      }
    }
  }

  /** The client settings of every producer of the job: the broker and its properties.* keys. */
  private static java.util.Map<String, String> producerSettings(JobConfig cfg) {
    java.util.Map<String, String> m = new java.util.HashMap<>(cfg.kafkaProperties().asMap());
    m.put("bootstrap.servers", cfg.bootstrapServers());
    return m;
  }

  /** The producer's default {@code max.request.size}. */
  static final long DEFAULT_MAX_REQUEST_BYTES = 1_048_576;

  /**
   * The largest record the sinks' producers take: {@code properties.max.request.size}, or Kafka's
   * default; a value that is no number is left to the producer, which refuses it by name.
   */
  public static long maxRequestBytes(JobConfig cfg) {
    return maxRequestBytes(cfg.kafkaProperties().asMap().get("max.request.size"));
  }

  /**
   * {@code set} ({@code properties.max.request.size}, null where not given) in bytes: Kafka's
   * default where null, {@link Long#MAX_VALUE} where it is no number (no limit to check against:
   * the producer refuses it by name).
   */
  public static long maxRequestBytes(String set) {
    if (set != null) {
      try {
        return Long.parseLong(set.strip());
      } catch (NumberFormatException e) {
        return Long.MAX_VALUE;
      }
    }
    return DEFAULT_MAX_REQUEST_BYTES;
  }

  /** The dead-letter topic's sink: see {@link DeadLetterSink}. */
  public static DeadLetterSink deadLetters(JobConfig cfg) {
    return new DeadLetterSink(
        cfg.deadLettersTopic(), producerSettings(cfg), cfg.limits().deadLetterMaxPayloadBytes());
  }

  /**
   * The request-units topic: a unit's {@link CompactUnitCodec} bytes keyed by its request id, with
   * the unit's close time as the record's timestamp (what a backfill's range and watermarks use),
   * in partitions of the writing subtask's own ({@link UnitRecords}).
   */
  public static Sink<CompactUnit> requestUnits(JobConfig cfg, boolean backfill) {
    String topic = cfg.requestUnitsTopic();
    KafkaRecordSerializationSchema<CompactUnit> ser = new UnitRecords(topic);
    KafkaSink<CompactUnit> sink =
        sink(cfg, ser, transactionalIdPrefix(cfg, backfill, "request-units"));
    return cfg.exactlyOnce()
        ? new LostCommitCheck<>(sink, "request-units topic '" + topic + "'", false)
        : sink;
  }

  private static <T> KafkaSink<T> sink(
      JobConfig cfg, KafkaRecordSerializationSchema<T> ser, String txPrefix) {
    var b =
        KafkaSink.<T>builder().setBootstrapServers(cfg.bootstrapServers()).setRecordSerializer(ser);
    java.util.Map<String, String> settings = sinkSettings(cfg);
    refuseSettingsTheProducerRefuses(cfg.bootstrapServers(), settings);
    settings.forEach(b::setProperty);
    if (cfg.exactlyOnce()) {
      b.setDeliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE).setTransactionalIdPrefix(txPrefix);
    } else {
      b.setDeliveryGuarantee(DeliveryGuarantee.AT_LEAST_ONCE);
    }
    return b.build();
  }

  /**
   * Refuses, as the job is built, sink settings Kafka's producer refuses: the user's {@code
   * properties.retries=0}, or more than 5 requests in flight, beside the idempotence the sinks
   * need, or a value Kafka does not take. The producers are made only as the sinks' tasks start, so
   * each start failed with it and the job restarted for ever.
   */
  static void refuseSettingsTheProducerRefuses(
      String bootstrapServers, java.util.Map<String, String> settings) {
    java.util.Map<String, Object> all = new HashMap<>(settings);
    all.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    all.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
    all.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
    try {
      new ProducerConfig(all);
    } catch (org.apache.kafka.common.config.ConfigException e) {
      throw new IllegalArgumentException(
          "the Kafka client settings (properties.*) make a producer Kafka refuses for the job's"
              + " sinks, which write idempotently with acks=all: "
              + e.getMessage(),
          e);
    }
  }

  /** The transaction timeout of an exactly-once job's sinks, in ms. */
  public static long transactionTimeoutMs(JobConfig cfg) {
    return transactionTimeoutMs(cfg.kafkaProperties().asMap());
  }

  /**
   * The transaction timeout, in ms, of exactly-once sinks under the user's client settings {@code
   * user}: theirs, or ours (15 minutes).
   *
   * @throws IllegalArgumentException if the user's is no number of milliseconds
   */
  public static long transactionTimeoutMs(java.util.Map<String, String> user) {
    String v = user.getOrDefault("transaction.timeout.ms", TRANSACTION_TIMEOUT_MS);
    try {
      return Long.parseLong(v.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "properties.transaction.timeout.ms is not a number of milliseconds: '" + v + "'");
    }
  }

  /**
   * The sinks' producer settings: ours for throughput, the user's client settings over them
   * (security, tuning, and an exactly-once sink's {@code transaction.timeout.ms}, which must not
   * pass the broker's {@code transaction.max.timeout.ms}: set over ours it was replaced by our 15
   * minutes, so a cluster that allows less could not run exactly-once), then what the guarantees
   * need.
   */
  static java.util.Map<String, String> sinkSettings(JobConfig cfg) {
    java.util.Map<String, String> p = new java.util.LinkedHashMap<>();
    p.put("compression.type", "lz4");
    p.put("linger.ms", LINGER_MS);
    p.put("batch.size", BATCH_BYTES);
    if (cfg.exactlyOnce()) {
      p.put("transaction.timeout.ms", TRANSACTION_TIMEOUT_MS);
    } else {
      p.put("delivery.timeout.ms", AT_LEAST_ONCE_WAIT_MS);
      p.put("max.block.ms", AT_LEAST_ONCE_WAIT_MS);
    }
    p.putAll(cfg.kafkaProperties().asMap());
    p.put("enable.idempotence", "true");
    p.put("acks", "all");
    return p;
  }
}
