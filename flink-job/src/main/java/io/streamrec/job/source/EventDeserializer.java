package io.streamrec.job.source;

import io.streamrec.job.config.InputLimits;
import io.streamrec.job.deadletter.DeadLetters;
import io.streamrec.job.metrics.JobMetrics;
import io.streamrec.job.units.CodecTypeInfo;
import io.streamrec.job.units.DecodedEvent;
import io.streamrec.model.features.FeatureSpec;
import io.streamrec.model.units.EventParser;
import io.streamrec.model.units.EventPart;
import io.streamrec.model.units.UnitEncoder;
import io.streamrec.model.units.UnitLayout;
import io.streamrec.schemas.AvroCodec;
import io.streamrec.schemas.DeadLetterReasons;
import io.streamrec.schemas.ImpressionEvent;
import io.streamrec.schemas.MalformedRecordException;
import io.streamrec.schemas.RequestEvent;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.serialization.DeserializationSchema;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * Reads one Kafka record of the requests or impressions topic into a {@link DecodedEvent}: the
 * event's {@link EventPart} (every value the model reads hashed to its id here, at the sources'
 * parallelism), or a dead letter saying why there is none. It never throws on bad bytes, so one bad
 * record cannot fail the job: bytes that are not a single-object Avro message of the expected type,
 * a non-finite dense value or label, a label outside [0, 1], an empty id, a feature with more
 * values than {@code source.max-ids-per-feature}, a record over the size limit, and an event time
 * the {@link EventTimeGuard} does not believe all become dead letters, counted by reason.
 *
 * <p>A message of today's schema is read straight into its part ({@link EventParser}: no Avro
 * record, no strings for the values); anything else — an earlier schema, or a message the parser
 * leaves aside — goes through the general decoder, which resolves it or names what is wrong.
 *
 * <p>A dead letter carries {@link Long#MIN_VALUE} as its event time, so the watermark, which takes
 * the largest timestamp seen, is never moved by a record whose time cannot be trusted.
 */
public final class EventDeserializer implements KafkaRecordDeserializationSchema<DecodedEvent> {
  private static final long serialVersionUID = 1L;

  private static final String[] REASONS = {
    DeadLetterReasons.MALFORMED,
    DeadLetterReasons.UNKNOWN_SCHEMA,
    DeadLetterReasons.NON_FINITE,
    DeadLetterReasons.TOO_LARGE,
    DeadLetterReasons.IMPLAUSIBLE_TIME,
    DeadLetterReasons.BAD_LABEL
  };

  private final EventKind kind;
  private final int maxRecordBytes;
  private final InputLimits limits;
  private final FeatureSpec features;
  private transient EventParser parser;
  private transient UnitEncoder encoder;
  private transient FeatureCoverage coverage;

  /** The dense features this kind's side declares: the values whose finiteness is checked. */
  private transient List<String> denseRead;

  private final boolean denseNormalized;
  private transient EventTimeGuard guard;
  private transient Counter in;
  private transient Counter deadLetters;
  private transient Map<String, Counter> byReason;

  /**
   * A deserializer of {@code kind} events whose values are hashed under {@code features}, refusing
   * what breaks {@code limits}.
   */
  public EventDeserializer(
      EventKind kind, int maxRecordBytes, InputLimits limits, FeatureSpec features) {
    this(kind, maxRecordBytes, limits, features, false);
  }

  /** As above; {@code denseNormalized}: the model standardises its dense inputs. */
  public EventDeserializer(
      EventKind kind,
      int maxRecordBytes,
      InputLimits limits,
      FeatureSpec features,
      boolean denseNormalized) {
    this.denseNormalized = denseNormalized;
    this.kind = kind;
    this.maxRecordBytes = maxRecordBytes;
    this.limits = limits;
    this.features = features;
  }

  @Override
  public void open(DeserializationSchema.InitializationContext context) {
    UnitLayout layout = new UnitLayout(features);
    parser = new EventParser(layout);
    encoder = new UnitEncoder(layout);
    coverage = new FeatureCoverage(kind, features, denseNormalized);
    denseRead =
        features
            .dense(
                kind == EventKind.REQUEST
                    ? io.streamrec.model.features.Side.REQUEST
                    : io.streamrec.model.features.Side.IMPRESSION)
            .stream()
            .map(io.streamrec.model.features.DenseFeature::name)
            .toList();
    guard = EventTimeGuard.of(limits);
    MetricGroup g = JobMetrics.group(context.getMetricGroup());
    in = g.counter(kind == EventKind.REQUEST ? JobMetrics.REQUESTS_IN : JobMetrics.IMPRESSIONS_IN);
    deadLetters =
        g.counter(
            kind == EventKind.REQUEST
                ? JobMetrics.DEAD_LETTER_REQUESTS
                : JobMetrics.DEAD_LETTER_IMPRESSIONS);
    byReason = new HashMap<>();
    for (String reason : REASONS) {
      byReason.put(reason, g.counter(JobMetrics.deadLetters(reason)));
    }
  }

  @Override
  public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<DecodedEvent> out) {
    in.inc();
    byte[] value = record.value();
    if (value != null && value.length > maxRecordBytes) {
      out.collect(
          dead(
              DeadLetterReasons.TOO_LARGE,
              record,
              "record of "
                  + value.length
                  + " bytes exceeds source.max-record-bytes="
                  + maxRecordBytes));
      return;
    }
    EventPart part;
    try {
      part = parse(value);
    } catch (MalformedRecordException e) {
      out.collect(dead(e.reason(), record, e.getMessage()));
      return;
    }
    String tooMany = tooManyIds(part);
    if (tooMany != null) {
      out.collect(dead(DeadLetterReasons.TOO_LARGE, record, tooMany));
      return;
    }
    String badLabel = features.untrainableLabel(part.labels(), false);
    if (badLabel != null) {
      out.collect(dead(DeadLetterReasons.BAD_LABEL, record, badLabel));
      return;
    }
    String implausible = guard.check(record.partition(), part.timestampMs());
    if (implausible != null) {
      out.collect(dead(DeadLetterReasons.IMPLAUSIBLE_TIME, record, implausible));
      return;
    }
    if (coverage.wants()) {
      // the first events whole, to tell a declared name that none of them has; the general decoder
      // refusing what the fast parser took is its word that stands, never an exception out of the
      // source (the same record failed the job again after each restore)
      try {
        if (kind == EventKind.REQUEST) {
          RequestEvent e = AvroCodec.decode(value, RequestEvent.class);
          coverage.add(e.getFeatures(), e.getDense(), null);
        } else {
          ImpressionEvent e = AvroCodec.decode(value, ImpressionEvent.class);
          coverage.add(e.getFeatures(), e.getDense(), e.getLabels());
        }
      } catch (MalformedRecordException e) {
        out.collect(dead(e.reason(), record, e.getMessage()));
        return;
      }
    }
    out.collect(DecodedEvent.of(part.readAt(record.partition(), record.offset())));
  }

  /** The event's part, by the parser's fast path or the general decoder. */
  private EventPart parse(byte[] value) {
    EventPart part =
        kind == EventKind.REQUEST ? parser.parseRequest(value) : parser.parseImpression(value);
    if (part != null) {
      return part;
    }
    if (kind == EventKind.REQUEST) {
      RequestEvent e = AvroCodec.decode(value, RequestEvent.class);
      check(e.getRequestId(), e.getDense(), null);
      return encoder.requestPart(e, value);
    }
    ImpressionEvent e = AvroCodec.decode(value, ImpressionEvent.class);
    check(e.getRequestId(), e.getDense(), e.getLabels());
    if (e.getImpressionId().isEmpty()) {
      throw new MalformedRecordException(DeadLetterReasons.MALFORMED, "empty impressionId");
    }
    return encoder.impressionPart(e, value);
  }

  private String tooManyIds(EventPart p) {
    int start = 0;
    for (int b = 0; b < p.bags(); b++) {
      int n = p.bagEnd(b) - start;
      if (n > limits.maxIdsPerFeature()) {
        return "categorical feature '"
            + bagName(b)
            + "' holds "
            + n
            + " values; source.max-ids-per-feature is "
            + limits.maxIdsPerFeature();
      }
      start = p.bagEnd(b);
    }
    return null;
  }

  /** The categorical feature of bag {@code b} of this kind's part: its side's features in order. */
  private String bagName(int b) {
    io.streamrec.model.features.Side side =
        kind == EventKind.REQUEST
            ? io.streamrec.model.features.Side.REQUEST
            : io.streamrec.model.features.Side.IMPRESSION;
    return features.categorical().stream()
        .filter(f -> f.side() == side)
        .skip(b)
        .findFirst()
        .map(f -> f.name())
        .orElse("#" + b);
  }

  private void check(String requestId, Map<String, Float> dense, Map<String, Float> labels) {
    if (requestId.isEmpty()) {
      throw new MalformedRecordException(DeadLetterReasons.MALFORMED, "empty requestId");
    }
    finite(dense, "dense", denseRead);
    if (labels != null) {
      finite(labels, "labels", features.labels());
    }
  }

  /**
   * The values the model reads ({@code read}) must be finite; a value of a name it does not read is
   * ignored, as the name is: a producer may send a signal of its own where NaN means "missing".
   */
  private static void finite(
      Map<String, Float> values, String field, java.util.Collection<String> read) {
    for (Map.Entry<String, Float> e : values.entrySet()) {
      if (!Float.isFinite(e.getValue()) && read.contains(e.getKey())) {
        throw new MalformedRecordException(
            DeadLetterReasons.NON_FINITE, field + "." + e.getKey() + " is " + e.getValue());
      }
    }
  }

  private DecodedEvent dead(String reason, ConsumerRecord<byte[], byte[]> r, String detail) {
    deadLetters.inc();
    byReason.get(reason).inc();
    DeadLetters.Origin origin =
        new DeadLetters.Origin(
            r.topic(), r.partition(), r.offset(), DeadLetters.key(r.key()), r.timestamp());
    return DecodedEvent.dead(
        DeadLetters.of(reason, origin, detail, r.value(), limits.deadLetterMaxPayloadBytes()));
  }

  @Override
  public TypeInformation<DecodedEvent> getProducedType() {
    return CodecTypeInfo.DECODED_EVENT;
  }
}
