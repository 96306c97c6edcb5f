package io.streamrec.job;

import io.streamrec.job.assembler.RequestUnitAssembler;
import io.streamrec.job.assembler.SegmentCut;
import io.streamrec.job.config.ConfigException;
import io.streamrec.job.config.JobConfig;
import io.streamrec.job.config.JobOptions;
import io.streamrec.job.kafka.HandoffOffsets;
import io.streamrec.job.kafka.ModelTopicHead;
import io.streamrec.job.kafka.RangeCuts;
import io.streamrec.job.kafka.TopicOffsets;
import io.streamrec.job.metrics.PublishedVersions;
import io.streamrec.job.sink.KafkaSinks;
import io.streamrec.job.source.EnvelopeRouter;
import io.streamrec.job.source.EventDeserializer;
import io.streamrec.job.source.EventKind;
import io.streamrec.job.source.OutageTolerantSubscriber;
import io.streamrec.job.trainer.Handoff;
import io.streamrec.job.trainer.TrainerOperator;
import io.streamrec.job.units.CodecTypeInfo;
import io.streamrec.job.units.DecodedEvent;
import io.streamrec.job.units.UnitDecoder;
import io.streamrec.job.units.UnitRecord;
import io.streamrec.job.units.UnitRecordDeserializer;
import io.streamrec.job.units.UnitsLogCheck;
import io.streamrec.model.units.CompactUnit;
import io.streamrec.model.units.EventPart;
import io.streamrec.protocol.ModelUpdateRecord;
import io.streamrec.schemas.DeadLetter;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.KafkaSourceBuilder;
import org.apache.flink.connector.kafka.source.KafkaSourceOptions;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.consumer.OffsetResetStrategy;
import org.apache.kafka.common.TopicPartition;

/**
 * The streamrec job graph, the same for live training and for backfill:
 *
 * <pre>
 *   requests ─┐                                           ┌─> dead-letters
 *             ├─> decode ─> keyBy(requestId) ─> assembler ─┼─> request-units (optional)
 * impressions ┘                                           └─> trainer (p=1) ─> model-updates
 * </pre>
 *
 * Everything before the trainer runs at {@code assembler.parallelism}; the assembler hashes the
 * units' values, so compact units (ids and floats) cross to the trainer. With {@code
 * source.kind=units} the graph reads the request-units topic instead (decode ─> trainer), no join.
 *
 * <p>Live ({@link Bounds#live()}) reads from the committed offsets (the earliest where none) and
 * never ends; a backfill reads a bounded range of both topics, by timestamp, and ends once it has
 * trained on all of it and published the final version. Event time makes both form the same units.
 * A backfill with {@code trainer.handoff.save-to} stops at offsets resolved before it starts and
 * hands them on with its trainer's state ({@link Handoff}); a job with {@code
 * trainer.handoff.start-from} and no checkpoint (live, or a backfill of a later range) starts its
 * sources there and its trainer from that state.
 */
public final class StreamrecJob {
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(StreamrecJob.class);

  /** Stable operator ids, so savepoints survive changes to the graph around them. */
  static final String UID_REQUESTS = "source-requests";

  static final String UID_IMPRESSIONS = "source-impressions";
  static final String UID_ASSEMBLER = "assembler";
  static final String UID_TRAINER = "trainer";
  static final String UID_UNITS = "source-request-units";

  /** Watches the records on their way to the sink: the model's freshness (stateless). */
  static final String UID_PUBLISHED_VERSIONS = "published-versions";

  /** Sources in one alignment group may drift this far apart before the faster one pauses. */
  /** How long the trainer waits for the model-updates topic when it reads its newest marker. */
  static final Duration TOPIC_HEAD_TIMEOUT = Duration.ofSeconds(60);

  static final Duration ALIGNMENT_MAX_DRIFT = Duration.ofMinutes(1);

  /** How often watermark alignment is re-evaluated. */
  static final Duration ALIGNMENT_UPDATE = Duration.ofSeconds(1);

  private StreamrecJob() {}

  /**
   * What to read: everything from the committed offsets on (live), or a bounded range (backfill).
   */
  public record Bounds(boolean bounded, Long fromMs, Long untilMs, boolean cutBeforeNow) {
    public static Bounds live() {
      return new Bounds(false, null, null, false);
    }

    /**
     * From {@code fromMs} (null: the earliest offset) until {@code untilMs} (null: the end now; a
     * backfill that hands on, a little before now, {@link #cutBeforeNow}).
     */
    public static Bounds backfill(Long fromMs, Long untilMs) {
      return new Bounds(true, fromMs, untilMs, false);
    }
  }

  /**
   * How long after their event time the producers' records may still be written: a backfill that
   * hands on and names no end cuts this long, a join window and the allowed disorder before now
   * ({@link #cutBeforeNow}).
   */
  static final long WRITES_BEHIND_MS = 60_000;

  /** Adds the job to {@code env}. */
  public static void build(StreamExecutionEnvironment env, JobConfig cfg, Bounds bounds) {
    // every function makes new objects and keeps none it emits, so chained operators may hand
    // records on without the deep copy Flink makes otherwise
    env.getConfig().enableObjectReuse();
    bounds = cutBeforeNow(cfg, bounds, System.currentTimeMillis());
    Handoff.Plan handoff = handoffPlan(cfg, bounds);
    warnOfSkewedCuts(cfg, bounds);
    int p = cfg.assemblerParallelism();
    DataStream<CompactUnit> units;
    DataStream<DeadLetter> deadLetters;
    if (cfg.sourceKind() == JobConfig.SourceKind.UNITS) {
      // a handoff that is gone (Plan.startFromGone) names no offsets: the live job goes on from
      // its checkpoint, at or past where its group has read, not from the log's first units
      UnitsLogCheck.refuseUnitsOfAnotherSpec(
          cfg,
          handoff != null && handoff.starts() && !handoff.startOffsets().isEmpty()
              ? Handoff.Plan.ofTopic(handoff.startOffsets(), cfg.requestUnitsTopic())
              : null,
          bounds.bounded(),
          bounds.fromMs());
      SingleOutputStreamOperator<CompactUnit> decoded =
          env.fromSource(
                  unitsSource(cfg, bounds, handoff), unitWatermarks(cfg, bounds), "request-units")
              .uid(UID_UNITS)
              .setParallelism(p)
              .process(
                  new UnitDecoder(
                      cfg.model().features(),
                      cfg.maxRecordBytes(),
                      cfg.maxRecordsPerSecond(),
                      cfg.limits()),
                  CodecTypeInfo.COMPACT_UNIT)
              .name("decode-units")
              .uid("decode-units")
              .setParallelism(p);
      if (cfg.maxRecordsPerSecond() > 0) {
        decoded.disableChaining(); // as decodedEvents says: its throttle must not starve partitions
      }
      units = decoded;
      deadLetters = decoded.getSideOutput(UnitDecoder.DEAD_LETTERS);
    } else {
      SingleOutputStreamOperator<EventPart> requests =
          decodedEvents(env, cfg, bounds, handoff, EventKind.REQUEST, UID_REQUESTS, "requests");
      SingleOutputStreamOperator<EventPart> impressions =
          decodedEvents(
              env, cfg, bounds, handoff, EventKind.IMPRESSION, UID_IMPRESSIONS, "impressions");

      SingleOutputStreamOperator<CompactUnit> assembled =
          requests
              .connect(impressions)
              .keyBy(EventPart::requestId, EventPart::requestId)
              .transform(
                  "assembler",
                  CodecTypeInfo.COMPACT_UNIT,
                  RequestUnitAssembler.operator(
                      new RequestUnitAssembler(
                          new RequestUnitAssembler.AssemblerConfig(
                              cfg.joinWindowMs(),
                              cfg.maxImpressionsPerUnit(),
                              cfg.requestsTopic(),
                              cfg.impressionsTopic(),
                              cfg.limits().maxIdsPerUnit(),
                              cfg.limits().maxUnitBytes(),
                              cfg.limits().deadLetterMaxPayloadBytes(),
                              segmentCut(cfg, handoff)),
                          cfg.model()),
                      cfg.silentInputWaitMs(),
                      cfg.idleTimeoutMs()))
              .name("assembler")
              .uid(UID_ASSEMBLER)
              .setParallelism(p);
      units = assembled;
      deadLetters =
          requests
              .getSideOutput(EnvelopeRouter.DEAD_LETTERS)
              .union(
                  impressions.getSideOutput(EnvelopeRouter.DEAD_LETTERS),
                  assembled.getSideOutput(RequestUnitAssembler.DEAD_LETTERS));
      if (cfg.requestUnitsEnabled()) {
        SingleOutputStreamOperator<CompactUnit> fitting =
            units
                .process(io.streamrec.job.sink.UnitsThatFit.of(cfg), CodecTypeInfo.COMPACT_UNIT)
                .name("request-units-that-fit")
                .uid("request-units-that-fit")
                .setParallelism(p);
        deadLetters =
            deadLetters.union(
                fitting.getSideOutput(io.streamrec.job.sink.UnitsThatFit.DEAD_LETTERS));
        fitting
            .sinkTo(KafkaSinks.requestUnits(cfg, bounds.bounded()))
            .name("request-units")
            .uid("sink-request-units")
            .setParallelism(p);
      }
    }
    deadLetters
        .sinkTo(KafkaSinks.deadLetters(cfg))
        .name("dead-letters")
        .uid("sink-dead-letters")
        .setParallelism(p);

    DataStream<ModelUpdateRecord> updates =
        units
            .transform(
                "trainer",
                TypeInformation.of(ModelUpdateRecord.class),
                new TrainerOperator(
                    cfg,
                    new ModelTopicHead(
                        cfg.bootstrapServers(),
                        cfg.kafkaProperties(),
                        cfg.modelUpdatesTopic(),
                        TOPIC_HEAD_TIMEOUT),
                    cfg.refreshVersions(bounds.bounded()),
                    handoff))
            .uid(UID_TRAINER)
            // one trainer, always (it refuses to run as several). Its max parallelism is left to
            // Flink: chained to a single assembler its state is saved under the assembler's, and a
            // max parallelism fixed here would refuse that checkpoint once the sources scale out
            .setParallelism(1);
    // the Kafka producer (batching, compression) works in a thread of its own, not the trainer's
    updates
        .map(new PublishedVersions())
        .name("published-versions")
        .uid(UID_PUBLISHED_VERSIONS)
        .setParallelism(1)
        .sinkTo(KafkaSinks.modelUpdates(cfg, bounds.bounded()))
        .name("model-updates")
        .uid("sink-model-updates")
        .setParallelism(1)
        .disableChaining();
  }

  /**
   * The handoffs of this job, if any: a job starting from one reads its header, which must name
   * every topic it reads; a backfill saving one stops at offsets resolved now, which it hands on. A
   * backfill may do both, training a later range on from an earlier handoff.
   */
  private static Handoff.Plan handoffPlan(JobConfig cfg, Bounds bounds) {
    List<String> topics = inputTopics(cfg);
    if (!bounds.bounded() && !cfg.handoffSaveTo().isEmpty()) {
      throw new ConfigException(
          JobOptions.HANDOFF_SAVE_TO,
          "is for a backfill; this is a live job, which never ends",
          "a live job goes on from a backfill's handoff with trainer.handoff.start-from"
              + " (--from-handoff)");
    }
    Handoff.Plan plan = null;
    if (!cfg.handoffStartFrom().isEmpty()) {
      if (bounds.fromMs() != null) {
        throw new ConfigException(
            JobOptions.HANDOFF_START_FROM,
            "and --from both say where the backfill starts",
            "give one: a backfill from a handoff starts where that handoff's backfill stopped");
      }
      if (!bounds.bounded() && !Handoff.exists(cfg.handoffStartFrom())) {
        // a live job on a cluster is built again from its first arguments at each failover of
        // its JobManager and each upgrade from its last state, and goes on from its checkpoint,
        // by when the handoff it first started from may be gone: its trainer refuses a start
        // without a checkpoint from a handoff that is not there, before it trains or publishes
        LOG.warn(
            "no handoff at {} ({}): this job goes on only from a checkpoint or savepoint, and"
                + " without one its trainer refuses to start",
            cfg.handoffStartFrom(),
            JobOptions.HANDOFF_START_FROM.key());
        return Handoff.Plan.startFromGone(cfg.handoffStartFrom());
      }
      Handoff.Header h = Handoff.readHeader(cfg.handoffStartFrom());
      h.requireTopics(topics);
      plan = Handoff.Plan.startFrom(cfg.handoffStartFrom(), h);
    }
    boolean save = !cfg.handoffSaveTo().isEmpty();
    if (!save && (plan == null || !bounds.bounded())) {
      return plan;
    }
    if (save) {
      Handoff.checkWritable(cfg.handoffSaveTo());
    }
    Map<TopicPartition, Long> stops =
        TopicOffsets.stoppingOffsets(
            cfg.bootstrapServers(), cfg.kafkaProperties(), topics, bounds.untilMs());
    if (plan != null) {
      // a backfill from a handoff that would stop before where the handoff's stopped trains
      // nothing, or trains again what that one had read
      plan.startStopped()
          .forEach(
              (tp, start) -> {
                Long stop = stops.get(tp);
                if (stop != null && stop < start) {
                  throw new ConfigException(
                      JobOptions.HANDOFF_START_FROM,
                      "names a handoff that stopped at "
                          + tp
                          + " offset "
                          + start
                          + ", after where this backfill is to stop ("
                          + stop
                          + ")",
                      laterRange(bounds));
                }
              });
    }
    if (!save) {
      return plan;
    }
    Map<TopicPartition, Long> stopAt = stops;
    Map<TopicPartition, Long> handOn = stops;
    if (readsPastCut(cfg, bounds)) {
      Overlap o = overlap(cfg, bounds, stops, plan == null ? Map.of() : plan.startStopped());
      stopAt = o.stops();
      handOn = o.handOn();
    }
    return plan != null
        ? plan.andSaveTo(cfg.handoffSaveTo(), stopAt, handOn)
        : Handoff.Plan.saveTo(cfg.handoffSaveTo(), stopAt, handOn);
  }

  /**
   * The range of a backfill that hands on and names no end ({@code --until}): to a cut {@link
   * #WRITES_BEHIND_MS}, a join window and the allowed disorder before {@code nowMs}, so that the
   * impressions of its last requests are written when it starts, and the next job trains the
   * requests after it (read to where the topics end, the units of its last requests closed without
   * the impressions written after its start, which reached the next job as orphans). A range of
   * events only (a unit of the request-units log is whole), and one that starts before the cut.
   */
  static Bounds cutBeforeNow(JobConfig cfg, Bounds bounds, long nowMs) {
    if (!bounds.bounded()
        || bounds.untilMs() != null
        || cfg.handoffSaveTo().isEmpty()
        || cfg.sourceKind() != JobConfig.SourceKind.EVENTS) {
      return bounds;
    }
    long cut = nowMs - WRITES_BEHIND_MS - cutMarginMs(cfg);
    if (bounds.fromMs() != null && bounds.fromMs() >= cut) {
      LOG.warn(
          "backfill: --from {} is within {} ms of now: it reads the topics to their end, and the"
              + " impressions of its last requests written after it starts are dead letters"
              + " (orphan) in the job after it",
          java.time.Instant.ofEpochMilli(bounds.fromMs()),
          nowMs - bounds.fromMs());
      return bounds;
    }
    LOG.info(
        "backfill: hands on at {} (no --until: a minute, a join window and the allowed disorder"
            + " before now, so that the impressions of its last requests are written); the job"
            + " after it trains the requests from then on",
        java.time.Instant.ofEpochMilli(cut));
    return new Bounds(true, bounds.fromMs(), cut, true);
  }

  /** What to do instead of a backfill whose range ends too soon after its handoff's. */
  private static String laterRange(Bounds bounds) {
    return bounds.cutBeforeNow()
        ? "this backfill names no --until, and cuts at "
            + java.time.Instant.ofEpochMilli(bounds.untilMs())
            + " (a minute, a join window and the allowed disorder before now): backfill again"
            + " later, or start the live job from that handoff"
        : "backfill until a later time, or from an earlier handoff";
  }

  /** Where a backfill's sources stop, and where the next job reads from. */
  record Overlap(Map<TopicPartition, Long> stops, Map<TopicPartition, Long> handOn) {}

  /**
   * The offsets of a backfill that hands on at {@code untilMs} and reads past it ({@link
   * SegmentCut}), with M a join window and the allowed disorder: the requests stop at the cut
   * ({@code atCut}) and are handed on from 2 M before it; the impressions are read on to M past the
   * cut and handed on from M before it. (A request after the cut in its partition may be timed
   * before it, and its impressions lie before the cut in theirs; the requests handed on reach back
   * far enough for every impression handed on.) Nothing is handed on from before where the backfill
   * starts ({@code --from}), nor from after where it stops. A range that would hand on from before
   * where the earlier handoff's backfill had read ({@code earlier}), shorter than 2 M past its cut,
   * is refused.
   */
  private static Overlap overlap(
      JobConfig cfg,
      Bounds bounds,
      Map<TopicPartition, Long> atCut,
      Map<TopicPartition, Long> earlier) {
    long untilMs = bounds.untilMs();
    long margin = cutMarginMs(cfg);
    if (untilMs > System.currentTimeMillis() - margin) {
      LOG.warn(
          "backfill: --until {} is less than {} ms (a join window and the allowed disorder) before"
              + " now: the impressions of the requests before it are read as far as the topic"
              + " holds them now, and those written later are dead letters (late) in the job after"
              + " it",
          java.time.Instant.ofEpochMilli(untilMs),
          margin);
    }
    // a time below 0 asks Kafka for no time but an end
    List<TopicOffsets.At> lookups =
        new java.util.ArrayList<>(
            List.of(
                new TopicOffsets.At(cfg.requestsTopic(), Math.max(0, untilMs - 2 * margin)),
                new TopicOffsets.At(cfg.impressionsTopic(), Math.max(0, untilMs - margin)),
                new TopicOffsets.At(
                    cfg.impressionsTopic(),
                    untilMs > Long.MAX_VALUE - margin ? Long.MAX_VALUE : untilMs + margin)));
    if (bounds.fromMs() != null) {
      lookups.add(new TopicOffsets.At(cfg.requestsTopic(), bounds.fromMs()));
      lookups.add(new TopicOffsets.At(cfg.impressionsTopic(), bounds.fromMs()));
    }
    List<Map<TopicPartition, Long>> found =
        TopicOffsets.stoppingOffsets(cfg.bootstrapServers(), cfg.kafkaProperties(), lookups);
    Map<TopicPartition, Long> handOn = new java.util.HashMap<>(found.get(0));
    handOn.putAll(found.get(1));
    Map<TopicPartition, Long> stops = new java.util.HashMap<>(atCut);
    stops.putAll(found.get(2));
    Map<TopicPartition, Long> from = new java.util.HashMap<>();
    for (Map<TopicPartition, Long> f : found.subList(3, found.size())) {
      from.putAll(f);
    }
    // each offset resolved by its own call: a record written between them, or a partition added,
    // must not put a hand-on point outside the range read
    handOn.keySet().retainAll(stops.keySet());
    stops.forEach(
        (tp, stop) -> {
          long at = Math.min(handOn.getOrDefault(tp, stop), stop);
          handOn.put(tp, Math.max(at, Math.min(from.getOrDefault(tp, 0L), stop)));
        });
    handOn.forEach(
        (tp, at) -> {
          Long read = earlier.get(tp);
          if (read != null && at < read) {
            throw new ConfigException(
                JobOptions.HANDOFF_START_FROM,
                "names a handoff whose backfill read "
                    + tp
                    + " to offset "
                    + read
                    + ", past where this backfill would hand on from ("
                    + at
                    + "): its range ends less than two join windows and the allowed disorder ("
                    + 2 * margin
                    + " ms) after that handoff's cut",
                laterRange(bounds));
          }
        });
    return new Overlap(stops, handOn);
  }

  /**
   * How far past its cut a backfill that hands on reads the impressions, and how far before it the
   * next job reads them again ({@link #overlap}): a join window and the allowed disorder.
   */
  private static long cutMarginMs(JobConfig cfg) {
    return cfg.joinWindowMs() + cfg.maxOutOfOrdernessMs();
  }

  /**
   * Whether a backfill of {@code bounds} reads the impressions on past its cut ({@link #overlap}).
   */
  private static boolean readsPastCut(JobConfig cfg, Bounds bounds) {
    return bounds.bounded()
        && bounds.untilMs() != null
        && !cfg.handoffSaveTo().isEmpty()
        && cfg.sourceKind() == JobConfig.SourceKind.EVENTS;
  }

  /**
   * Where this job's range meets the one before it (a handoff started from) and the one after it (a
   * handoff saved): the offsets the assembler tells the requests and impressions near each cut
   * apart by.
   */
  static SegmentCut segmentCut(JobConfig cfg, Handoff.Plan handoff) {
    if (handoff == null) {
      return SegmentCut.NONE;
    }
    Map<TopicPartition, Long> handOn = handoff.saves() ? handoff.handOnOffsets() : Map.of();
    Map<TopicPartition, Long> stops = handoff.saves() ? handoff.stopOffsets() : Map.of();
    boolean handsOnEarlier = !handOn.equals(stops);
    return new SegmentCut(
        handsOnEarlier ? byPartition(handOn, cfg.requestsTopic()) : Map.of(),
        handsOnEarlier ? byPartition(handOn, cfg.impressionsTopic()) : Map.of(),
        handoff.starts() ? byPartition(handoff.startStopped(), cfg.requestsTopic()) : Map.of(),
        handoff.starts() ? byPartition(handoff.startStopped(), cfg.impressionsTopic()) : Map.of());
  }

  private static Map<Integer, Long> byPartition(Map<TopicPartition, Long> offsets, String topic) {
    Map<Integer, Long> out = new java.util.HashMap<>();
    Handoff.Plan.ofTopic(offsets, topic).forEach((tp, o) -> out.put(tp.partition(), o));
    return out;
  }

  /** Says where a backfill's range cuts a partition at a record timed ahead ({@link RangeCuts}). */
  private static void warnOfSkewedCuts(JobConfig cfg, Bounds bounds) {
    if (!bounds.bounded()) {
      return;
    }
    List<String> topics = inputTopics(cfg);
    long tolerance =
        cfg.sourceKind() == JobConfig.SourceKind.UNITS
            ? cfg.unitsMaxOutOfOrdernessMs()
            : cfg.maxOutOfOrdernessMs();
    List<String> lines = new java.util.ArrayList<>();
    if (bounds.fromMs() != null) {
      lines.addAll(
          RangeCuts.skewed(
              cfg.bootstrapServers(),
              cfg.kafkaProperties(),
              topics,
              bounds.fromMs(),
              tolerance,
              "--from"));
    }
    if (bounds.untilMs() != null) {
      boolean readsOn = readsPastCut(cfg, bounds);
      long margin = cutMarginMs(cfg);
      String end = bounds.cutBeforeNow() ? "the cut" : "--until";
      lines.addAll(
          RangeCuts.skewed(
              cfg.bootstrapServers(),
              cfg.kafkaProperties(),
              readsOn ? List.of(cfg.requestsTopic()) : topics,
              bounds.untilMs(),
              tolerance,
              end));
      if (readsOn && bounds.untilMs() <= Long.MAX_VALUE - margin) {
        lines.addAll(
            RangeCuts.skewed(
                cfg.bootstrapServers(),
                cfg.kafkaProperties(),
                List.of(cfg.impressionsTopic()),
                bounds.untilMs() + margin,
                tolerance,
                end + " + " + margin + " ms"));
      }
    }
    lines.forEach(l -> LOG.warn("backfill range: {}", l));
  }

  /** The topics a job of {@code cfg} reads: the request-units log, or the two event topics. */
  public static List<String> inputTopics(JobConfig cfg) {
    return cfg.sourceKind() == JobConfig.SourceKind.UNITS
        ? List.of(cfg.requestUnitsTopic())
        : List.of(cfg.requestsTopic(), cfg.impressionsTopic());
  }

  /**
   * The sources' Kafka client settings: the user's, reading committed records only unless told
   * otherwise. Kafka's consumers read uncommitted ones by default, so a source read the records of
   * aborted transactions too: the units an exactly-once job wrote before a failure and wrote again
   * after it were read twice, and the events of a transactional producer's aborted sends trained.
   *
   * <p>Never auto-commits offsets, whatever the user's settings say: a job resumes from its
   * checkpoint's offsets and commits them to the group only on a checkpoint, and a backfill reads
   * with the live job's group and must never move it. A user's {@code enable.auto.commit=true} was
   * passed on, and Flink keeps a value it is given, so a backfill's consumers committed their
   * positions into the live job's group every 5 s.
   */
  static java.util.Properties sourceProperties(JobConfig cfg) {
    java.util.Properties p = cfg.kafkaProperties().toProperties();
    String autoCommit =
        p.getProperty(org.apache.kafka.clients.consumer.ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG);
    if (autoCommit != null && !"false".equalsIgnoreCase(autoCommit.trim())) {
      LOG.warn(
          "properties.enable.auto.commit={} is not used: the sources never auto-commit offsets (a"
              + " job resumes from its checkpoint's offsets and commits them on each checkpoint; a"
              + " backfill commits none, since it reads with the live job's group)",
          autoCommit);
    }
    p.put(org.apache.kafka.clients.consumer.ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    p.putIfAbsent(
        org.apache.kafka.clients.consumer.ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    p.putIfAbsent(
        KafkaSourceOptions.PARTITION_DISCOVERY_INTERVAL_MS.key(), PARTITION_DISCOVERY_INTERVAL_MS);
    return p;
  }

  /**
   * The client id prefix of the source of {@code kind}'s events: the user's {@code
   * client.id.prefix}, where given, with the source's role after it. The user's was replaced by
   * streamrec's own, so every job on a cluster ran its sources under the same ids and quotas.
   */
  static String sourceClientIdPrefix(JobConfig cfg, EventKind kind) {
    return cfg.kafkaProperties()
        .clientIdPrefix("streamrec-" + kind.name().toLowerCase(java.util.Locale.ROOT));
  }

  /**
   * A live source looks for added partitions every 5 s, where the connector's default is 5 minutes:
   * it reads a new partition from its earliest offset once it finds it, and what producers wrote
   * there before then is behind event time by as long. Past the join window plus the allowed
   * disorder (12 s by default) it arrived {@code late}: a walk that added partitions to a live job
   * lost 6,545 records so with a minute between looks, none with 10 s. (A bounded source looks
   * once.)
   */
  static final String PARTITION_DISCOVERY_INTERVAL_MS = "5000";

  private static KafkaSource<UnitRecord> unitsSource(
      JobConfig cfg, Bounds bounds, Handoff.Plan handoff) {
    KafkaSourceBuilder<UnitRecord> b =
        KafkaSource.<UnitRecord>builder()
            .setBootstrapServers(cfg.bootstrapServers())
            .setProperties(sourceProperties(cfg))
            .setKafkaSubscriber(OutageTolerantSubscriber.of(List.of(cfg.requestUnitsTopic())))
            .setGroupId(cfg.groupId())
            .setClientIdPrefix(cfg.kafkaProperties().clientIdPrefix("streamrec-units"))
            .setDeserializer(new UnitRecordDeserializer(cfg.limits()));
    return bounded(b, bounds, handoff, cfg.requestUnitsTopic()).build();
  }

  /**
   * Event time of a unit: its close time, which the units topic keeps as the record's timestamp.
   * Each partition is written by one assembler subtask in close order; where subtasks shared
   * partitions (fewer partitions than writers, a restart with another parallelism) a partition
   * holds one's units behind another's by their drift: {@code source.units.max-out-of-orderness}
   * covers that where it is set high enough, and a unit is then in the trainer before the watermark
   * passes its close, where the events' run had it.
   */
  private static WatermarkStrategy<UnitRecord> unitWatermarks(JobConfig cfg, Bounds bounds) {
    return io.streamrec.job.source.TrustedTimeWatermarks.<UnitRecord>of(
        Duration.ofMillis(cfg.unitsMaxOutOfOrdernessMs()),
        cfg.idleTimeoutMs(),
        (r, ts) -> r.eventTimeMs());
  }

  /**
   * One event topic's source and its decode stage ("decode-" + name), at the assembler's
   * parallelism: parts with their features hashed, dead letters on the side.
   */
  private static SingleOutputStreamOperator<EventPart> decodedEvents(
      StreamExecutionEnvironment env,
      JobConfig cfg,
      Bounds bounds,
      Handoff.Plan handoff,
      EventKind kind,
      String sourceUid,
      String name) {
    int p = cfg.assemblerParallelism();
    String topic = kind == EventKind.REQUEST ? cfg.requestsTopic() : cfg.impressionsTopic();
    SingleOutputStreamOperator<EventPart> decoded =
        env.fromSource(source(cfg, bounds, handoff, topic, kind), watermarks(cfg, bounds), name)
            .uid(sourceUid)
            .setParallelism(p)
            .process(new EnvelopeRouter(cfg.maxRecordsPerSecond()), CodecTypeInfo.EVENT_PART)
            .name("decode-" + name)
            .uid("decode-" + name)
            .setParallelism(p);
    // A throttle waiting in the source's own thread would starve the partitions whose records the
    // consumer had not handed over yet: silent past source.idle-timeout, they would count as idle
    // and the watermark would leave their records late. Waiting in a task of its own, it
    // backpressures the source instead, and a backpressured source's partitions do not turn idle.
    return cfg.maxRecordsPerSecond() > 0 ? decoded.disableChaining() : decoded;
  }

  private static KafkaSource<DecodedEvent> source(
      JobConfig cfg, Bounds bounds, Handoff.Plan handoff, String topic, EventKind kind) {
    KafkaSourceBuilder<DecodedEvent> b =
        KafkaSource.<DecodedEvent>builder()
            .setBootstrapServers(cfg.bootstrapServers())
            .setProperties(sourceProperties(cfg))
            .setKafkaSubscriber(OutageTolerantSubscriber.of(List.of(topic)))
            .setGroupId(cfg.groupId())
            .setClientIdPrefix(sourceClientIdPrefix(cfg, kind))
            .setDeserializer(
                new EventDeserializer(
                    kind,
                    cfg.maxRecordBytes(),
                    cfg.limits(),
                    cfg.model().features(),
                    cfg.model().denseNormalization()
                        != io.streamrec.model.ModelConfig.DenseNormalization.NONE));
    return bounded(b, bounds, handoff, topic).build();
  }

  /**
   * Where a source of {@code topic} starts and whether it ends: the committed offsets on, or a
   * backfill's range; where a handoff is started from, from its offsets; where a backfill saves
   * one, to the offsets resolved for it.
   */
  private static <T> KafkaSourceBuilder<T> bounded(
      KafkaSourceBuilder<T> b, Bounds bounds, Handoff.Plan handoff, String topic) {
    Map<TopicPartition, Long> start =
        handoff != null && handoff.starts()
            ? Handoff.Plan.ofTopic(handoff.startOffsets(), topic)
            : null;
    Map<TopicPartition, Long> stop =
        handoff != null && handoff.saves()
            ? Handoff.Plan.ofTopic(handoff.stopOffsets(), topic)
            : null;
    if (start != null) {
      // where the earlier backfill stopped; a partition added since starts at its earliest offset
      b.setStartingOffsets(new HandoffOffsets(start, handoff.startFrom(), handoff.startCluster()));
    } else if (bounds.bounded()) {
      b.setStartingOffsets(
          bounds.fromMs() == null
              ? OffsetsInitializer.earliest()
              : OffsetsInitializer.timestamp(bounds.fromMs()));
    } else {
      b.setStartingOffsets(OffsetsInitializer.committedOffsets(OffsetResetStrategy.EARLIEST));
    }
    if (bounds.bounded()) {
      b.setBounded(
          stop != null
              ? OffsetsInitializer.offsets(stop)
              : bounds.untilMs() == null
                  ? OffsetsInitializer.latest()
                  : OffsetsInitializer.timestamp(bounds.untilMs()));
      // a backfill must not move the live job's committed offsets
      b.setProperty("commit.offsets.on.checkpoint", "false");
    }
    return b;
  }

  /**
   * Event time from the events, bounded out-of-orderness. A live job aligns the two sources'
   * watermarks (a topic that runs ahead pauses, so the assembler's state stays bounded). A backfill
   * does not: once a bounded source has finished, Flink 2.2 cannot restore the job from a
   * checkpoint while the alignment coordinator still sends events to it (the restored, finished
   * source rejects them), and a backfill must survive a failure. Results do not depend on it: the
   * units and batches follow the watermarks, which alignment only paces.
   */
  private static WatermarkStrategy<DecodedEvent> watermarks(JobConfig cfg, Bounds bounds) {
    WatermarkStrategy<DecodedEvent> w =
        io.streamrec.job.source.TrustedTimeWatermarks.<DecodedEvent>of(
            Duration.ofMillis(cfg.maxOutOfOrdernessMs()),
            cfg.idleTimeoutMs(),
            (e, ts) -> e.timestampMs());
    return bounds.bounded()
        ? w
        : w.withWatermarkAlignment("streamrec-inputs", ALIGNMENT_MAX_DRIFT, ALIGNMENT_UPDATE);
  }
}
