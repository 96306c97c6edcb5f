package io.streamrec.job.units;

import io.streamrec.job.deadletter.DeadLetters;
import io.streamrec.job.metrics.JobMetrics;
import io.streamrec.job.source.Throttle;
import io.streamrec.model.units.CompactUnit;
import io.streamrec.model.units.CompactUnitCodec;
import io.streamrec.model.units.MalformedUnitException;
import io.streamrec.schemas.DeadLetter;
import io.streamrec.schemas.DeadLetterReasons;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * Reads request-units records into {@link CompactUnit}s, at the source's parallelism: a record that
 * is not a unit, is over the size limit, or was encoded under another feature spec than the model's
 * goes to the dead-letter topic with its reason (malformed, too_large, unknown_schema), so nothing
 * a producer writes there can fail the job. Counted as units in and dead letters by reason.
 */
public final class UnitDecoder extends ProcessFunction<UnitRecord, CompactUnit> {
  private static final long serialVersionUID = 1L;

  public static final OutputTag<DeadLetter> DEAD_LETTERS =
      new OutputTag<>("unit-dead-letters", new AvroTypeInfo<>(DeadLetter.class));

  /** Bytes of an oversized record kept in its dead letter: enough to identify it. */
  static final int TOO_LARGE_KEPT_BYTES = 1024;

  private final long layoutFingerprint;
  private final int maxRecordBytes;
  private final int maxRecordsPerSecond;
  private transient Throttle throttle;
  private transient Counter in;
  private transient Counter dead;
  private transient Counter malformed;
  private transient Counter tooLarge;
  private transient Counter otherSpec;

  public UnitDecoder(long layoutFingerprint, int maxRecordBytes, int maxRecordsPerSecond) {
    this.layoutFingerprint = layoutFingerprint;
    this.maxRecordBytes = maxRecordBytes;
    this.maxRecordsPerSecond = maxRecordsPerSecond;
  }

  @Override
  public void open(OpenContext openContext) throws Exception {
    super.open(openContext);
    throttle =
        Throttle.perSubtask(
            maxRecordsPerSecond, getRuntimeContext().getTaskInfo().getNumberOfParallelSubtasks());
    MetricGroup g = JobMetrics.group(getRuntimeContext().getMetricGroup());
    in = g.counter(JobMetrics.UNITS_IN);
    dead = g.counter(JobMetrics.DEAD_LETTER_UNITS);
    malformed = g.counter(JobMetrics.deadLetters(DeadLetterReasons.MALFORMED));
    tooLarge = g.counter(JobMetrics.deadLetters(DeadLetterReasons.TOO_LARGE));
    otherSpec = g.counter(JobMetrics.deadLetters(DeadLetterReasons.UNKNOWN_SCHEMA));
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
          "record of " + value.length + " bytes exceeds source.max-record-bytes=" + maxRecordBytes,
          Arrays.copyOf(value, TOO_LARGE_KEPT_BYTES));
      return;
    }
    CompactUnit u;
    try {
      u = CompactUnitCodec.decode(value);
    } catch (MalformedUnitException e) {
      deadLetter(ctx, malformed, DeadLetterReasons.MALFORMED, r, e.getMessage(), value);
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
              + ")",
          value);
      return;
    }
    out.collect(u);
  }

  private void deadLetter(
      Context ctx, Counter reason, String why, UnitRecord r, String detail, byte[] payload) {
    dead.inc();
    reason.inc();
    String key = r.key == null ? null : new String(r.key, StandardCharsets.UTF_8);
    ctx.output(
        DEAD_LETTERS, DeadLetters.ofBytes(why, r.topic, detail, key, r.timestampMs, payload));
  }
}
