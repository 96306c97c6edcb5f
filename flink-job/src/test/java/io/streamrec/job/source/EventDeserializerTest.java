package io.streamrec.job.source;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrec.job.metrics.JobMetrics;
import io.streamrec.job.units.DecodedEvent;
import io.streamrec.model.ModelConfig;
import io.streamrec.schemas.AvroCodec;
import io.streamrec.schemas.DeadLetter;
import io.streamrec.schemas.DeadLetterReasons;
import io.streamrec.schemas.ImpressionEvent;
import io.streamrec.schemas.RequestEvent;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.serialization.DeserializationSchema;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.metrics.SimpleCounter;
import org.apache.flink.metrics.groups.UnregisteredMetricsGroup;
import org.apache.flink.util.Collector;
import org.apache.flink.util.SimpleUserCodeClassLoader;
import org.apache.flink.util.UserCodeClassLoader;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

class EventDeserializerTest {
  private static final int MAX_BYTES = 2_000;

  /** A metric group that keeps its counters by name, so tests can read them. */
  static final class RecordingGroup extends UnregisteredMetricsGroup {
    final Map<String, Counter> counters = new HashMap<>();

    @Override
    public Counter counter(String name) {
      return counters.computeIfAbsent(name, n -> new SimpleCounter());
    }

    @Override
    public MetricGroup addGroup(String name) {
      return this;
    }

    long count(String name) {
      Counter c = counters.get(name);
      return c == null ? 0 : c.getCount();
    }
  }

  private final RecordingGroup metrics = new RecordingGroup();

  private EventDeserializer open(EventKind kind) {
    EventDeserializer d = new EventDeserializer(kind, MAX_BYTES, ModelConfig.defaults().features());
    d.open(
        new DeserializationSchema.InitializationContext() {
          @Override
          public MetricGroup getMetricGroup() {
            return metrics;
          }

          @Override
          public UserCodeClassLoader getUserCodeClassLoader() {
            return SimpleUserCodeClassLoader.create(getClass().getClassLoader());
          }
        });
    return d;
  }

  private static List<DecodedEvent> read(EventDeserializer d, String topic, byte[] value) {
    List<DecodedEvent> out = new ArrayList<>();
    ConsumerRecord<byte[], byte[]> r =
        new ConsumerRecord<>(
            topic,
            0,
            7L,
            1234L,
            org.apache.kafka.common.record.TimestampType.CREATE_TIME,
            0,
            0,
            "r1".getBytes(StandardCharsets.UTF_8),
            value,
            new org.apache.kafka.common.header.internals.RecordHeaders(),
            java.util.Optional.empty());
    d.deserialize(
        r,
        new Collector<>() {
          @Override
          public void collect(DecodedEvent e) {
            out.add(e);
          }

          @Override
          public void close() {}
        });
    return out;
  }

  private static RequestEvent request(Map<String, Float> dense) {
    return RequestEvent.newBuilder()
        .setRequestId("r1")
        .setTimestampMs(1000)
        .setFeatures(Map.of("user_id", List.of("u1")))
        .setDense(dense)
        .build();
  }

  private static ImpressionEvent impression(Map<String, Float> labels) {
    return ImpressionEvent.newBuilder()
        .setRequestId("r1")
        .setImpressionId("r1-0")
        .setTimestampMs(1200)
        .setFeatures(Map.of())
        .setDense(Map.of())
        .setLabels(labels)
        .build();
  }

  @Test
  void aGoodEventBecomesAnEnvelopeTimedAtItsEventTime() {
    List<DecodedEvent> out =
        read(open(EventKind.REQUEST), "requests", AvroCodec.encode(request(Map.of("hour", 3f))));
    assertThat(out).hasSize(1);
    assertThat(out.get(0).part().requestId()).isEqualTo("r1");
    assertThat(out.get(0).part().isRequest()).isTrue();
    assertThat(out.get(0).timestampMs()).isEqualTo(1000);
    assertThat(out.get(0).deadLetter()).isNull();
    assertThat(metrics.count(JobMetrics.REQUESTS_IN)).isEqualTo(1);
    assertThat(metrics.count(JobMetrics.DEAD_LETTER_REQUESTS)).isZero();
  }

  private DeadLetter deadLetter(EventKind kind, String topic, byte[] value, String reason) {
    List<DecodedEvent> out = read(open(kind), topic, value);
    assertThat(out).hasSize(1);
    DeadLetter d = out.get(0).deadLetter();
    assertThat(d).isNotNull();
    assertThat(d.getReason()).isEqualTo(reason);
    assertThat(d.getSourceTopic()).isEqualTo(topic);
    assertThat(d.getKey()).isEqualTo("r1");
    assertThat(d.getTimestampMs()).isEqualTo(1234L);
    assertThat(d.getDetail()).isNotBlank();
    // a dead letter never moves the watermark
    assertThat(out.get(0).timestampMs()).isEqualTo(Long.MIN_VALUE);
    assertThat(metrics.count(JobMetrics.deadLetters(reason))).isEqualTo(1);
    return d;
  }

  @Test
  void badBytesBecomeDeadLettersThatKeepThePayload() {
    byte[] junk = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    DeadLetter d =
        deadLetter(EventKind.IMPRESSION, "impressions", junk, DeadLetterReasons.MALFORMED);
    assertThat(d.getPayload().array()).containsExactly(junk);
    assertThat(metrics.count(JobMetrics.IMPRESSIONS_IN)).isEqualTo(1);
    assertThat(metrics.count(JobMetrics.DEAD_LETTER_IMPRESSIONS)).isEqualTo(1);
  }

  @Test
  void anImpressionOnTheRequestsTopicIsAnUnknownSchemaThere() {
    deadLetter(
        EventKind.REQUEST,
        "requests",
        AvroCodec.encode(impression(Map.of("click", 1f))),
        DeadLetterReasons.UNKNOWN_SCHEMA);
  }

  @Test
  void nonFiniteDenseValuesAndLabelsAreDeadLetters() {
    deadLetter(
        EventKind.REQUEST,
        "requests",
        AvroCodec.encode(request(Map.of("hour", Float.NaN))),
        DeadLetterReasons.NON_FINITE);
    metrics.counters.clear();
    deadLetter(
        EventKind.IMPRESSION,
        "impressions",
        AvroCodec.encode(impression(Map.of("click", Float.POSITIVE_INFINITY))),
        DeadLetterReasons.NON_FINITE);
  }

  @Test
  void aRecordOverTheSizeLimitIsTooLargeAndOnlyItsHeadIsKept() {
    Map<String, Float> dense = new HashMap<>();
    for (int i = 0; i < 400; i++) {
      dense.put("f" + i, (float) i);
    }
    DeadLetter d =
        deadLetter(
            EventKind.REQUEST,
            "requests",
            AvroCodec.encode(request(dense)),
            DeadLetterReasons.TOO_LARGE);
    assertThat(d.getPayload().remaining()).isEqualTo(EventDeserializer.TOO_LARGE_KEPT_BYTES);
    assertThat(d.getDetail()).contains("source.max-record-bytes");
  }

  @Test
  void aNegativeTimestampIsMalformed() {
    RequestEvent r = request(Map.of());
    r.setTimestampMs(-5);
    deadLetter(EventKind.REQUEST, "requests", AvroCodec.encode(r), DeadLetterReasons.MALFORMED);
  }
}
