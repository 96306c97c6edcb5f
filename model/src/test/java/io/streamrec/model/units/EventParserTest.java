package io.streamrec.model.units;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrec.common.StreamrecException;
import io.streamrec.model.ModelConfig;
import io.streamrec.schemas.AvroCodec;
import io.streamrec.schemas.ImpressionEvent;
import io.streamrec.schemas.RequestEvent;
import io.streamrec.traffic.GeneratedRequest;
import io.streamrec.traffic.TrafficConfig;
import io.streamrec.traffic.TrafficGenerator;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The parser's fast path gives what the general decoder and the encoder give, and leaves to them
 * (null) everything off the happy path.
 */
class EventParserTest {
  private static final UnitLayout LAYOUT = new UnitLayout(ModelConfig.defaults().features());

  /** What the decode stage makes of the bytes the slow way: the part, or null for a dead letter. */
  private static EventPart slow(byte[] bytes, boolean request) {
    UnitEncoder enc = new UnitEncoder(LAYOUT);
    try {
      if (request) {
        RequestEvent e = AvroCodec.decode(bytes, RequestEvent.class);
        if (e.getRequestId().isEmpty() || e.getTimestampMs() < 0 || !finite(e.getDense())) {
          return null;
        }
        return enc.requestPart(e, bytes);
      }
      ImpressionEvent e = AvroCodec.decode(bytes, ImpressionEvent.class);
      if (e.getRequestId().isEmpty()
          || e.getImpressionId().isEmpty()
          || e.getTimestampMs() < 0
          || !finite(e.getDense())
          || !finite(e.getLabels())) {
        return null;
      }
      return enc.impressionPart(e, bytes);
    } catch (StreamrecException e) {
      return null;
    }
  }

  /** Whether every value the layout reads is finite (the others are ignored). */
  private static boolean finite(Map<String, Float> m) {
    java.util.Set<String> read = new java.util.HashSet<>(LAYOUT.spec().labels());
    LAYOUT.spec().dense().forEach(f -> read.add(f.name()));
    return m.entrySet().stream()
        .allMatch(e -> !read.contains(e.getKey()) || Float.isFinite(e.getValue()));
  }

  private static void assertSamePart(EventPart expected, EventPart actual) {
    assertThat(actual.requestId()).isEqualTo(expected.requestId());
    assertThat(actual.impressionId()).isEqualTo(expected.impressionId());
    assertThat(actual.timestampMs()).isEqualTo(expected.timestampMs());
    assertThat(actual.layoutFingerprint()).isEqualTo(expected.layoutFingerprint());
    assertThat(actual.bagEnds()).containsExactly(expected.bagEnds());
    assertThat(actual.ids()).containsExactly(expected.ids());
    assertThat(actual.wideIds()).containsExactly(expected.wideIds());
    assertThat(actual.dense()).containsExactly(expected.dense());
    if (expected.labels() == null) {
      assertThat(actual.labels()).isNull();
    } else {
      assertThat(actual.labels()).containsExactly(expected.labels());
    }
    assertThat(actual.raw()).isSameAs(expected.raw());
  }

  private static List<byte[]> events(int n, long seed, List<Boolean> isRequest) {
    TrafficGenerator g = new TrafficGenerator(TrafficConfig.defaults().withSeed(seed));
    List<byte[]> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      GeneratedRequest r = g.next(1_000L * i);
      out.add(AvroCodec.encode(r.request()));
      isRequest.add(true);
      for (ImpressionEvent e : r.impressions()) {
        out.add(AvroCodec.encode(e));
        isRequest.add(false);
      }
    }
    return out;
  }

  @Test
  void generatedEventsTakeTheFastPathToTheSamePart() {
    EventParser p = new EventParser(LAYOUT);
    List<Boolean> kinds = new ArrayList<>();
    List<byte[]> evs = events(300, 4, kinds);
    for (int i = 0; i < evs.size(); i++) {
      byte[] bytes = evs.get(i);
      boolean request = kinds.get(i);
      EventPart fast = request ? p.parseRequest(bytes) : p.parseImpression(bytes);
      assertThat(fast).as("event %d takes the fast path", i).isNotNull();
      assertSamePart(slow(bytes, request), fast);
    }
  }

  @Test
  void anythingOffTheHappyPathIsLeftToTheDecoder() {
    EventParser p = new EventParser(LAYOUT);
    RequestEvent ok =
        RequestEvent.newBuilder()
            .setRequestId("r1")
            .setTimestampMs(5)
            .setFeatures(Map.of("user_id", List.of("u1"), "ignored", List.of("x", "y")))
            .setDense(Map.of("hour", 3f, "other", 1f))
            .build();
    byte[] okBytes = AvroCodec.encode(ok);
    assertSamePart(slow(okBytes, true), p.parseRequest(okBytes));
    for (RequestEvent bad :
        List.of(
            RequestEvent.newBuilder(ok).setRequestId("").build(),
            RequestEvent.newBuilder(ok).setTimestampMs(-1).build(),
            RequestEvent.newBuilder(ok).setDense(Map.of("hour", Float.NaN)).build(),
            RequestEvent.newBuilder(ok).setFeatures(Map.of("user_id", List.of("ü"))).build(),
            RequestEvent.newBuilder(ok).setRequestId("ré").build())) {
      assertThat(p.parseRequest(AvroCodec.encode(bad))).as(bad.toString()).isNull();
    }
    // a value the model does not read is ignored, whatever it is (NaN for "missing")
    byte[] unread =
        AvroCodec.encode(
            RequestEvent.newBuilder(ok).setDense(Map.of("hour", 3f, "other", Float.NaN)).build());
    assertSamePart(slow(unread, true), p.parseRequest(unread));
    // an impression is not a request, and the other way round
    byte[] request = AvroCodec.encode(ok);
    assertThat(p.parseImpression(request)).isNull();
    assertThat(p.parseRequest(new byte[] {(byte) 0xC3, 0x01, 1, 2})).isNull();
    byte[] trailing = java.util.Arrays.copyOf(request, request.length + 1);
    assertThat(p.parseRequest(trailing)).isNull();
  }

  @Test
  void corruptBytesGiveTheDecodersPartOrNone() {
    EventParser p = new EventParser(LAYOUT);
    List<Boolean> kinds = new ArrayList<>();
    List<byte[]> evs = events(100, 9, kinds);
    SplittableRandom rnd = new SplittableRandom(1);
    int fast = 0;
    for (int trial = 0; trial < 30_000; trial++) {
      int i = rnd.nextInt(evs.size());
      byte[] bytes = evs.get(i).clone();
      for (int flips = 1 + rnd.nextInt(3); flips > 0; flips--) {
        int at = 10 + rnd.nextInt(bytes.length - 10);
        bytes[at] ^= (byte) (1 + rnd.nextInt(255));
      }
      boolean request = kinds.get(i);
      EventPart got = request ? p.parseRequest(bytes) : p.parseImpression(bytes);
      if (got != null) {
        fast++;
        EventPart expected = slow(bytes, request);
        assertThat(expected)
            .as("trial %d: the decoder refuses what the parser took", trial)
            .isNotNull();
        assertSamePart(expected, got);
      }
    }
    assertThat(fast).isPositive();
  }
}
