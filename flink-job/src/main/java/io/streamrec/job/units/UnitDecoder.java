package io.streamrec.job.units;

import io.streamrec.job.config.InputLimits;
import io.streamrec.job.deadletter.DeadLetters;
import io.streamrec.job.metrics.JobMetrics;
import io.streamrec.job.source.EventTimeGuard;
import io.streamrec.job.source.Throttle;
import io.streamrec.model.features.FeatureSpec;
import io.streamrec.model.units.CompactUnit;
import io.streamrec.model.units.CompactUnitCodec;
import io.streamrec.model.units.MalformedUnitException;
import io.streamrec.model.units.UnitEncoder;
import io.streamrec.model.units.UnitLayout;
import io.streamrec.schemas.DeadLetter;
import io.streamrec.schemas.DeadLetterReasons;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * Reads request-units records into {@link CompactUnit}s, at the source's parallelism: a record that
 * is not a unit, is over the size limit, holds more ids than {@code assembler.max-ids-per-unit},
 * was encoded under another feature spec than the model's, or has a timestamp the source did not
 * believe goes to the dead-letter topic with its reason (malformed, too_large, unknown_schema,
 * implausible_time), so nothing a producer writes there can fail the job. Counted as units in and
 * dead letters by reason.
 */
public final class UnitDecoder extends ProcessFunction<UnitRecord, CompactUnit> {
  private static final long serialVersionUID = 1L;

  public static final OutputTag<DeadLetter> DEAD_LETTERS =
      new OutputTag<>("unit-dead-letters", new AvroTypeInfo<>(DeadLetter.class));

  private final FeatureSpec features;
  private transient UnitLayout layout;
  private transient long layoutFingerprint;
  private final int maxRecordBytes;
  private final int maxRecordsPerSecond;
  private final InputLimits limits;
  private transient Throttle throttle;
  private transient Counter in;
  private transient Counter dead;
  private transient Counter malformed;
  private transient Counter tooLarge;
  private transient Counter otherSpec;
  private transient Counter implausible;
  private transient Counter nonFinite;
  private transient Counter badLabel;

  public UnitDecoder(
      FeatureSpec features, int maxRecordBytes, int maxRecordsPerSecond, InputLimits limits) {
    this.features = features;
    this.maxRecordBytes = maxRecordBytes;
    this.maxRecordsPerSecond = maxRecordsPerSecond;
    this.limits = limits;
  }

  @Override
  public void open(OpenContext openContext) throws Exception {
    super.open(openContext);
    layout = new UnitLayout(features);
    layoutFingerprint = layout.fingerprint();
    throttle =
        Throttle.perSubtask(
            maxRecordsPerSecond, getRuntimeContext().getTaskInfo().getNumberOfParallelSubtasks());
    MetricGroup g = JobMetrics.group(getRuntimeContext().getMetricGroup());
    in = g.counter(JobMetrics.UNITS_IN);
    dead = g.counter(JobMetrics.DEAD_LETTER_UNITS);
    malformed = g.counter(JobMetrics.deadLetters(DeadLetterReasons.MALFORMED));
    tooLarge = g.counter(JobMetrics.deadLetters(DeadLetterReasons.TOO_LARGE));
    otherSpec = g.counter(JobMetrics.deadLetters(DeadLetterReasons.UNKNOWN_SCHEMA));
    implausible = g.counter(JobMetrics.deadLetters(DeadLetterReasons.IMPLAUSIBLE_TIME));
    nonFinite = g.counter(JobMetrics.deadLetters(DeadLetterReasons.NON_FINITE));
    badLabel = g.counter(JobMetrics.deadLetters(DeadLetterReasons.BAD_LABEL));
  }

  @Override
  public void processElement(UnitRecord r, Context ctx, Collector<CompactUnit> out) {
    if (throttle != null) {
      throttle.acquire();
    }
    in.inc();
    byte[] value = r.value == null ? new byte[0] : r.value;
    if (value.length > maxRecordBytes) {
      deadLetter(
          ctx,
          tooLarge,
          DeadLetterReasons.TOO_LARGE,
          r,
          "record of " + value.length + " bytes exceeds source.max-record-bytes=" + maxRecordBytes);
      return;
    }
    if (r.implausibleTime != null) {
      deadLetter(ctx, implausible, DeadLetterReasons.IMPLAUSIBLE_TIME, r, r.implausibleTime);
      return;
    }
    CompactUnit u;
    try {
      u = CompactUnitCodec.decode(value);
    } catch (MalformedUnitException e) {
      deadLetter(ctx, malformed, DeadLetterReasons.MALFORMED, r, e.getMessage());
      return;
    }
    if (u.layoutFingerprint() != layoutFingerprint) {
      deadLetter(
          ctx,
          otherSpec,
          DeadLetterReasons.UNKNOWN_SCHEMA,
          r,
          "a unit encoded under another feature spec (layout "
              + Long.toHexString(u.layoutFingerprint())
              + "; this model's is "
              + Long.toHexString(layoutFingerprint)
              + ")");
      return;
    }
    String wrong = wrongTimes(u, r.timestampMs);
    if (wrong == null) {
      wrong = wrongShape(u);
    }
    if (wrong != null) {
      deadLetter(ctx, malformed, DeadLetterReasons.MALFORMED, r, wrong);
      return;
    }
    String values = notFinite(u);
    if (values != null) {
      deadLetter(ctx, nonFinite, DeadLetterReasons.NON_FINITE, r, values);
      return;
    }
    String dense = outOfSquashedRange(u);
    if (dense != null) {
      deadLetter(ctx, malformed, DeadLetterReasons.MALFORMED, r, dense);
      return;
    }
    String label = features.untrainableLabel(u.labels(), true);
    if (label != null) {
      deadLetter(ctx, badLabel, DeadLetterReasons.BAD_LABEL, r, label);
      return;
    }
    if (u.ids().length > limits.maxIdsPerUnit()) {
      deadLetter(
          ctx,
          tooLarge,
          DeadLetterReasons.TOO_LARGE,
          r,
          "a unit of "
              + u.ids().length
              + " ids; assembler.max-ids-per-unit is "
              + limits.maxIdsPerUnit());
      return;
    }
    long[] rows = limits.tables().counts();
    limits.tables().add(u, u.ids().length, rows);
    int over = limits.tables().over(rows);
    if (over >= 0) {
      deadLetter(
          ctx,
          tooLarge,
          DeadLetterReasons.TOO_LARGE,
          r,
          "a unit of " + limits.tables().describe(over, rows));
      return;
    }
    out.collect(u);
  }

  /**
   * What makes {@code u}'s times impossible, for a unit in a record timed {@code recordMs} (its
   * close time, as the log's writer stamps it); null if nothing. The trainer orders, publishes and
   * expires rows by a unit's times: a damaged one timed before 1970 failed every publish (Kafka
   * refuses a negative timestamp) and restarted the job for ever, one timed ahead expired rows.
   */
  private String wrongTimes(CompactUnit u, long recordMs) {
    if (u.timestampMs() < 0 || u.closedAtMs() < u.timestampMs()) {
      return "a unit timed " + u.timestampMs() + " that closed at " + u.closedAtMs();
    }
    long jump = limits.maxTimeJumpMs();
    if (jump > 0 && Math.abs(u.closedAtMs() - recordMs) > jump) {
      return "a unit that closed at "
          + EventTimeGuard.time(u.closedAtMs())
          + " in a record timed "
          + EventTimeGuard.time(recordMs)
          + ", further apart than source.max-time-jump: its times are not its record's";
    }
    return null;
  }

  /**
   * What makes {@code u}'s shape other than its layout's (its bags, dense values and labels for its
   * impressions); null if nothing. A unit of the layout's fingerprint has it unless its bytes were
   * damaged, and the trainer indexes a unit by its layout.
   */
  private String wrongShape(CompactUnit u) {
    int n = u.impressions();
    long bags = layout.requestFeatures() + (long) n * layout.impressionFeatures();
    if (u.bags() != bags) {
      return "a unit of "
          + n
          + " impressions with "
          + u.bags()
          + " bags of ids; its layout has "
          + bags;
    }
    if (u.requestDense().length != layout.requestDenseCount()) {
      return "a unit with "
          + u.requestDense().length
          + " request dense values; its layout has "
          + layout.requestDenseCount();
    }
    if (u.impressionDense().length != (long) n * layout.impressionDenseCount()) {
      return "a unit of "
          + n
          + " impressions with "
          + u.impressionDense().length
          + " impression dense values; its layout has "
          + layout.impressionDenseCount()
          + " per impression";
    }
    if (u.labels().length != (long) n * layout.labelCount()) {
      return "a unit of "
          + n
          + " impressions with "
          + u.labels().length
          + " labels; its layout has "
          + layout.labelCount()
          + " per impression";
    }
    return null;
  }

  /** The largest squashed value there is: that of the largest float. */
  static final float MAX_SQUASHED = UnitEncoder.squash(Float.MAX_VALUE);

  /**
   * The first dense value of {@code u} no squashed value reaches (a value written raw, or a damaged
   * exponent); null if none. Trained, one such value put a running variance at infinity and the
   * feature at zero for good.
   */
  private static String outOfSquashedRange(CompactUnit u) {
    String v = firstValue(u, false, x -> Math.abs(x) > MAX_SQUASHED);
    return v == null
        ? null
        : v
            + ", past the ±"
            + MAX_SQUASHED
            + " of a unit's dense values (sign(x)·log1p(|x|) of any float)";
  }

  /** The first value of {@code u} that is not finite, as the event path says it; null if none. */
  private static String notFinite(CompactUnit u) {
    return firstValue(u, true, x -> !Double.isFinite(x));
  }

  /**
   * The first of {@code u}'s dense values (and its labels, {@code labels}) that {@code bad} takes,
   * as "request dense value 0 is 1.0E30"; null if none.
   */
  private static String firstValue(
      CompactUnit u, boolean labels, java.util.function.DoublePredicate bad) {
    String[] names = {"request dense", "impression dense", "labels"};
    float[][] all = {u.requestDense(), u.impressionDense(), u.labels()};
    for (int a = 0; a < (labels ? all.length : 2); a++) {
      for (int i = 0; i < all[a].length; i++) {
        if (bad.test(all[a][i])) {
          return names[a] + " value " + i + " is " + all[a][i];
        }
      }
    }
    return null;
  }

  private void deadLetter(Context ctx, Counter reason, String why, UnitRecord r, String detail) {
    dead.inc();
    reason.inc();
    DeadLetters.Origin origin =
        new DeadLetters.Origin(
            r.topic, r.partition, r.offset, DeadLetters.key(r.key), r.timestampMs);
    ctx.output(
        DEAD_LETTERS,
        DeadLetters.of(why, origin, detail, r.value, limits.deadLetterMaxPayloadBytes()));
  }
}
