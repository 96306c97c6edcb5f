package io.streamrec.job.source;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrec.job.config.InputLimits;
import io.streamrec.job.config.InputOptions;
import io.streamrec.job.metrics.JobMetrics;
import io.streamrec.job.units.DecodedEvent;
import io.streamrec.model.ModelConfig;
import io.streamrec.model.units.EventPart;
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
import org.apache.flink.configuration.Configuration;
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

  private static InputLimits limits(Configuration c) {
    return InputLimits.from(c, ModelConfig.defaults());
  }

  private EventDeserializer open(EventKind kind) {
    return open(kind, limits(new Configuration()));
  }

  private EventDeserializer open(EventKind kind, InputLimits limits) {
    return open(kind, MAX_BYTES, limits, metrics);
  }

  /** A deserializer of the default model's features, opened with {@code metrics}. */
  static EventDeserializer open(
      EventKind kind, int maxBytes, InputLimits limits, MetricGroup metrics) {
    EventDeserializer d =
        new EventDeserializer(kind, maxBytes, limits, ModelConfig.defaults().features());
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

  static List<DecodedEvent> read(EventDeserializer d, String topic, byte[] value) {
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
    return deadLetter(open(kind), topic, value, reason);
  }

  private DeadLetter deadLetter(
      EventDeserializer deserializer, String topic, byte[] value, String reason) {
    List<DecodedEvent> out = read(deserializer, topic, value);
    assertThat(out).hasSize(1);
    DeadLetter d = out.get(0).deadLetter();
    assertThat(d).isNotNull();
    assertThat(d.getReason()).isEqualTo(reason);
    assertThat(d.getSourceTopic()).isEqualTo(topic);
    assertThat(d.getKey()).isEqualTo("r1");
    assertThat(d.getTimestampMs()).isEqualTo(1234L);
    assertThat(d.getSourcePartition()).isEqualTo(0);
    assertThat(d.getSourceOffset()).isEqualTo(7L);
    assertThat(d.getPayloadBytes()).isEqualTo(value.length);
    assertThat(d.getPayloadSha256()).isEqualTo(sha256(value));
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

  /**
   * A block count of Long.MIN_VALUE (its negation is negative too) passed the fast parser as an
   * empty block, and the general decoder, which refuses it, threw out of the source when the record
   * was among those it decodes whole: the job failed, and again after each restore.
   */
  @Test
  void aBlockCountNoWriterMakesIsAMalformedDeadLetter() {
    byte[] good = AvroCodec.encode(request(Map.of()));
    // before the features map's closing 0: a block of count Long.MIN_VALUE (zig-zag: nine 0xFF,
    // then 0x01) and block size 0
    byte[] block = {-1, -1, -1, -1, -1, -1, -1, -1, -1, 0x01, 0x00};
    int at = good.length - 2; // the body ends with the features map's 0 and the dense map's 0
    byte[] bad = new byte[good.length + block.length];
    System.arraycopy(good, 0, bad, 0, at);
    System.arraycopy(block, 0, bad, at, block.length);
    System.arraycopy(good, at, bad, at + block.length, 2);
    deadLetter(EventKind.REQUEST, "requests", bad, DeadLetterReasons.MALFORMED);
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

  /**
   * A NaN or infinity under a name the model does not read made the whole event a dead letter (and
   * a request's impressions orphans): a producer that adds a signal of its own, NaN for "missing",
   * lost the events that carry it.
   */
  @Test
  void aNonFiniteValueTheModelDoesNotReadIsIgnored() {
    List<DecodedEvent> req =
        read(
            open(EventKind.REQUEST),
            "requests",
            AvroCodec.encode(request(Map.of("hour", 3f, "watch_time", Float.NaN))));
    List<DecodedEvent> imp =
        read(
            open(EventKind.IMPRESSION),
            "impressions",
            AvroCodec.encode(impression(Map.of("click", 1f, "revenue", Float.NaN))));
    assertThat(req).hasSize(1);
    assertThat(req.get(0).deadLetter()).isNull();
    assertThat(imp).hasSize(1);
    assertThat(imp.get(0).deadLetter()).isNull();
    assertThat(metrics.count(JobMetrics.deadLetters(DeadLetterReasons.NON_FINITE))).isZero();
  }

  @Test
  void aRecordOverTheSizeLimitIsTooLargeAndOnlyItsHeadIsKept() {
    Map<String, Float> dense = new HashMap<>();
    for (int i = 0; i < 400; i++) {
      dense.put("f" + i, (float) i);
    }
    Configuration c = new Configuration();
    c.set(InputOptions.DEAD_LETTER_MAX_PAYLOAD_BYTES, 100);
    byte[] value = AvroCodec.encode(request(dense));
    DeadLetter d =
        deadLetter(
            open(EventKind.REQUEST, limits(c)), "requests", value, DeadLetterReasons.TOO_LARGE);
    assertThat(d.getPayload().remaining()).isEqualTo(100);
    assertThat(d.getPayloadBytes()).isGreaterThan(MAX_BYTES);
    assertThat(d.getDetail()).contains("source.max-record-bytes");
  }

  @Test
  void negativeFarFutureAndEndOfTimeTimestampsAreImplausible() {
    for (long ts : new long[] {-5, Long.MIN_VALUE, 4_102_444_800_000L, Long.MAX_VALUE}) {
      metrics.counters.clear();
      RequestEvent r = request(Map.of());
      r.setTimestampMs(ts);
      DeadLetter d =
          deadLetter(
              EventKind.REQUEST,
              "requests",
              AvroCodec.encode(r),
              DeadLetterReasons.IMPLAUSIBLE_TIME);
      assertThat(d.getDetail()).contains(ts < 0 ? "source.min-timestamp" : "source.max-future");
    }
  }

  @Test
  void aTimeJumpingAheadOfItsPartitionIsImplausibleAndTheStreamGoesOn() {
    EventDeserializer d = open(EventKind.REQUEST);
    RequestEvent r = request(Map.of());
    assertThat(read(d, "requests", AvroCodec.encode(r)).get(0).part()).isNotNull();
    r.setTimestampMs(1000 + 5 * 3_600_000L);
    DeadLetter dead = read(d, "requests", AvroCodec.encode(r)).get(0).deadLetter();
    assertThat(dead.getReason()).isEqualTo(DeadLetterReasons.IMPLAUSIBLE_TIME);
    assertThat(dead.getDetail()).contains("source.max-time-jump");
    r.setTimestampMs(2000);
    assertThat(read(d, "requests", AvroCodec.encode(r)).get(0).part()).isNotNull();
  }

  @Test
  void labelsOutsideZeroToOneAreBadLabels() {
    for (float label : new float[] {3e38f, -3e38f, -0.5f, 1.0001f}) {
      metrics.counters.clear();
      DeadLetter d =
          deadLetter(
              EventKind.IMPRESSION,
              "impressions",
              AvroCodec.encode(impression(Map.of("click", label))),
              DeadLetterReasons.BAD_LABEL);
      assertThat(d.getDetail()).contains("click");
    }
    for (float label : new float[] {0f, 1f, 0.25f}) {
      List<DecodedEvent> out =
          read(
              open(EventKind.IMPRESSION),
              "impressions",
              AvroCodec.encode(impression(Map.of("click", label))));
      assertThat(out.get(0).part()).as("label %s", label).isNotNull();
    }
  }

  @Test
  void aFeatureWithMoreValuesThanTheBoundIsTooLarge() {
    Configuration c = new Configuration();
    c.set(InputOptions.MAX_IDS_PER_FEATURE, 50);
    List<String> many = new ArrayList<>();
    for (int i = 0; i < 51; i++) {
      many.add("i" + i);
    }
    RequestEvent r = request(Map.of());
    r.setFeatures(Map.of("user_id", List.of("u1"), "recent_items", many));
    DeadLetter d =
        deadLetter(
            open(EventKind.REQUEST, limits(c)),
            "requests",
            AvroCodec.encode(r),
            DeadLetterReasons.TOO_LARGE);
    // which feature, not "a categorical feature"
    assertThat(d.getDetail())
        .startsWith("categorical feature 'recent_items' holds 51 values")
        .contains("source.max-ids-per-feature");
    r.setFeatures(Map.of("user_id", List.of("u1"), "recent_items", many.subList(0, 50)));
    assertThat(
            read(open(EventKind.REQUEST, limits(c)), "requests", AvroCodec.encode(r)).get(0).part())
        .isNotNull();
  }

  @Test
  void aGoodEventKnowsWhereItWasRead() {
    EventPart p =
        read(open(EventKind.REQUEST), "requests", AvroCodec.encode(request(Map.of())))
            .get(0)
            .part();
    assertThat(p.sourcePartition()).isEqualTo(0);
    assertThat(p.sourceOffset()).isEqualTo(7L);
  }

  static String sha256(byte[] bytes) {
    try {
      return java.util.HexFormat.of()
          .formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
