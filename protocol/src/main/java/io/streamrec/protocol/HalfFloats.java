package io.streamrec.protocol;

/**
 * Conversions between float32 and the two 16-bit float formats the model-updates topic may carry
 * rows in: IEEE 754 binary16 ("float16": 1 sign, 5 exponent, 10 fraction bits) and bfloat16 (the
 * top half of a float32: 1 sign, 8 exponent, 7 fraction bits).
 *
 * <p>Both narrowing conversions round to nearest, ties to even, as IEEE 754 prescribes (and as
 * numpy's {@code astype(float16)} and PyTorch's {@code to(torch.bfloat16)} do), so a consumer in
 * another language widens the same bits to the same floats. Infinities stay infinities, a NaN stays
 * a (quiet) NaN, a float32 beyond the float16 range becomes an infinity, and float16's subnormals
 * (down to 2^-24) are produced and read. Widening is exact.
 *
 * <p>Error bounds of a round trip: float16, relative error at most 2^-11 for magnitudes in [2^-14,
 * 65504], absolute error at most 2^-25 below 2^-14; bfloat16, relative error at most 2^-8 over
 * float32's whole normal range.
 */
public final class HalfFloats {
  private static final int F32_EXP_MASK = 0xff;
  private static final int F32_FRACTION_MASK = 0x7fffff;

  /** float32 exponent bias less float16's (127 - 15). */
  private static final int REBIAS = 112;

  private static final int F16_INFINITY = 0x7c00;
  private static final int F16_QUIET_NAN = 0x7e00;
  private static final int F16_MAX_EXP = 0x1f;

  private HalfFloats() {}

  /** The float16 nearest to {@code f} (ties to even), as its 16 bits. */
  public static short toFloat16(float f) {
    int bits = Float.floatToRawIntBits(f);
    int sign = (bits >>> 16) & 0x8000;
    int exp = (bits >>> 23) & F32_EXP_MASK;
    int fraction = bits & F32_FRACTION_MASK;
    if (exp == F32_EXP_MASK) {
      return (short)
          (fraction == 0 ? sign | F16_INFINITY : sign | F16_QUIET_NAN | (fraction >>> 13));
    }
    int e = exp - REBIAS;
    if (e >= F16_MAX_EXP) {
      return (short) (sign | F16_INFINITY);
    }
    if (e <= 0) {
      if (e < -10) {
        return (short) sign; // below half the smallest subnormal (2^-25): rounds to zero
      }
      // a float16 subnormal counts units of 2^-24: the significand with its leading one, shifted
      // down
      int significand = fraction | 0x800000;
      int shift = 14 - e;
      int half = significand >>> shift;
      int rest = significand & ((1 << shift) - 1);
      int halfway = 1 << (shift - 1);
      if (rest > halfway || (rest == halfway && (half & 1) != 0)) {
        half++; // may carry into the smallest normal, which is then right
      }
      return (short) (sign | half);
    }
    int half = (e << 10) | (fraction >>> 13);
    int rest = fraction & 0x1fff;
    if (rest > 0x1000 || (rest == 0x1000 && (half & 1) != 0)) {
      half++; // may carry into the exponent, up to infinity, which is then right
    }
    return (short) (sign | half);
  }

  /** The float32 equal to the float16 {@code h}. */
  public static float fromFloat16(short h) {
    int bits = h & 0xffff;
    int sign = (bits & 0x8000) << 16;
    int exp = (bits >>> 10) & F16_MAX_EXP;
    int fraction = bits & 0x3ff;
    if (exp == F16_MAX_EXP) {
      return Float.intBitsToFloat(sign | 0x7f800000 | (fraction << 13));
    }
    if (exp == 0) {
      float v = fraction * 0x1p-24f; // exact: at most 10 significant bits
      return sign == 0 ? v : -v;
    }
    return Float.intBitsToFloat(sign | ((exp + REBIAS) << 23) | (fraction << 13));
  }

  /** The bfloat16 nearest to {@code f} (ties to even), as its 16 bits. */
  public static short toBfloat16(float f) {
    int bits = Float.floatToRawIntBits(f);
    if ((bits & 0x7fffffff) > 0x7f800000) {
      return (short)
          ((bits >>> 16) | 0x0040); // NaN: keep it a NaN even if its payload sits in the low half
    }
    int lsb = (bits >>> 16) & 1;
    return (short) ((bits + 0x7fff + lsb) >>> 16);
  }

  /** The float32 equal to the bfloat16 {@code b}. */
  public static float fromBfloat16(short b) {
    return Float.intBitsToFloat((b & 0xffff) << 16);
  }
}
