package io.streamrec.model.units;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.streamrec.model.ModelConfig;
import io.streamrec.schemas.AvroCodec;
import io.streamrec.schemas.ImpressionEvent;
import io.streamrec.traffic.GeneratedRequest;
import io.streamrec.traffic.TrafficConfig;
import io.streamrec.traffic.TrafficGenerator;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class EventPartCodecTest {
  private static List<EventPart> parts(int n) {
    UnitEncoder enc = new UnitEncoder(new UnitLayout(ModelConfig.defaults().features()));
    TrafficGenerator g = new TrafficGenerator(TrafficConfig.defaults().withSeed(6));
    List<EventPart> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      GeneratedRequest r = g.next(100L * i);
      out.add(enc.requestPart(r.request(), i % 2 == 0 ? AvroCodec.encode(r.request()) : null));
      for (ImpressionEvent e : r.impressions()) {
        out.add(enc.impressionPart(e, AvroCodec.encode(e)).readAt(i % 3, 1_000L * i));
      }
    }
    return out;
  }

  private static void assertSame(EventPart a, EventPart b) {
    assertThat(b.layoutFingerprint()).isEqualTo(a.layoutFingerprint());
    assertThat(b.requestId()).isEqualTo(a.requestId());
    assertThat(b.impressionId()).isEqualTo(a.impressionId());
    assertThat(b.timestampMs()).isEqualTo(a.timestampMs());
    assertThat(b.bagEnds()).containsExactly(a.bagEnds());
    assertThat(b.ids()).containsExactly(a.ids());
    assertThat(b.wideIds()).containsExactly(a.wideIds());
    assertThat(b.dense()).containsExactly(a.dense());
    assertThat(b.labels()).isEqualTo(a.labels());
    assertThat(b.raw()).isEqualTo(a.raw());
    assertThat(b.sourcePartition()).isEqualTo(a.sourcePartition());
    assertThat(b.sourceOffset()).isEqualTo(a.sourceOffset());
    assertThat(b.sameContent(a)).isTrue();
  }

  @Test
  void partsRoundTrip() {
    for (EventPart p : parts(200)) {
      assertSame(p, EventPartCodec.decode(EventPartCodec.encode(p)));
    }
  }

  @Test
  void everyTruncationIsRefused() {
    for (EventPart p : parts(3)) {
      byte[] bytes = EventPartCodec.encode(p);
      for (int len = 0; len < bytes.length; len++) {
        int l = len;
        assertThatThrownBy(() -> EventPartCodec.decode(bytes, 0, l))
            .isInstanceOf(MalformedUnitException.class);
      }
    }
  }

  /**
   * source.max-record-bytes has no upper bound: an event the job took, of more bytes than the
   * codec's limit on counts, crossed to the assembler as its part and failed the job there at every
   * restore.
   */
  @Test
  void aPartOfAnEventLargerThanTheCountLimitReadsBackAsWritten() {
    EventPart small = parts(1).get(1);
    byte[] raw = new byte[UnitBytes.MAX_COUNT + 100];
    raw[raw.length - 1] = 7;
    String requestId = "r".repeat(UnitBytes.MAX_COUNT + 1);
    EventPart big =
        new EventPart(
            small.layoutFingerprint(),
            requestId,
            "i".repeat(UnitBytes.MAX_COUNT + 1),
            small.timestampMs(),
            small.bagEnds(),
            small.ids(),
            small.wideIds(),
            small.dense(),
            small.labels(),
            raw,
            2,
            9L);
    assertSame(big, EventPartCodec.decode(EventPartCodec.encode(big)));
  }
}
