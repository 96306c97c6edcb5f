package io.streamrec.job.config;

import static org.apache.flink.configuration.ConfigOptions.key;

import java.time.Duration;
import org.apache.flink.configuration.ConfigOption;

/**
 * The job's configuration keys: topics, sources, the assembler, the trainer and the sinks. The
 * model's own keys are in {@link ModelOptions}. Every key has a default except the broker address;
 * {@link JobConfig#from} validates them all at start-up.
 */
public final class JobOptions {
  private JobOptions() {}

  public static final ConfigOption<String> BOOTSTRAP_SERVERS =
      key("kafka.bootstrap-servers")
          .stringType()
          .noDefaultValue()
          .withDescription("Kafka bootstrap servers, host:port[,host:port...].");
  public static final ConfigOption<String> GROUP_ID =
      key("kafka.group-id")
          .stringType()
          .defaultValue("streamrec")
          .withDescription(
              "Consumer group of the job's Kafka sources (offsets are committed on checkpoints).");

  public static final ConfigOption<Boolean> RESUME_ON_OTHER_CLUSTER =
      key("kafka.resume-on-other-cluster")
          .booleanType()
          .defaultValue(false)
          .withDescription(
              "A checkpoint holds the offsets its job read up to in one Kafka cluster (its cluster"
                  + " id), and a job of another cluster refuses it: there the offsets point at other"
                  + " records, and records would be skipped or trained twice. True: resume it anyway,"
                  + " the offsets taken as they are. Only where the topics were copied with their"
                  + " offsets (a cluster restored from a backup, a link that keeps offsets);"
                  + " MirrorMaker does not keep them.");

  public static final ConfigOption<String> REQUESTS_TOPIC =
      key("topics.requests")
          .stringType()
          .defaultValue("requests")
          .withDescription(
              "Topic of RequestEvent records (Avro single-object encoding), keyed by request id.");
  public static final ConfigOption<String> IMPRESSIONS_TOPIC =
      key("topics.impressions")
          .stringType()
          .defaultValue("impressions")
          .withDescription("Topic of ImpressionEvent records, keyed by request id.");
  public static final ConfigOption<String> DEAD_LETTERS_TOPIC =
      key("topics.dead-letters")
          .stringType()
          .defaultValue("dead-letters")
          .withDescription("Topic for records the job cannot train on, each with its reason.");
  public static final ConfigOption<String> MODEL_UPDATES_TOPIC =
      key("topics.model-updates")
          .stringType()
          .defaultValue("model-updates")
          .withDescription(
              "Compacted topic the trainer publishes model deltas and version markers to.");
  public static final ConfigOption<String> REQUEST_UNITS_TOPIC =
      key("topics.request-units")
          .stringType()
          .defaultValue("request-units")
          .withDescription(
              "Topic for the assembled training units, when sink.request-units.enabled.");

  public static final ConfigOption<String> SOURCE_KIND =
      key("source.kind")
          .stringType()
          .defaultValue("events")
          .withDescription(
              "What the job trains from: events (the requests and impressions topics, joined into"
                  + " units) or units (the request-units topic another run wrote: no join, the same"
                  + " model as from the events it was made of).");
  public static final ConfigOption<Duration> UNITS_MAX_OUT_OF_ORDERNESS =
      key("source.units.max-out-of-orderness")
          .durationType()
          .noDefaultValue()
          .withDescription(
              "With source.kind=units: how far behind the newest close time a unit may be read and"
                  + " still train where it belongs; default this job's assembler.join-window plus"
                  + " source.max-out-of-orderness, not those of the job that wrote the log. Each"
                  + " partition of the log is in close order and needs none; where writers shared"
                  + " partitions (fewer partitions than their assembler.parallelism, a restart with"
                  + " another), units are behind by the writers' drift (in a backfill up to tens of"
                  + " seconds): raise it where late_units counts units (docs/request-units.md).");

  public static final ConfigOption<Duration> MAX_OUT_OF_ORDERNESS =
      key("source.max-out-of-orderness")
          .durationType()
          .defaultValue(Duration.ofSeconds(2))
          .withDescription(
              "How far behind the newest event time an event may arrive and still be on time.");
  public static final ConfigOption<Duration> IDLE_TIMEOUT =
      key("source.idle-timeout")
          .durationType()
          .defaultValue(Duration.ofSeconds(30))
          .withDescription(
              "A partition silent this long stops holding back the watermark (0 = never); a topic"
                  + " whose every partition is, while the other's go on, is still waited for"
                  + " (assembler.silent-input-wait, docs/deploy.md).");
  public static final ConfigOption<Integer> MAX_RECORD_BYTES =
      key("source.max-record-bytes")
          .intType()
          .defaultValue(1 << 20)
          .withDescription(
              "Input records larger than this go to the dead-letter topic as too_large.");
  public static final ConfigOption<Integer> MAX_RECORDS_PER_SECOND =
      key("source.max-records-per-second")
          .intType()
          .defaultValue(0)
          .withDescription(
              "Throttle: records per second read from each input topic, all its source subtasks together"
                  + " (0 = unlimited). Spares a shared cluster during a backfill; the results do not depend on it,"
                  + " except for records later than the watermark (see docs/deploy.md, Backfill).");

  public static final ConfigOption<Duration> JOIN_WINDOW =
      key("assembler.join-window")
          .durationType()
          .defaultValue(Duration.ofSeconds(10))
          .withDescription(
              "Impressions join their request up to this long after the request's event time.");
  public static final ConfigOption<Duration> SILENT_INPUT_WAIT =
      key("assembler.silent-input-wait")
          .durationType()
          .defaultValue(Duration.ofMinutes(5))
          .withDescription(
              "How long the join waits for an input topic whose partitions have all fallen silent"
                  + " (source.idle-timeout) while the other topic's go on, as when its producer"
                  + " stalls or the broker comes back from an outage: its events of that time still"
                  + " join; once it moves again, it is held for one more source.idle-timeout for"
                  + " all its partitions to come back. Past the wait the other topic's events alone"
                  + " move event time, and what the silent one sends later arrives late. 0 = no"
                  + " wait.");
  public static final ConfigOption<Integer> MAX_IMPRESSIONS_PER_UNIT =
      key("assembler.max-impressions-per-unit")
          .intType()
          .defaultValue(1000)
          .withDescription(
              "Impressions beyond this in one request go to the dead-letter topic as too_large.");
  public static final ConfigOption<Integer> ASSEMBLER_PARALLELISM =
      key("assembler.parallelism")
          .intType()
          .defaultValue(1)
          .withDescription(
              "Parallelism of the sources and the assembler (the trainer always runs with 1).");

  public static final ConfigOption<Integer> BATCH_MAX_UNITS =
      key("trainer.batch.max-units")
          .intType()
          .defaultValue(256)
          .withDescription("Request units per minibatch at most.");
  public static final ConfigOption<Duration> BATCH_MAX_WAIT =
      key("trainer.batch.max-wait")
          .durationType()
          .defaultValue(Duration.ofSeconds(1))
          .withDescription(
              "A minibatch closes once its first unit is this old in event time, full or not.");
  public static final ConfigOption<Duration> PUBLISH_INTERVAL =
      key("trainer.publish-interval")
          .durationType()
          .defaultValue(Duration.ofSeconds(5))
          .withDescription(
              "Event-time length of a model version: changes are published when the watermark passes each boundary.");
  public static final ConfigOption<Integer> REFRESH_VERSIONS =
      key("trainer.publish.refresh-versions")
          .intType()
          .noDefaultValue()
          .withDescription(
              "Every row of the model is published again at least once per this many versions (a"
                  + " slice of the unchanged rows goes with each version), so a replica started on"
                  + " whatever the topic still holds (a new broker, a topic that lost records)"
                  + " reaches the whole model. 0: rows go out only when they change. Unset: "
                  + StreamrecJobDefaults.LIVE_REFRESH_VERSIONS
                  + " for a live job, 0 for a backfill (its topic is written whole before replicas"
                  + " read it).");
  public static final ConfigOption<String> MODEL_ID =
      key("trainer.model-id")
          .stringType()
          .defaultValue("")
          .withDescription(
              "The lineage id (16 hex digits) of a model trained from scratch; empty: a random"
                  + " one, drawn when the job is submitted (every restart of the job keeps it). A"
                  + " restore keeps its checkpoint's lineage (its log says so where this key"
                  + " names another).");
  public static final ConfigOption<Boolean> REPLACE_MODEL =
      key("trainer.replace-model")
          .booleanType()
          .defaultValue(false)
          .withDescription(
              "Publish onto a model-updates topic whose newest model is another lineage's, replacing"
                  + " it: its rows are tombstoned in the first version. Without it the trainer"
                  + " refuses to start over another model.");
  public static final ConfigOption<String> ROW_ENCODING =
      key("trainer.publish.row-encoding")
          .stringType()
          .defaultValue("float32")
          .withDescription(
              "How embedding rows travel on the model-updates topic: float32 (exact), float16 (IEEE binary16) or"
                  + " bfloat16, the last two at half the size. Dense blocks are always float32.");
  public static final ConfigOption<String> BACKEND =
      key("trainer.backend")
          .stringType()
          .defaultValue("auto")
          .withDescription(
              "Compute backend: auto (CUDA where a device is usable, else CPU), cpu or cuda.");
  public static final ConfigOption<Integer> METRICS_WINDOW =
      key("trainer.metrics-window")
          .intType()
          .defaultValue(100_000)
          .withDescription(
              "Impressions in the sliding window of the progressive AUC and log loss, kept for"
                  + " each label (about 17 bytes an impression in memory and in checkpoints)."
                  + " It may change between runs: a checkpoint restores its latest impressions"
                  + " into the new window, and its lifetime figures whole.");

  public static final ConfigOption<Long> INJECT_FAILURE_AFTER_UNITS =
      key("trainer.inject-failure-after-units")
          .longType()
          .defaultValue(0L)
          .withDescription(
              "Recovery drills: the trainer fails once, in its first attempt, once it has trained this many"
                  + " units and a checkpoint holding trained state has completed (0 = never). Pair it with"
                  + " source.max-records-per-second so that checkpoints complete while the input is read.");

  public static final ConfigOption<String> HANDOFF_SAVE_TO =
      key("trainer.handoff.save-to")
          .stringType()
          .defaultValue("")
          .withDescription(
              "Backfill only: once it has trained and published everything, the backfill writes its"
                  + " trainer's final state (model lineage, version, weights, optimizer state, the"
                  + " embedding store) and the offsets the next job reads from to this file (a"
                  + " local path or any Flink file system, e.g. s3://...), so that a live job can go"
                  + " on from there with trainer.handoff.start-from. A backfill until a time reads"
                  + " the impressions on past it for a join window and the allowed disorder, so"
                  + " that no unit is split at the cut; one that names no end (of events) cuts a"
                  + " minute, a join window and the allowed disorder before it starts, so that the"
                  + " impressions of its last requests are written. Empty: no handoff.");
  public static final ConfigOption<String> HANDOFF_START_FROM =
      key("trainer.handoff.start-from")
          .stringType()
          .defaultValue("")
          .withDescription(
              "A job that starts without a checkpoint goes on from the handoff a backfill wrote"
                  + " (trainer.handoff.save-to): the backfill's model, its next version on the same"
                  + " lineage, and the input topics read from the offsets the backfill handed on."
                  + " A live job that resumes from a checkpoint ignores it, so it may stay in the"
                  + " job's arguments; a backfill from a handoff trains the range after it (and may"
                  + " save a handoff of its own). Empty: a new model.");

  public static final ConfigOption<Boolean> HANDOFF_CONTINUE_PUBLISHED =
      key("trainer.handoff.continue-published")
          .booleanType()
          .defaultValue(false)
          .withDescription(
              "A job started from a handoff without a checkpoint refuses a topic that already holds"
                  + " its model past the handoff's version: another job has gone on from the handoff,"
                  + " and a second would publish other versions of the same numbers. True: those"
                  + " versions were published by an earlier start of this same job that stopped"
                  + " before its first checkpoint; they are trained again and not published twice."
                  + " streamrec run sets it when its state directory started from that handoff.");

  public static final ConfigOption<String> STORE_DIR =
      key("store.dir")
          .stringType()
          .defaultValue("")
          .withDescription(
              "Where the trainer's embedding store works (its RocksDB cold tier): each trainer in a"
                  + " directory of its own under it (trainer-<subtask>-<random>), deleted when it"
                  + " closes, so that jobs may share it; one a killed process left is deleted by the"
                  + " next trainer to start there. A restore fetches the checkpoint's or"
                  + " handoff's files into it too (a savepoint's pass through"
                  + " java.io.tmpdir/streamrec-restore-<user> first). Empty: the same under"
                  + " java.io.tmpdir/streamrec-store-<user>.");

  public static final ConfigOption<String> DELIVERY_GUARANTEE =
      key("sink.delivery-guarantee")
          .stringType()
          .defaultValue("at-least-once")
          .withDescription(
              "Kafka sinks' guarantee: at-least-once or exactly-once (transactional, needs checkpoints).");
  public static final ConfigOption<Boolean> REQUEST_UNITS_ENABLED =
      key("sink.request-units.enabled")
          .booleanType()
          .defaultValue(false)
          .withDescription(
              "Also write the assembled units to topics.request-units in their compact form (ids"
                  + " hashed, the request side once; docs/request-units.md): a training log that"
                  + " source.kind=units trains from.");

  /**
   * Kafka client settings passed through to every client (sources, sinks, the admin client), keys
   * under {@code properties.}: the pattern of this key, for the configuration table and the check
   * of unknown keys; {@link JobConfig#kafkaProperties()} holds the settings themselves.
   */
  public static final ConfigOption<String> KAFKA_PROPERTIES =
      key(io.streamrec.common.KafkaClientProperties.PREFIX + "*")
          .stringType()
          .noDefaultValue()
          .withDescription(
              "Kafka client settings for every client the job and the commands create (sources, sinks,"
                  + " admin, serve, tail, produce), as in Flink's Kafka connector: properties.security.protocol,"
                  + " properties.sasl.mechanism, properties.sasl.jaas.config, properties.ssl.truststore.location, ..."
                  + " The commands also read them from a Kafka client file with --command-config FILE. Values of"
                  + " credentials are never logged.");
}
