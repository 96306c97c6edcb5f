package io.streamrec.job.sink;

import io.streamrec.job.config.JobConfig;
import io.streamrec.job.deadletter.DeadLetters;
import io.streamrec.job.metrics.JobMetrics;
import io.streamrec.model.units.CompactUnit;
import io.streamrec.model.units.CompactUnitCodec;
import io.streamrec.schemas.DeadLetter;
import io.streamrec.schemas.DeadLetterReasons;
import java.nio.charset.StandardCharsets;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * Passes on to the request-units sink the units whose record the producer takes, and sends the
 * others to the dead-letter topic as {@code too_large}. The assembler bounds a unit by its ids,
 * impressions and event bytes, not by its encoded size, and a unit over the producer's {@code
 * max.request.size} failed the sink with {@code RecordTooLargeException}: the restart made the same
 * unit from the same events, and the job failed again, for ever. The trainer still gets the unit;
 * only the units log goes without it.
 */
public final class UnitsThatFit extends ProcessFunction<CompactUnit, CompactUnit> {
  private static final long serialVersionUID = 1L;

  public static final OutputTag<DeadLetter> DEAD_LETTERS =
      new OutputTag<>("request-units-dead-letters", new AvroTypeInfo<>(DeadLetter.class));

  /** What a record holds besides its key and value in the producer's reckoning: framing. */
  static final int RECORD_OVERHEAD_BYTES = 1_024;

  private final String topic;
  private final long maxRequestBytes;
  private final int maxPayloadBytes;
  private transient Counter dead;
  private transient Counter tooLarge;

  UnitsThatFit(String topic, long maxRequestBytes, int maxPayloadBytes) {
    this.topic = topic;
    this.maxRequestBytes = maxRequestBytes;
    this.maxPayloadBytes = maxPayloadBytes;
  }

  /** For the request-units topic of {@code cfg}, its producer's {@code max.request.size}. */
  public static UnitsThatFit of(JobConfig cfg) {
    return new UnitsThatFit(
        cfg.requestUnitsTopic(),
        KafkaSinks.maxRequestBytes(cfg),
        cfg.limits().deadLetterMaxPayloadBytes());
  }

  @Override
  public void open(OpenContext openContext) {
    MetricGroup g = JobMetrics.group(getRuntimeContext().getMetricGroup());
    dead = g.counter(JobMetrics.DEAD_LETTER_UNITS);
    tooLarge = g.counter(JobMetrics.deadLetters(DeadLetterReasons.TOO_LARGE));
  }

  @Override
  public void processElement(CompactUnit u, Context ctx, Collector<CompactUnit> out) {
    DeadLetter tooBig = tooLarge(u);
    if (tooBig == null) {
      out.collect(u);
      return;
    }
    if (dead != null) {
      dead.inc();
      tooLarge.inc();
    }
    ctx.output(DEAD_LETTERS, tooBig);
  }

  /** The dead letter of {@code u} when its record is over the producer's limit; else null. */
  DeadLetter tooLarge(CompactUnit u) {
    // the sink encodes the unit: here it is encoded only when its bound is over the limit
    if (CompactUnitCodec.maxEncodedSize(u) + 3L * u.requestId().length() + RECORD_OVERHEAD_BYTES
        <= maxRequestBytes) {
      return null;
    }
    byte[] value = CompactUnitCodec.encode(u);
    byte[] key = u.requestId().getBytes(StandardCharsets.UTF_8);
    long bytes = (long) value.length + key.length + RECORD_OVERHEAD_BYTES;
    if (bytes <= maxRequestBytes) {
      return null;
    }
    return DeadLetters.of(
        DeadLetterReasons.TOO_LARGE,
        new DeadLetters.Origin(topic, -1, -1, u.requestId(), u.closedAtMs()),
        String.format(
            java.util.Locale.ROOT,
            "the unit's request-units record is %,d bytes, over the producer's max.request.size"
                + " of %,d: it is trained on but not written to the units log (raise"
                + " properties.max.request.size, with the topic's max.message.bytes, to keep such"
                + " units, and source.max-record-bytes of the jobs that read them)",
            bytes,
            maxRequestBytes),
        value,
        maxPayloadBytes);
  }
}
