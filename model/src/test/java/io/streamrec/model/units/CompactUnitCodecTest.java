package io.streamrec.model.units;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.streamrec.model.ModelConfig;
import io.streamrec.model.RequestUnits;
import io.streamrec.schemas.RequestUnit;
import io.streamrec.traffic.GeneratedRequest;
import io.streamrec.traffic.TrafficConfig;
import io.streamrec.traffic.TrafficGenerator;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class CompactUnitCodecTest {
  private static final UnitLayout LAYOUT = new UnitLayout(ModelConfig.defaults().features());

  static List<CompactUnit> units(int n, long seed) {
    TrafficGenerator g =
        new TrafficGenerator(TrafficConfig.defaults().withSeed(seed).withUsers(500).withItems(300));
    UnitEncoder enc = new UnitEncoder(LAYOUT);
    List<CompactUnit> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      GeneratedRequest r = g.next(1_000L * i);
      RequestUnit u = RequestUnits.of(r.request(), r.impressions(), 1_000L * i + 500);
      out.add(enc.encode(u));
    }
    return out;
  }

  static void assertSameUnit(CompactUnit a, CompactUnit b) {
    assertThat(b.layoutFingerprint()).isEqualTo(a.layoutFingerprint());
    assertThat(b.requestId()).isEqualTo(a.requestId());
    assertThat(b.requestKey()).isEqualTo(a.requestKey());
    assertThat(b.timestampMs()).isEqualTo(a.timestampMs());
    assertThat(b.closedAtMs()).isEqualTo(a.closedAtMs());
    assertThat(b.impressions()).isEqualTo(a.impressions());
    assertThat(b.bags()).isEqualTo(a.bags());
    for (int k = 0; k < a.bags(); k++) {
      assertThat(b.bagEnd(k)).isEqualTo(a.bagEnd(k));
    }
    assertThat(b.ids()).containsExactly(a.ids());
    assertThat(b.wideIds()).containsExactly(a.wideIds());
    assertThat(b.requestDense()).containsExactly(a.requestDense());
    assertThat(b.impressionDense()).containsExactly(a.impressionDense());
    assertThat(b.labels()).containsExactly(a.labels());
  }

  @Test
  void everyUnitRoundTrips() {
    List<CompactUnit> us = units(300, 7);
    int exceptions = 0;
    for (CompactUnit u : us) {
      assertSameUnit(u, CompactUnitCodec.decode(CompactUnitCodec.encode(u)));
      for (int k = 0; k < u.ids().length; k++) {
        exceptions += u.wideIds()[k] != u.ids()[k] ? 1 : 0;
      }
    }
    // recent_items shares item_id's rows: its wide ids differ and must travel
    assertThat(exceptions).isPositive();
  }

  @Test
  void theBoundOfAUnitsSizeIsNeverBelowItsEncodedSize() {
    for (CompactUnit u : units(300, 13)) {
      long bound = CompactUnitCodec.maxEncodedSize(u);
      assertThat(bound).isGreaterThanOrEqualTo(CompactUnitCodec.encode(u).length);
      assertThat(bound).isLessThan(3L * CompactUnitCodec.encode(u).length);
    }
  }

  @Test
  void aUnitInsideALargerArrayDecodes() {
    CompactUnit u = units(1, 3).get(0);
    byte[] bytes = CompactUnitCodec.encode(u);
    byte[] padded = new byte[bytes.length + 20];
    System.arraycopy(bytes, 0, padded, 7, bytes.length);
    assertSameUnit(u, CompactUnitCodec.decode(padded, 7, bytes.length));
  }

  @Test
  void everyTruncationIsRefusedWithAReason() {
    byte[] bytes = CompactUnitCodec.encode(units(1, 11).get(0));
    for (int len = 0; len < bytes.length; len++) {
      int l = len;
      assertThatThrownBy(() -> CompactUnitCodec.decode(bytes, 0, l))
          .as("the first %d of %d bytes", len, bytes.length)
          .isInstanceOf(MalformedUnitException.class)
          .hasMessageStartingWith("not a compact request unit: ");
    }
    byte[] longer = Arrays.copyOf(bytes, bytes.length + 1);
    assertThatThrownBy(() -> CompactUnitCodec.decode(longer))
        .isInstanceOf(MalformedUnitException.class)
        .hasMessageContaining("1 bytes after the unit's end");
  }

  @Test
  void anotherFormatIsRefusedByName() {
    byte[] bytes = CompactUnitCodec.encode(units(1, 1).get(0));
    bytes[0] = 9;
    assertThatThrownBy(() -> CompactUnitCodec.decode(bytes))
        .isInstanceOf(MalformedUnitException.class)
        .hasMessageContaining("unit format 9, this build reads 1");
  }

  @Test
  void corruptBytesDecodeOrAreRefusedButNeverThrowAnythingElse() {
    List<CompactUnit> us = units(50, 5);
    SplittableRandom rnd = new SplittableRandom(99);
    int refused = 0;
    for (int trial = 0; trial < 20_000; trial++) {
      byte[] bytes = CompactUnitCodec.encode(us.get(rnd.nextInt(us.size())));
      for (int flips = 1 + rnd.nextInt(3); flips > 0; flips--) {
        bytes[rnd.nextInt(bytes.length)] ^= (byte) (1 + rnd.nextInt(255));
      }
      try {
        CompactUnitCodec.decode(bytes);
      } catch (MalformedUnitException e) {
        refused++;
      }
    }
    assertThat(refused).isBetween(1, 20_000);
  }
}
