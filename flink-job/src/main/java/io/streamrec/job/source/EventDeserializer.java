package io.streamrec.job.source;

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
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
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
 * a non-finite dense value or label, a negative timestamp, an empty id, or a record over the size
 * limit all become dead letters, counted by reason.
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

  /** Bytes of an oversized record kept in its dead letter: enough to identify it. */
  static final int TOO_LARGE_KEPT_BYTES = 1024;

  private final EventKind kind;
  private final int maxRecordBytes;
  private final FeatureSpec features;
  private transient EventParser parser;
  private transient UnitEncoder encoder;
  private transient Counter in;
  private transient Counter deadLetters;
  private transient Map<String, Counter> byReason;

  /** A deserializer of {@code kind} events whose values are hashed under {@code features}. */
  public EventDeserializer(EventKind kind, int maxRecordBytes, FeatureSpec features) {
    this.kind = kind;
    this.maxRecordBytes = maxRecordBytes;
    this.features = features;
  }

  @Override
  public void open(DeserializationSchema.InitializationContext context) {
    UnitLayout layout = new UnitLayout(features);
    parser = new EventParser(layout);
    encoder = new UnitEncoder(layout);
    MetricGroup g = JobMetrics.group(context.getMetricGroup());
    in = g.counter(kind == EventKind.REQUEST ? JobMetrics.REQUESTS_IN : JobMetrics.IMPRESSIONS_IN);
    deadLetters =
        g.counter(
            kind == EventKind.REQUEST
                ? JobMetrics.DEAD_LETTER_REQUESTS
                : JobMetrics.DEAD_LETTER_IMPRESSIONS);
    byReason = new HashMap<>();
    for (String reason :
        new String[] {
          DeadLetterReasons.MALFORMED,
          DeadLetterReasons.UNKNOWN_SCHEMA,
          DeadLetterReasons.NON_FINITE,
          DeadLetterReasons.TOO_LARGE
        }) {
      byReason.put(reason, g.counter(JobMetrics.deadLetters(reason)));
    }
  }

  @Override
  public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<DecodedEvent> out) {
    in.inc();
    byte[] value = record.value();
    if (value != null && value.length > maxRecordBytes) {
      String key = record.key() == null ? null : new String(record.key(), StandardCharsets.UTF_8);
      out.collect(
          dead(
              DeadLetterReasons.TOO_LARGE,
              record,
              key,
              "record of "
                  + value.length
                  + " bytes exceeds source.max-record-bytes="
                  + maxRecordBytes,
              Arrays.copyOf(value, TOO_LARGE_KEPT_BYTES)));
      return;
    }
    EventPart part =
        kind == EventKind.REQUEST ? parser.parseRequest(value) : parser.parseImpression(value);
    if (part != null) {
      out.collect(DecodedEvent.of(part));
      return;
    }
    try {
      if (kind == EventKind.REQUEST) {
        RequestEvent e = AvroCodec.decode(value, RequestEvent.class);
        check(e.getRequestId(), e.getTimestampMs(), e.getDense(), null);
        part = encoder.requestPart(e, value);
      } else {
        ImpressionEvent e = AvroCodec.decode(value, ImpressionEvent.class);
        check(e.getRequestId(), e.getTimestampMs(), e.getDense(), e.getLabels());
        if (e.getImpressionId().isEmpty()) {
          throw new MalformedRecordException(DeadLetterReasons.MALFORMED, "empty impressionId");
        }
        part = encoder.impressionPart(e, value);
      }
      out.collect(DecodedEvent.of(part));
    } catch (MalformedRecordException e) {
      String key = record.key() == null ? null : new String(record.key(), StandardCharsets.UTF_8);
      out.collect(dead(e.reason(), record, key, e.getMessage(), value));
    }
  }

  private static void check(
      String requestId, long ts, Map<String, Float> dense, Map<String, Float> labels) {
    if (requestId.isEmpty()) {
      throw new MalformedRecordException(DeadLetterReasons.MALFORMED, "empty requestId");
    }
    if (ts < 0) {
      throw new MalformedRecordException(DeadLetterReasons.MALFORMED, "negative timestampMs " + ts);
    }
    finite(dense, "dense");
    if (labels != null) {
      finite(labels, "labels");
    }
  }

  private static void finite(Map<String, Float> values, String field) {
    for (Map.Entry<String, Float> e : values.entrySet()) {
      if (!Float.isFinite(e.getValue())) {
        throw new MalformedRecordException(
            DeadLetterReasons.NON_FINITE, field + "." + e.getKey() + " is " + e.getValue());
      }
    }
  }

  private DecodedEvent dead(
      String reason, ConsumerRecord<byte[], byte[]> r, String key, String detail, byte[] payload) {
    deadLetters.inc();
    Counter c = byReason.get(reason);
    if (c != null) {
      c.inc();
    }
    return DecodedEvent.dead(
        DeadLetters.ofBytes(reason, r.topic(), detail, key, r.timestamp(), payload));
  }

  @Override
  public TypeInformation<DecodedEvent> getProducedType() {
    return CodecTypeInfo.DECODED_EVENT;
  }
}
