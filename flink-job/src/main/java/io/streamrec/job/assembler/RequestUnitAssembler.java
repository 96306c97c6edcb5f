package io.streamrec.job.assembler;

import io.streamrec.job.deadletter.DeadLetters;
import io.streamrec.job.metrics.JobMetrics;
import io.streamrec.job.units.CodecTypeInfo;
import io.streamrec.model.ModelConfig;
import io.streamrec.model.TableCapacities;
import io.streamrec.model.features.FeatureSpec;
import io.streamrec.model.units.CompactUnit;
import io.streamrec.model.units.EventPart;
import io.streamrec.model.units.UnitEncoder;
import io.streamrec.model.units.UnitLayout;
import io.streamrec.schemas.AvroCodec;
import io.streamrec.schemas.DeadLetter;
import io.streamrec.schemas.DeadLetterReasons;
import io.streamrec.schemas.ImpressionEvent;
import io.streamrec.schemas.RequestEvent;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.streaming.api.functions.co.KeyedCoProcessFunction;
import org.apache.flink.streaming.api.operators.TwoInputStreamOperator;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * Joins a request with its impressions into one unit: the request's features stored once, its
 * impressions with their labels — the "request-only" training unit of arXiv 2508.05640, whose
 * request side a model computes once for all the request's impressions. The unit leaves as a {@link
 * CompactUnit}: every value hashed to its id here, at the assembler's parallelism, so the trainer
 * hashes nothing. The events come as {@link EventPart}s, their values hashed by the decode stage,
 * with their bytes as read: what a dead letter of this stage carries.
 *
 * <p>Keyed by request id, in event time:
 *
 * <ul>
 *   <li>A request opens a unit that closes at {@code closeAt = request time + join window}. When
 *       the watermark reaches {@code closeAt} the unit is emitted (record time {@code closeAt})
 *       with its impressions sorted by (time, impression id), so the output does not depend on
 *       arrival order. A request that gathered no impression emits nothing and is counted.
 *   <li>Impressions are deduplicated by impression id: the first copy wins, a repeat of the same
 *       content is counted, a second copy whose content differs is a {@code conflicting_duplicate}
 *       dead letter.
 *   <li>An impression timed at or after its request's {@code closeAt}, or arriving after its unit
 *       closed, is {@code late}. After a unit closes, a marker stays for one more join window so
 *       that stragglers are told apart from orphans.
 *   <li>An impression that comes before its request waits for it; if the watermark reaches the
 *       impression's time + join window and no request came, it is an {@code orphan}. One that
 *       arrives without an open unit when the watermark is already there is {@code late}: its
 *       request, earlier still, was late too or closed without it.
 *   <li>A request whose window had already closed when it arrived (its {@code closeAt} at or below
 *       the watermark) is {@code late}, and so are the impressions waiting for it.
 *   <li>A second request with the same id while its unit is open (or its marker stands) is dropped
 *       as a duplicate, or is a {@code conflicting_duplicate} if its content differs from the open
 *       one's.
 *   <li>A unit is bounded in impressions, ids and bytes ({@link AssemblerConfig}) as its events
 *       arrive: an impression that would take its unit past a bound is {@code too_large} at once,
 *       so no key's state outgrows the bounds whatever a producer sends (which impressions those
 *       are follows their arrival order, the order of their partition). A request larger than a
 *       unit may be is {@code too_large}, with the impressions waiting for it. When the unit closes
 *       the bounds are checked again in training order, the request included, and what falls beyond
 *       them is {@code too_large}.
 *   <li>Where the job's range meets another's at a handoff ({@link SegmentCut}), a backfill leaves
 *       the impressions it reads past its cut that are not its requests' to the next job ({@code
 *       impressions_handed_on}), and the next job counts the earlier one's requests it reads again
 *       ({@code requests_before_handoff}) and their impressions it had read ({@code
 *       impressions_before_handoff}) without training them. Where which of the two counts an
 *       impression both read is not known yet, it waits for its request outside the unit's bounds
 *       (a second copy, or one beyond them) or to the backfill's end: at most what producers sent
 *       for the key in the two join windows and disorders both read.
 * </ul>
 *
 * Every impression that enters ends in exactly one place — an emitted unit, the duplicate counter,
 * or a dead letter — and the counters ({@link JobMetrics}) say which. Bad data never throws. All
 * state of a key is gone once its marker expires.
 *
 * <p>Timers are never deleted: Flink keeps one timer per key and time, so deleting a stale orphan
 * timer could delete a unit's close timer of the same time. A timer that fires finds the state and
 * does only what the state still asks for.
 */
public final class RequestUnitAssembler
    extends KeyedCoProcessFunction<String, EventPart, EventPart, CompactUnit>
    implements org.apache.flink.streaming.api.checkpoint.CheckpointedFunction {
  private static final long serialVersionUID = 1L;

  /** Late, orphan and too-large events, with their reason. */
  public static final OutputTag<DeadLetter> DEAD_LETTERS =
      new OutputTag<>("assembler-dead-letters", new AvroTypeInfo<>(DeadLetter.class));

  /** Impressions of a unit in the order training sees them. */
  static final Comparator<EventPart> IMPRESSION_ORDER =
      Comparator.comparingLong(EventPart::timestampMs).thenComparing(EventPart::impressionId);

  /** Keyed state of the request waiting for its window to close (its part). */
  static final String REQUEST_STATE = "request-part";

  /** Keyed state of the impressions waiting with or for their request (their parts, by id). */
  static final String IMPRESSIONS_STATE = "impression-parts";

  /**
   * What an earlier release kept under these names: the events as Avro records. A restore from its
   * checkpoint finds them and turns a key's into parts the first time the key is touched; none can
   * be left once the watermark is two join windows past the first one after the restore.
   */
  static final String LEGACY_REQUEST_STATE = "request";

  static final String LEGACY_IMPRESSIONS_STATE = "impressions";

  /** {@link #legacyUntil} before the first watermark: keep looking. */
  private static final long UNTIL_A_WATERMARK = Long.MIN_VALUE + 1;

  /**
   * The operator that runs {@code assembler} on the connected, keyed requests (first input) and
   * impressions: Flink's, but waiting up to {@code silentInputWaitMs} for a topic that falls silent
   * while the other goes on, and once it moves again holding it for the sources' {@code
   * idleTimeoutMs}, for all its partitions to come back ({@link SilentInputWait}).
   */
  public static TwoInputStreamOperator<EventPart, EventPart, CompactUnit> operator(
      RequestUnitAssembler assembler, long silentInputWaitMs, long idleTimeoutMs) {
    return new SilentInputWait<>(
        assembler, silentInputWaitMs, idleTimeoutMs, "requests topic", "impressions topic");
  }

  /**
   * The assembler's settings.
   *
   * @param joinWindowMs impressions join a request up to this long after its event time
   * @param maxImpressionsPerUnit impressions kept per unit at most
   * @param requestsTopic names the source of request dead letters
   * @param impressionsTopic names the source of impression dead letters
   * @param maxIdsPerUnit ids one unit may hold, its request's and its impressions'
   * @param maxUnitBytes bytes of parts one open unit may keep ({@link EventPart#sizeBytes})
   * @param deadLetterMaxPayloadBytes bytes of its event a dead letter keeps
   * @param cut where this job's range meets the job before or after it ({@link SegmentCut})
   */
  public record AssemblerConfig(
      long joinWindowMs,
      int maxImpressionsPerUnit,
      String requestsTopic,
      String impressionsTopic,
      int maxIdsPerUnit,
      long maxUnitBytes,
      int deadLetterMaxPayloadBytes,
      SegmentCut cut)
      implements Serializable {
    public AssemblerConfig {
      cut = cut == null ? SegmentCut.NONE : cut;
      if (joinWindowMs <= 0) {
        throw new IllegalArgumentException("joinWindowMs must be > 0, got " + joinWindowMs);
      }
      if (maxImpressionsPerUnit < 1 || maxIdsPerUnit < 1 || maxUnitBytes < 1) {
        throw new IllegalArgumentException(
            "unit limits must be >= 1, got "
                + maxImpressionsPerUnit
                + " impressions, "
                + maxIdsPerUnit
                + " ids, "
                + maxUnitBytes
                + " bytes");
      }
      if (requestsTopic == null
          || requestsTopic.isBlank()
          || impressionsTopic == null
          || impressionsTopic.isBlank()) {
        throw new IllegalArgumentException(
            "topic names must not be empty, got '"
                + requestsTopic
                + "' and '"
                + impressionsTopic
                + "'");
      }
    }

    /** With the default bounds on ids and bytes per unit and on dead letters' payloads. */
    public AssemblerConfig(
        long joinWindowMs,
        int maxImpressionsPerUnit,
        String requestsTopic,
        String impressionsTopic) {
      this(
          joinWindowMs,
          maxImpressionsPerUnit,
          requestsTopic,
          impressionsTopic,
          1 << 16,
          16L << 20,
          64 << 10,
          SegmentCut.NONE);
    }

    /** These settings for a job whose range meets another's at {@code cut}. */
    public AssemblerConfig withCut(SegmentCut cut) {
      return new AssemblerConfig(
          joinWindowMs,
          maxImpressionsPerUnit,
          requestsTopic,
          impressionsTopic,
          maxIdsPerUnit,
          maxUnitBytes,
          deadLetterMaxPayloadBytes,
          cut);
    }
  }

  private final AssemblerConfig config;
  private final FeatureSpec features;
  private final TableCapacities tables;
  private transient UnitEncoder encoder;

  private transient ValueState<EventPart> request;
  private transient MapState<String, EventPart> impressions;
  private transient ValueState<RequestEvent> legacyRequest;
  private transient MapState<String, ImpressionEvent> legacyImpressions;

  /** Once the watermark passes this, no key holds an earlier release's state any more. */
  private transient long legacyUntil;

  /** Operator state: the watermark each subtask had reached at the checkpoint. */
  static final String WATERMARK_STATE = "watermark-reached";

  private transient org.apache.flink.api.common.state.ListState<Long> watermarkState;

  /** The highest watermark this subtask has seen, saved with each checkpoint. */
  private transient long watermarkReached;

  /**
   * The watermark the job had reached at the checkpoint it restored (the lowest of its subtasks'),
   * below which an event is late as it was before the restore. Flink does not keep watermarks: a
   * restored job starts from none, and a request the job had dead-lettered as late before a restart
   * was trained after it, its version's event time going back.
   */
  private transient long watermarkFloor = Long.MIN_VALUE;

  /** Set once the unit closed: the event time at which the closed marker expires. */
  private transient ValueState<Long> closedUntil;

  /**
   * Set with {@link #closedUntil} when the unit closed because its request was a dead letter: that
   * request's reason, which the impressions arriving after it are dead-lettered with. Not set (and
   * absent from checkpoints of earlier releases) for a unit that closed as units do.
   */
  private transient ValueState<String> closedAs;

  /**
   * Set in a job that hands on once a copy of the key's request near its cut came ({@link
   * SegmentCut#near}): the impressions the next job reads too that come for it are this job's. Its
   * marker then stays to the end of the job, so that which job counts them does not depend on when
   * they come.
   */
  private transient ValueState<Boolean> near;

  /** Impressions kept to the job's end to learn which job counts them ({@link #hold}). */
  private transient MapState<String, EventPart> held;

  /** {@link #closedAs} of a request the job before a handoff trained ({@link SegmentCut#prior}). */
  static final String CLOSED_BEFORE_HANDOFF = "before-handoff";

  /**
   * How much longer, in event time, a job after a handoff keeps the marker of a request the job
   * before it trained, and lets an impression that job read wait for its request: the impressions
   * that job read are all read here by then unless a partition lags the others by more.
   */
  static final long BEFORE_HANDOFF_WAIT_MS = 3_600_000L;

  /** Operator state: the offsets of the handoff this job started from ({@link SegmentCut}). */
  static final String HANDOFF_CUT_STATE = "handoff-cut";

  private transient org.apache.flink.api.common.state.ListState<String> cutState;

  /**
   * Where this job's range meets the others': the configuration's, but the earlier job's offsets as
   * the job first started with them, kept in its checkpoints (a restore does not take them from a
   * handoff written since at the same path).
   */
  private transient SegmentCut cut;

  /**
   * Whether this job's range meets another's ({@link #cut}): where it does not, nothing of the cut
   * costs a state access on the way of a request or a unit.
   */
  private transient boolean atCut;

  /** Set while impressions wait without a request: when they become orphans. */
  private transient ValueState<Long> orphanAt;

  /**
   * What the waiting impressions of an open unit take: {impressions, bytes, ids}. Bounds the state
   * of one key as impressions arrive, whatever a producer sends.
   */
  private transient ValueState<long[]> load;

  private transient Counter units;
  private transient Counter joined;
  private transient Counter duplicateImpressions;
  private transient Counter duplicateRequests;
  private transient Counter withoutImpressions;
  private transient Counter deadRequests;
  private transient Counter deadImpressions;
  private transient Map<String, Counter> deadByReason;
  private transient Counter handedOn;
  private transient Counter requestsBeforeHandoff;
  private transient Counter impressionsBeforeHandoff;

  /**
   * An assembler whose units are encoded under {@code model}'s features: the values become ids
   * here, in parallel, so what reaches the trainer is ids and floats. No unit takes more rows of a
   * table than the table keeps hot ({@link TableCapacities}).
   */
  public RequestUnitAssembler(AssemblerConfig config, ModelConfig model) {
    this.config = config;
    this.features = model.features();
    this.tables = TableCapacities.of(model);
  }

  @Override
  public void open(OpenContext openContext) {
    encoder = new UnitEncoder(new UnitLayout(features));
    request =
        getRuntimeContext()
            .getState(new ValueStateDescriptor<>(REQUEST_STATE, CodecTypeInfo.EVENT_PART));
    impressions =
        getRuntimeContext()
            .getMapState(
                new MapStateDescriptor<>(
                    IMPRESSIONS_STATE, Types.STRING, CodecTypeInfo.EVENT_PART));
    legacyRequest =
        getRuntimeContext()
            .getState(
                new ValueStateDescriptor<>(
                    LEGACY_REQUEST_STATE, new AvroTypeInfo<>(RequestEvent.class)));
    legacyImpressions =
        getRuntimeContext()
            .getMapState(
                new MapStateDescriptor<>(
                    LEGACY_IMPRESSIONS_STATE,
                    Types.STRING,
                    new AvroTypeInfo<>(ImpressionEvent.class)));
    legacyUntil = UNTIL_A_WATERMARK;
    closedUntil =
        getRuntimeContext().getState(new ValueStateDescriptor<>("closed-until", Types.LONG));
    closedAs = getRuntimeContext().getState(new ValueStateDescriptor<>("closed-as", Types.STRING));
    near = getRuntimeContext().getState(new ValueStateDescriptor<>("near-cut", Types.BOOLEAN));
    held =
        getRuntimeContext()
            .getMapState(
                new MapStateDescriptor<>(
                    "held-to-the-end", Types.STRING, CodecTypeInfo.EVENT_PART));
    orphanAt = getRuntimeContext().getState(new ValueStateDescriptor<>("orphan-at", Types.LONG));
    load =
        getRuntimeContext()
            .getState(
                new ValueStateDescriptor<>(
                    "unit-load", PrimitiveArrayTypeInfo.LONG_PRIMITIVE_ARRAY_TYPE_INFO));

    MetricGroup g = JobMetrics.group(getRuntimeContext().getMetricGroup());
    units = g.counter(JobMetrics.UNITS);
    joined = g.counter(JobMetrics.IMPRESSIONS_JOINED);
    duplicateImpressions = g.counter(JobMetrics.DUPLICATE_IMPRESSIONS);
    duplicateRequests = g.counter(JobMetrics.DUPLICATE_REQUESTS);
    withoutImpressions = g.counter(JobMetrics.REQUESTS_WITHOUT_IMPRESSIONS);
    deadRequests = g.counter(JobMetrics.DEAD_LETTER_REQUESTS);
    deadImpressions = g.counter(JobMetrics.DEAD_LETTER_IMPRESSIONS);
    handedOn = g.counter(JobMetrics.IMPRESSIONS_HANDED_ON);
    requestsBeforeHandoff = g.counter(JobMetrics.REQUESTS_BEFORE_HANDOFF);
    impressionsBeforeHandoff = g.counter(JobMetrics.IMPRESSIONS_BEFORE_HANDOFF);
    deadByReason = new HashMap<>();
    for (String reason :
        List.of(
            DeadLetterReasons.LATE,
            DeadLetterReasons.ORPHAN,
            DeadLetterReasons.TOO_LARGE,
            DeadLetterReasons.CONFLICTING_DUPLICATE)) {
      deadByReason.put(reason, g.counter(JobMetrics.deadLetters(reason)));
    }
  }

  /**
   * The watermark, or the one the restored checkpoint had reached where that is higher; notes the
   * highest seen, for the next checkpoint.
   */
  private long watermark(Context ctx) {
    long w = ctx.timerService().currentWatermark();
    watermarkReached = Math.max(watermarkReached, w);
    return Math.max(w, watermarkFloor);
  }

  /** Operator state {@code name}, every subtask's entries given to each on a restore. */
  private static <T> org.apache.flink.api.common.state.ListState<T> unionList(
      org.apache.flink.runtime.state.FunctionInitializationContext context,
      String name,
      org.apache.flink.api.common.typeinfo.TypeInformation<T> type)
      throws Exception {
    return context
        .getOperatorStateStore()
        .getUnionListState(new org.apache.flink.api.common.state.ListStateDescriptor<>(name, type));
  }

  @Override
  public void initializeState(org.apache.flink.runtime.state.FunctionInitializationContext context)
      throws Exception {
    watermarkState = unionList(context, WATERMARK_STATE, Types.LONG);
    watermarkReached = Long.MIN_VALUE;
    watermarkFloor = Long.MIN_VALUE;
    cutState = unionList(context, HANDOFF_CUT_STATE, Types.STRING);
    cut = config.cut();
    atCut = !cut.none();
    if (context.isRestored()) {
      Map<Integer, Long> prior = new HashMap<>();
      Map<Integer, Long> overlap = new HashMap<>();
      for (String entry : cutState.get()) {
        String[] f = entry.split(":");
        (f[0].equals("prior") ? prior : overlap).put(Integer.parseInt(f[1]), Long.parseLong(f[2]));
      }
      cut = cut.after(prior, overlap);
      atCut = !cut.none();
      long lowest = Long.MAX_VALUE;
      boolean any = false;
      for (Long w : watermarkState.get()) {
        lowest = Math.min(lowest, w);
        any = true;
      }
      if (any) {
        watermarkFloor = lowest;
        watermarkReached = lowest;
      }
    }
  }

  @Override
  public void snapshotState(org.apache.flink.runtime.state.FunctionSnapshotContext context)
      throws Exception {
    watermarkState.update(List.of(watermarkReached));
    List<String> entries = new ArrayList<>();
    cut.priorBefore().forEach((p, o) -> entries.add("prior:" + p + ":" + o));
    cut.overlapBefore().forEach((p, o) -> entries.add("overlap:" + p + ":" + o));
    cutState.update(entries);
  }

  private long closeAt(EventPart r) {
    return saturatedAdd(r.timestampMs(), config.joinWindowMs());
  }

  /** Turns this key's state of an earlier release, if it may still hold any, into parts. */
  private void migrateLegacy(long watermark) throws Exception {
    if (legacyUntil == UNTIL_A_WATERMARK && watermark != Long.MIN_VALUE) {
      legacyUntil = saturatedAdd(watermark, 2 * config.joinWindowMs());
    }
    if (legacyUntil != UNTIL_A_WATERMARK && watermark > legacyUntil) {
      return;
    }
    RequestEvent r = legacyRequest.value();
    if (r != null) {
      request.update(encoder.requestPart(r, AvroCodec.encode(r)));
      legacyRequest.clear();
    }
    if (!legacyImpressions.isEmpty()) {
      for (Map.Entry<String, ImpressionEvent> e : legacyImpressions.entries()) {
        ImpressionEvent im = e.getValue();
        impressions.put(e.getKey(), encoder.impressionPart(im, AvroCodec.encode(im)));
      }
      legacyImpressions.clear();
    }
  }

  @Override
  public void processElement1(EventPart r, Context ctx, Collector<CompactUnit> out)
      throws Exception {
    migrateLegacy(watermark(ctx));
    if (cut.prior(r)) {
      requestBeforeHandoff(ctx, r);
      return;
    }
    if (cut.near(r) && !isNear()) {
      near.update(true); // a copy of it, if this is one, takes the key's impressions here too
      Long closed = closedUntil.value();
      if (closed != null) {
        markClosed(ctx, closed); // to the job's end, now
      }
    }
    EventPart open = request.value();
    if (open != null && !open.sameContent(r)) {
      deadRequest(
          ctx,
          DeadLetterReasons.CONFLICTING_DUPLICATE,
          r,
          "a second request '" + r.requestId() + "' whose content differs from the first");
      return;
    }
    if (open != null || closedUntil.value() != null) {
      duplicateRequests.inc();
      return;
    }
    if (atCut) {
      boolean nearCut = isNear();
      if (!nearCut) {
        holdPast(ctx); // those waiting that the next job reads too are its, unless a copy is near
      }
      settleAside(ctx, nearCut);
    }
    long[] rows = tables.counts();
    tables.add(r, rows);
    int overTable = tables.over(rows);
    if (r.ids().length > config.maxIdsPerUnit()
        || r.sizeBytes() > config.maxUnitBytes()
        || overTable >= 0) {
      tooLargeRequest(
          ctx, r, overTable < 0 ? "" : "; it alone takes " + tables.describe(overTable, rows));
      return;
    }
    long close = closeAt(r);
    long watermark = watermark(ctx);
    if (close <= watermark) {
      deadRequest(
          ctx,
          DeadLetterReasons.LATE,
          r,
          "request window closes at "
              + time(close)
              + ", at or before the watermark "
              + watermark(watermark));
      for (EventPart e : impressions.values()) {
        deadImpression(
            ctx, DeadLetterReasons.LATE, e, "its request came after its window closed at " + close);
      }
      impressions.clear();
      orphanAt.clear();
      load.clear();
      markClosed(ctx, saturatedAdd(watermark, config.joinWindowMs()));
      closedAs.update(DeadLetterReasons.LATE);
      return;
    }
    request.update(r);
    ctx.timerService().registerEventTimeTimer(close);
    List<String> lateIds = new ArrayList<>();
    for (Map.Entry<String, EventPart> e : impressions.entries()) {
      if (e.getValue().timestampMs() >= close) {
        lateIds.add(e.getKey());
      }
    }
    for (String id : lateIds) {
      EventPart e = impressions.get(id);
      impressions.remove(id);
      release(e);
      deadImpression(
          ctx,
          DeadLetterReasons.LATE,
          e,
          "impression time " + e.timestampMs() + " is at or after its unit's close " + close);
    }
    // the orphan timer, if any, stays registered and finds the request when it fires: deleting it
    // could delete this unit's own timer, since timers of one key and time are one timer
    orphanAt.clear();
  }

  @Override
  public void processElement2(EventPart e, Context ctx, Collector<CompactUnit> out)
      throws Exception {
    migrateLegacy(watermark(ctx));
    Long closed = closedUntil.value();
    if (closed != null) {
      String as = closedAs.value();
      if (cut.past(e) && !isNear()) {
        hold(ctx, e);
      } else if (CLOSED_BEFORE_HANDOFF.equals(as)) {
        impressionBeforeHandoff(ctx, e);
      } else if (as == null) {
        deadImpression(ctx, DeadLetterReasons.LATE, e, "its unit had already closed");
      } else {
        // no unit was made: the impression shares its request's fate, and says so
        deadImpression(
            ctx, as, e, "its request '" + e.requestId() + "' is a dead letter (" + as + ")");
      }
      return;
    }
    EventPart r = request.value();
    if (cut.past(e) && r != null && !isNear()) {
      hold(ctx, e);
      return;
    }
    if (r != null && e.timestampMs() >= closeAt(r)) {
      deadImpression(
          ctx,
          DeadLetterReasons.LATE,
          e,
          "impression time " + e.timestampMs() + " is at or after its unit's close " + closeAt(r));
      return;
    }
    long watermark = watermark(ctx);
    long window = saturatedAdd(e.timestampMs(), config.joinWindowMs());
    // an impression both jobs at a handoff read waits for its request however late it comes: which
    // job counts it follows from where its request lies, not from when the two came
    boolean shared = cut.past(e) || cut.overlap(e);
    if (r == null && window <= watermark && !shared) {
      // its window closed before it came: its request, earlier still, was late or closed without
      // it; waiting would only make it an orphan at the next watermark, for the wrong reason
      deadImpression(
          ctx,
          DeadLetterReasons.LATE,
          e,
          "its join window closed at "
              + time(window)
              + ", at or before the watermark "
              + watermark(watermark)
              + ", before it arrived");
      return;
    }
    EventPart first = impressions.get(e.impressionId());
    if (first != null && r == null && shared) {
      // a copy the other job at a handoff reads too, of a request not come: whether it is this
      // job's copy to count follows from that request, so it waits beside the first until then
      impressions.put(asideKey(e, COPY), e);
      return;
    }
    if (first != null) {
      secondCopy(ctx, first, e);
      return;
    }
    String over = admit(e);
    String key = e.impressionId();
    if (over != null && r == null && shared) {
      key = asideKey(e, OVER); // which job dead-letters it follows from the request too
    } else if (over != null) {
      deadImpression(ctx, DeadLetterReasons.TOO_LARGE, e, over);
      return;
    }
    impressions.put(key, e);
    if (r == null && orphanAt.value() == null) {
      long at =
          cut.overlap(e)
              ? saturatedAdd(Math.max(window, watermark), BEFORE_HANDOFF_WAIT_MS)
              : window;
      orphanAt.update(at);
      ctx.timerService().registerEventTimeTimer(at);
    }
  }

  @Override
  public void onTimer(long t, OnTimerContext ctx, Collector<CompactUnit> out) throws Exception {
    migrateLegacy(watermark(ctx));
    if (atCut && t == Long.MAX_VALUE && !held.isEmpty()) {
      settleHeld(ctx);
    }
    EventPart r = request.value();
    if (r != null) {
      long close = closeAt(r);
      if (t >= close) {
        emit(r, close, ctx, out);
      }
      return;
    }
    Long closed = closedUntil.value();
    if (closed != null) {
      if (t >= closed) {
        closedUntil.clear();
        closedAs.clear();
        if (atCut) {
          near.clear();
        }
      }
      return;
    }
    Long orphan = orphanAt.value();
    if (orphan != null && t >= orphan) {
      // a job started from a handoff keeps its cut for good: its keys past the events both jobs
      // read are plain ones, whose impressions are each an orphan at their own time too
      if (orphanEachAtItsOwnTime(ctx, t)) {
        return;
      }
      if (atCut) {
        settleAside(ctx, false); // no request came: those aside are this job's, with the rest
        if (t != Long.MAX_VALUE && waitForTheEnd(ctx)) {
          return;
        }
      }
      for (EventPart e : impressions.values()) {
        if (cut.past(e)) {
          handOn(e); // no request of this job came: the next job's, or an orphan it counts
          continue;
        }
        deadImpression(ctx, DeadLetterReasons.ORPHAN, e, orphanDetail(e));
      }
      impressions.clear();
      orphanAt.clear();
      load.clear();
    }
  }

  /**
   * Orphans the waiting impressions whose own join window ended by {@code t}, and waits on for the
   * others, whose request may still come in time: every one was orphaned at the first one's window
   * end, a later one whose request then came in time too, with the wrong reason. Only where every
   * waiting impression is plainly this job's (none waiting aside, none at a handoff's cut) and some
   * wait on; false, having done nothing, otherwise.
   */
  private boolean orphanEachAtItsOwnTime(Context ctx, long t) throws Exception {
    long next = Long.MAX_VALUE;
    List<EventPart> due = new ArrayList<>();
    for (Map.Entry<String, EventPart> w : impressions.entries()) {
      EventPart e = w.getValue();
      if (!w.getKey().equals(e.impressionId()) || cut.past(e) || cut.overlap(e)) {
        return false;
      }
      long own = saturatedAdd(e.timestampMs(), config.joinWindowMs());
      if (own <= t) {
        due.add(e);
      } else {
        next = Math.min(next, own);
      }
    }
    if (next == Long.MAX_VALUE) {
      return false; // none waits on: every one goes, as below
    }
    for (EventPart e : due) {
      impressions.remove(e.impressionId());
      release(e);
      deadImpression(ctx, DeadLetterReasons.ORPHAN, e, orphanDetail(e));
    }
    orphanAt.update(next);
    ctx.timerService().registerEventTimeTimer(next);
    return true;
  }

  private String orphanDetail(EventPart e) {
    return "no request '"
        + e.requestId()
        + "' arrived within the join window of "
        + config.joinWindowMs()
        + " ms (a request before a backfill's range or a handoff's offsets, or deleted by"
        + " retention, never comes)";
  }

  private void emit(EventPart r, long close, OnTimerContext ctx, Collector<CompactUnit> out)
      throws Exception {
    List<EventPart> imps = new ArrayList<>();
    for (EventPart e : impressions.values()) {
      imps.add(e);
    }
    imps.sort(IMPRESSION_ORDER);
    // the request arrives after some impressions at times, so the bounds are checked again here,
    // in training order: what falls beyond them is the last of the unit
    int keep = 0;
    long ids = r.ids().length;
    long bytes = r.sizeBytes();
    long[] rows = tables.counts();
    tables.add(r, rows);
    long[] rowsOf = tables.counts();
    String overTable = "";
    while (keep < imps.size() && keep < config.maxImpressionsPerUnit()) {
      EventPart e = imps.get(keep);
      if (ids + e.ids().length > config.maxIdsPerUnit()
          || bytes + e.sizeBytes() > config.maxUnitBytes()) {
        break;
      }
      java.util.Arrays.fill(rowsOf, 0);
      tables.add(e, rowsOf);
      if (!tables.fit(rows, rowsOf)) {
        overTable = "; one more would take " + tables.describeOver(rows, rowsOf);
        break;
      }
      tables.addTo(rows, rowsOf);
      ids += e.ids().length;
      bytes += e.sizeBytes();
      keep++;
    }
    for (int i = keep; i < imps.size(); i++) {
      deadImpression(
          ctx,
          DeadLetterReasons.TOO_LARGE,
          imps.get(i),
          "request has "
              + imps.size()
              + " impressions; the unit keeps "
              + keep
              + " within assembler.max-impressions-per-unit ("
              + config.maxImpressionsPerUnit()
              + "), assembler.max-ids-per-unit ("
              + config.maxIdsPerUnit()
              + "), assembler.max-unit-bytes ("
              + config.maxUnitBytes()
              + ") and its tables' hot capacities"
              + overTable);
    }
    if (keep == 0) {
      withoutImpressions.inc();
    } else {
      out.collect(encoder.assemble(r, imps.subList(0, keep), close));
      units.inc();
      joined.inc(keep);
    }
    request.clear();
    impressions.clear();
    load.clear();
    markClosed(ctx, saturatedAdd(close, config.joinWindowMs()));
  }

  /**
   * Marks the unit of the key's request closed until event time {@code until}; one near this job's
   * cut, to the job's end.
   */
  private void markClosed(Context ctx, long until) throws Exception {
    long to = atCut && isNear() ? Long.MAX_VALUE : until;
    closedUntil.update(to);
    ctx.timerService().registerEventTimeTimer(to);
  }

  /** Whether a copy of the key's request near this job's cut came ({@link #near}). */
  private boolean isNear() throws Exception {
    return Boolean.TRUE.equals(near.value());
  }

  /**
   * At a waiting key's orphan time, before the job's end: its impressions are orphans, but those
   * the next job reads too wait for a request of this job to the end ({@link SegmentCut#past}).
   * Whether any wait on, and so the key is left as it is, its timer moved to the end.
   */
  private boolean waitForTheEnd(OnTimerContext ctx) throws Exception {
    List<EventPart> orphans = new ArrayList<>();
    boolean waiting = false;
    for (EventPart e : impressions.values()) {
      if (cut.past(e)) {
        waiting = true;
      } else {
        orphans.add(e);
      }
    }
    if (!waiting) {
      return false;
    }
    for (EventPart e : orphans) {
      impressions.remove(e.impressionId());
      release(e);
      deadImpression(ctx, DeadLetterReasons.ORPHAN, e, orphanDetail(e));
    }
    orphanAt.update(Long.MAX_VALUE);
    ctx.timerService().registerEventTimeTimer(Long.MAX_VALUE);
    return true;
  }

  /**
   * A request the job before the handoff trained, read again here (from two join windows and
   * disorders before the handoff's cut) so that its impressions read again are told apart from
   * orphans: they were counted there. The key closes as it would have there; this job's own copy of
   * the request, if one came first, stays.
   */
  private void requestBeforeHandoff(Context ctx, EventPart r) throws Exception {
    requestsBeforeHandoff.inc();
    if (request.value() != null || closedUntil.value() != null) {
      return;
    }
    holdPast(ctx);
    for (EventPart e : impressions.values()) {
      impressionBeforeHandoff(ctx, e);
    }
    impressions.clear();
    orphanAt.clear();
    load.clear();
    markClosed(
        ctx,
        saturatedAdd(
            Math.max(closeAt(r), watermark(ctx)), config.joinWindowMs() + BEFORE_HANDOFF_WAIT_MS));
    closedAs.update(CLOSED_BEFORE_HANDOFF);
  }

  /**
   * An impression of a request the job before the handoff trained: counted there if that job read
   * it; if it came after where that job stopped reading (a join window and the disorder past its
   * cut), it is late.
   */
  private void impressionBeforeHandoff(Context ctx, EventPart e) {
    if (cut.overlap(e)) {
      impressionsBeforeHandoff.inc();
      return;
    }
    deadImpression(
        ctx,
        DeadLetterReasons.LATE,
        e,
        "its request '"
            + e.requestId()
            + "' was trained by the backfill before the handoff, whose unit closed there");
  }

  /** Leaves impression {@code e}, past this job's cut, to the next job, which reads it too. */
  private void handOn(EventPart e) {
    handedOn.inc();
  }

  /**
   * Keeps impression {@code e}, one the next job reads too, of a request not near this job's cut,
   * to the job's end: the next job's then, unless a copy of the request near the cut came by then
   * (the next job takes the key's impressions as this job's then). Which job counts it so follows
   * from where the request's copies lie, not from when they came.
   */
  private void hold(Context ctx, EventPart e) throws Exception {
    held.put(asideKey(e, COPY), e); // one place per read
    ctx.timerService().registerEventTimeTimer(Long.MAX_VALUE);
  }

  /**
   * At the job's end: the held impressions ({@link #hold}) are handed on, or, where a copy of the
   * key's request near the cut came, late here.
   */
  private void settleHeld(Context ctx) throws Exception {
    boolean nearCut = isNear();
    for (EventPart e : held.values()) {
      if (nearCut) {
        deadImpression(ctx, DeadLetterReasons.LATE, e, "its unit had already closed");
      } else {
        handOn(e);
      }
    }
    held.clear();
  }

  /** Holds the waiting impressions the next job reads too ({@link #hold}), out of the load. */
  private void holdPast(Context ctx) throws Exception {
    if (cut.pastFrom().isEmpty() || impressions.isEmpty()) {
      return;
    }
    List<String> ids = new ArrayList<>();
    for (Map.Entry<String, EventPart> w : impressions.entries()) {
      if (cut.past(w.getValue())) {
        ids.add(w.getKey());
      }
    }
    for (String id : ids) {
      EventPart e = impressions.get(id);
      impressions.remove(id);
      if (id.equals(e.impressionId())) {
        release(e); // one waiting aside took nothing of the unit's load
      }
      hold(ctx, e);
    }
  }

  /** {@link #asideKey} of a second copy of an impression, waiting beside the first. */
  private static final char COPY = '\u0000';

  /** {@link #asideKey} of an impression beyond its unit's bounds. */
  private static final char OVER = '\u0001';

  /**
   * Where impression {@code e} waits aside, outside its unit's load, for the key's request to say
   * which of two jobs at a handoff counts it ({@link #settleAside}): a second copy ({@link #COPY}),
   * or one beyond its unit's bounds ({@link #OVER}).
   */
  private static String asideKey(EventPart e, char kind) {
    return e.impressionId() + kind + e.sourcePartition() + "/" + e.sourceOffset();
  }

  /**
   * The impressions that waited aside ({@link #asideKey}) for the key's request, now come (or never
   * to come): this job's. A copy whose first waits is a duplicate (or a dead letter, where its
   * content differs); any other takes its place among the unit's impressions if the unit's bounds
   * let it, and is {@code too_large} if not. Those the next job reads too only with {@code past}:
   * the key's request is near this job's cut.
   */
  private void settleAside(Context ctx, boolean past) throws Exception {
    List<String> aside = new ArrayList<>();
    for (Map.Entry<String, EventPart> w : impressions.entries()) {
      if (!w.getKey().equals(w.getValue().impressionId()) && (past || !cut.past(w.getValue()))) {
        aside.add(w.getKey());
      }
    }
    aside.sort(null); // each impression's copies before those beyond the bounds
    for (String id : aside) {
      EventPart e = impressions.get(id);
      impressions.remove(id);
      EventPart first = impressions.get(e.impressionId());
      if (first != null) {
        secondCopy(ctx, first, e);
        continue;
      }
      String over = admit(e);
      if (over != null) {
        deadImpression(ctx, DeadLetterReasons.TOO_LARGE, e, over);
      } else {
        impressions.put(e.impressionId(), e);
      }
    }
  }

  /**
   * Impression {@code e}, a second copy of {@code first}: a duplicate, or a dead letter where its
   * content differs.
   */
  private void secondCopy(Context ctx, EventPart first, EventPart e) {
    if (first.sameContent(e)) {
      duplicateImpressions.inc();
    } else {
      deadImpression(
          ctx,
          DeadLetterReasons.CONFLICTING_DUPLICATE,
          e,
          "a second impression '" + e.impressionId() + "' whose content differs from the first");
    }
  }

  /**
   * Counts {@code e} into its unit's load if the unit can take it; otherwise says which bound it
   * breaks (the unit keeps what it has).
   */
  private String admit(EventPart e) throws Exception {
    long[] l = load.value();
    if (l == null) {
      l = new long[3];
    }
    if (l[0] + 1 > config.maxImpressionsPerUnit()) {
      return "its unit already holds "
          + l[0]
          + " impressions; assembler.max-impressions-per-unit is "
          + config.maxImpressionsPerUnit();
    }
    if (l[1] + e.sizeBytes() > config.maxUnitBytes()) {
      return "its unit would keep "
          + (l[1] + e.sizeBytes())
          + " bytes; assembler.max-unit-bytes is "
          + config.maxUnitBytes();
    }
    if (l[2] + e.ids().length > config.maxIdsPerUnit()) {
      return "its unit would hold "
          + (l[2] + e.ids().length)
          + " ids; assembler.max-ids-per-unit is "
          + config.maxIdsPerUnit();
    }
    l[0]++;
    l[1] += e.sizeBytes();
    l[2] += e.ids().length;
    load.update(l);
    return null;
  }

  /** Takes {@code e}, no longer waiting, out of its unit's load. */
  private void release(EventPart e) throws Exception {
    long[] l = load.value();
    if (l != null) {
      l[0]--;
      l[1] -= e.sizeBytes();
      l[2] -= e.ids().length;
      load.update(l);
    }
  }

  /** A request too large for any unit: it and the impressions waiting for it are dead letters. */
  private void tooLargeRequest(Context ctx, EventPart r, String overTable) throws Exception {
    deadRequest(
        ctx,
        DeadLetterReasons.TOO_LARGE,
        r,
        "request of "
            + r.ids().length
            + " ids and "
            + r.sizeBytes()
            + " bytes; assembler.max-ids-per-unit is "
            + config.maxIdsPerUnit()
            + ", assembler.max-unit-bytes "
            + config.maxUnitBytes()
            + overTable);
    for (EventPart e : impressions.values()) {
      deadImpression(ctx, DeadLetterReasons.TOO_LARGE, e, "its request was too large");
    }
    impressions.clear();
    orphanAt.clear();
    load.clear();
    markClosed(ctx, saturatedAdd(Math.max(closeAt(r), watermark(ctx)), config.joinWindowMs()));
    closedAs.update(DeadLetterReasons.TOO_LARGE);
  }

  private void deadRequest(Context ctx, String reason, EventPart r, String detail) {
    deadRequests.inc();
    deadByReason.get(reason).inc();
    ctx.output(
        DEAD_LETTERS,
        DeadLetters.of(
            reason,
            DeadLetters.Origin.of(config.requestsTopic(), r),
            detail,
            r.raw(),
            config.deadLetterMaxPayloadBytes()));
  }

  private static String time(long ms) {
    return io.streamrec.job.source.EventTimeGuard.time(ms);
  }

  /**
   * A watermark, and how far it runs ahead of this machine's clock where it does by more than a
   * minute: every event on time was late because a producer's clock ran fast and moved event time
   * on, which the epoch ms alone did not show.
   */
  static String watermark(long watermark) {
    long ahead = watermark - System.currentTimeMillis();
    if (ahead <= 60_000) {
      return time(watermark);
    }
    return time(watermark)
        + ", "
        + (ahead < 7_200_000
            ? ahead / 60_000 + " min"
            : String.format(java.util.Locale.ROOT, "%.1f h", ahead / 3_600_000.0))
        + " ahead of this machine's clock: events timed by a clock running fast moved event time"
        + " on (source.max-future bounds how far)";
  }

  private void deadImpression(Context ctx, String reason, EventPart e, String detail) {
    deadImpressions.inc();
    deadByReason.get(reason).inc();
    ctx.output(
        DEAD_LETTERS,
        DeadLetters.of(
            reason,
            DeadLetters.Origin.of(config.impressionsTopic(), e),
            detail,
            e.raw(),
            config.deadLetterMaxPayloadBytes()));
  }

  private static long saturatedAdd(long a, long b) {
    long s = a + b;
    return ((a ^ s) & (b ^ s)) < 0 ? Long.MAX_VALUE : s;
  }
}
