package io.streamrec.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.streamrec.schemas.AvroCodec;
import io.streamrec.schemas.DeltaKind;
import io.streamrec.schemas.MalformedRecordException;
import io.streamrec.schemas.ModelDelta;
import io.streamrec.schemas.RowEncoding;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class HalfFloatsTest {
  private static final int SAMPLES = 1_000_000;

  @Test
  void everyFloat16WidensAndNarrowsBackToItsOwnBits() {
    for (int h = 0; h < 1 << 16; h++) {
      float f = HalfFloats.fromFloat16((short) h);
      boolean nan = (h & 0x7c00) == 0x7c00 && (h & 0x3ff) != 0;
      if (nan) {
        assertThat(f).as("0x%04x", h).isNaN();
        assertThat(HalfFloats.fromFloat16(HalfFloats.toFloat16(f))).isNaN();
      } else {
        assertThat(HalfFloats.toFloat16(f) & 0xffff).as("0x%04x", h).isEqualTo(h);
      }
    }
  }

  @Test
  void everyBfloat16WidensAndNarrowsBackToItsOwnBits() {
    for (int h = 0; h < 1 << 16; h++) {
      float f = HalfFloats.fromBfloat16((short) h);
      if (Float.isNaN(f)) {
        assertThat(HalfFloats.fromBfloat16(HalfFloats.toBfloat16(f))).isNaN();
      } else {
        assertThat(HalfFloats.toBfloat16(f) & 0xffff).as("0x%04x", h).isEqualTo(h);
      }
    }
  }

  @Test
  void float16KnownValuesAndSpecials() {
    assertThat(HalfFloats.toFloat16(1.0f)).isEqualTo((short) 0x3c00);
    assertThat(HalfFloats.toFloat16(-2.0f)).isEqualTo((short) 0xc000);
    assertThat(HalfFloats.toFloat16(65504f)).isEqualTo((short) 0x7bff); // largest finite
    assertThat(HalfFloats.toFloat16(65520f))
        .as("halfway to 2^16 rounds up to infinity")
        .isEqualTo((short) 0x7c00);
    assertThat(HalfFloats.toFloat16(1e6f)).isEqualTo((short) 0x7c00);
    assertThat(HalfFloats.toFloat16(Float.NEGATIVE_INFINITY)).isEqualTo((short) 0xfc00);
    assertThat(HalfFloats.fromFloat16(HalfFloats.toFloat16(Float.NaN))).isNaN();
    assertThat(HalfFloats.fromFloat16(HalfFloats.toFloat16(Float.intBitsToFloat(0x7f800001))))
        .as("payload in low bits")
        .isNaN();
    assertThat(HalfFloats.toFloat16(-0.0f)).isEqualTo((short) 0x8000);
    assertThat(HalfFloats.toFloat16(0x1p-24f)).as("smallest subnormal").isEqualTo((short) 0x0001);
    assertThat(HalfFloats.toFloat16(0x1p-25f))
        .as("half of it: tie, to even (zero)")
        .isEqualTo((short) 0x0000);
    assertThat(HalfFloats.toFloat16(0x1.8p-25f))
        .as("above the tie rounds up")
        .isEqualTo((short) 0x0001);
    assertThat(HalfFloats.toFloat16(0x3p-25f))
        .as("1.5 units: tie, to even (2)")
        .isEqualTo((short) 0x0002);
    assertThat(HalfFloats.toFloat16(0x1.ffcp-15f))
        .as("rounds up into the smallest normal")
        .isEqualTo((short) 0x0400);
    assertThat(HalfFloats.toFloat16(Float.MIN_VALUE))
        .as("float32 subnormal")
        .isEqualTo((short) 0x0000);
    assertThat(HalfFloats.toFloat16(1.0f + 0x1p-11f))
        .as("tie between 1 and 1+2^-10: even")
        .isEqualTo((short) 0x3c00);
    assertThat(HalfFloats.toFloat16(1.0f + 0x3p-11f))
        .as("tie between 1+2^-10 and 1+2^-9: even")
        .isEqualTo((short) 0x3c02);
  }

  @Test
  void bfloat16KnownValuesAndSpecials() {
    assertThat(HalfFloats.toBfloat16(1.0f)).isEqualTo((short) 0x3f80);
    assertThat(HalfFloats.toBfloat16(Float.POSITIVE_INFINITY)).isEqualTo((short) 0x7f80);
    assertThat(HalfFloats.toBfloat16(Float.MAX_VALUE))
        .as("rounds past the largest finite to infinity")
        .isEqualTo((short) 0x7f80);
    assertThat(HalfFloats.fromBfloat16(HalfFloats.toBfloat16(Float.intBitsToFloat(0x7f800001))))
        .isNaN();
    assertThat(HalfFloats.toBfloat16(Float.intBitsToFloat(0x3f808000)))
        .as("tie: even")
        .isEqualTo((short) 0x3f80);
    assertThat(HalfFloats.toBfloat16(Float.intBitsToFloat(0x3f818000)))
        .as("tie: even")
        .isEqualTo((short) 0x3f82);
    assertThat(HalfFloats.toBfloat16(Float.intBitsToFloat(0x3f808001))).isEqualTo((short) 0x3f81);
    float subnormal = Float.intBitsToFloat(0x00410000);
    assertThat(HalfFloats.fromBfloat16(HalfFloats.toBfloat16(subnormal)))
        .as("float32 subnormals with 7 bits survive")
        .isEqualTo(subnormal);
    assertThat(HalfFloats.toBfloat16(Float.MIN_VALUE))
        .as("the smallest rounds to zero")
        .isEqualTo((short) 0);
  }

  @Test
  void roundTripErrorStaysWithinTheStatedBounds() {
    SplittableRandom r = new SplittableRandom(7);
    for (int i = 0; i < SAMPLES; i++) {
      float x = (float) ((r.nextDouble() * 2 - 1) * Math.pow(2, r.nextInt(-30, 16)));
      float h = HalfFloats.fromFloat16(HalfFloats.toFloat16(x));
      double err = Math.abs((double) h - x);
      if (Math.abs(x) >= 0x1p-14) {
        assertThat(err).as("float16 of %s", x).isLessThanOrEqualTo(Math.abs(x) * 0x1p-11);
      } else {
        assertThat(err).as("float16 of %s", x).isLessThanOrEqualTo(0x1p-25);
      }
      float y = Float.intBitsToFloat(r.nextInt());
      if (Float.isFinite(y) && Math.abs(y) >= Float.MIN_NORMAL && Math.abs(y) < 0x1.fep127f) {
        float b = HalfFloats.fromBfloat16(HalfFloats.toBfloat16(y));
        assertThat(Math.abs((double) b - y))
            .as("bfloat16 of %s", y)
            .isLessThanOrEqualTo(Math.abs((double) y) * 0x1p-8);
      }
    }
  }

  @Test
  void float16RoundsToTheNearestRepresentable() {
    // the exact nearest float16 by brute force over the two neighbours, on random floats in range
    SplittableRandom r = new SplittableRandom(11);
    for (int i = 0; i < 100_000; i++) {
      float x = (float) ((r.nextDouble() * 2 - 1) * 70000);
      short h = HalfFloats.toFloat16(x);
      float got = HalfFloats.fromFloat16(h);
      if (Float.isInfinite(got)) {
        assertThat(Math.abs(x)).isGreaterThanOrEqualTo(65520f);
        continue;
      }
      float up = HalfFloats.fromFloat16((short) (h + 1));
      float down = HalfFloats.fromFloat16((short) (h - 1));
      assertThat(Math.abs(got - x)).as("%s -> %s", x, got).isLessThanOrEqualTo(Math.abs(up - x));
      assertThat(Math.abs(got - x)).as("%s -> %s", x, got).isLessThanOrEqualTo(Math.abs(down - x));
    }
  }

  @Test
  void rowValuesTravelInEachEncodingThroughTheCodec() {
    float[] row = {0.5f, -1.25f, 3e-3f, 0f, 1234.5f, -7e-6f};
    for (RowEncoding e : RowEncoding.values()) {
      ModelDelta d =
          RowValues.set(
                  ModelDelta.newBuilder()
                      .setVersion(3)
                      .setKind(DeltaKind.ROW)
                      .setTable("t")
                      .setId(9),
                  e,
                  new float[] {99f, row[0], row[1], row[2], row[3], row[4], row[5]},
                  1,
                  row.length)
              .build();
      ModelDelta back = AvroCodec.decode(AvroCodec.encode(d), ModelDelta.class);
      float[] got = RowValues.get(back);
      assertThat(back.getEncoding()).isEqualTo(e);
      assertThat(got).hasSize(row.length);
      for (int j = 0; j < row.length; j++) {
        float want =
            switch (e) {
              case FLOAT32 -> row[j];
              case FLOAT16 -> HalfFloats.fromFloat16(HalfFloats.toFloat16(row[j]));
              case BFLOAT16 -> HalfFloats.fromBfloat16(HalfFloats.toBfloat16(row[j]));
            };
        assertThat(got[j]).as("%s value %d", e, j).isEqualTo(want);
      }
    }
    assertThat(
            AvroCodec.encode(
                    RowValues.set(
                            ModelDelta.newBuilder()
                                .setVersion(1)
                                .setKind(DeltaKind.ROW)
                                .setTable("t"),
                            RowEncoding.FLOAT16,
                            new float[64],
                            0,
                            64)
                        .build())
                .length)
        .isLessThan(
            AvroCodec.encode(
                            RowValues.set(
                                    ModelDelta.newBuilder()
                                        .setVersion(1)
                                        .setKind(DeltaKind.ROW)
                                        .setTable("t"),
                                    RowEncoding.FLOAT32,
                                    new float[64],
                                    0,
                                    64)
                                .build())
                        .length
                    / 2
                + 16);
  }

  @Test
  void aPackedRowOfOddLengthOrWithFloat32ValuesTooIsMalformed() {
    ModelDelta odd =
        ModelDelta.newBuilder()
            .setVersion(1)
            .setKind(DeltaKind.ROW)
            .setTable("t")
            .setValues(List.of())
            .setEncoding(RowEncoding.FLOAT16)
            .setPacked(ByteBuffer.wrap(new byte[3]))
            .build();
    assertThatThrownBy(() -> RowValues.get(odd))
        .isInstanceOf(MalformedRecordException.class)
        .hasMessageContaining("3 bytes");
    ModelDelta both =
        ModelDelta.newBuilder()
            .setVersion(1)
            .setKind(DeltaKind.ROW)
            .setTable("t")
            .setValues(List.of(1f))
            .setEncoding(RowEncoding.BFLOAT16)
            .setPacked(ByteBuffer.wrap(new byte[2]))
            .build();
    assertThatThrownBy(() -> RowValues.get(both))
        .isInstanceOf(MalformedRecordException.class)
        .hasMessageContaining("'values'");
  }

  @Test
  void aFloat32RowWithPackedBytesTooIsMalformed() {
    // the float32 values would be read and the packed ones dropped without a word: which of the
    // two the producer meant is not for the reader to guess
    ModelDelta both =
        ModelDelta.newBuilder()
            .setVersion(1)
            .setKind(DeltaKind.ROW)
            .setTable("t")
            .setValues(List.of(1f))
            .setEncoding(RowEncoding.FLOAT32)
            .setPacked(ByteBuffer.wrap(new byte[] {0x00, 0x3c}))
            .build();
    assertThatThrownBy(() -> RowValues.get(both))
        .isInstanceOf(MalformedRecordException.class)
        .hasMessageContaining("'packed' holds 2 bytes");
    assertThatThrownBy(
            () -> ModelUpdateDecoder.decode(ModelUpdateKeys.row("t", 0), AvroCodec.encode(both)))
        .isInstanceOf(MalformedModelUpdateException.class)
        .hasMessageContaining("'packed'");
  }
}
