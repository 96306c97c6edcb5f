package io.streamrec.embedding;

import java.math.BigInteger;

/**
 * The unsigned 64-bit id space cut into {@code slices} equal ranges; slice {@code j} holds the ids
 * {@code [ceil(j * 2^64 / slices), ceil((j + 1) * 2^64 / slices))}. Feature ids are hashes, so a
 * slice holds about {@code 1/slices} of any table's rows. The trainer re-publishes one slice per
 * version ({@link EmbeddingStore#markSlice}).
 */
public final class RowSlices {
  private static final BigInteger TWO_64 = BigInteger.ONE.shiftLeft(64);

  private RowSlices() {}

  /** The slice of {@code id}: {@code floor(unsigned(id) * slices / 2^64)}. */
  public static int sliceOf(long id, int slices) {
    check(0, slices);
    // the high 64 bits of the unsigned product id * slices (slices is positive)
    return (int) (Math.multiplyHigh(id, slices) + ((id >> 63) & slices));
  }

  /** The smallest id of slice {@code slice}, unsigned. */
  public static long lowerBound(int slice, int slices) {
    check(slice, slices);
    BigInteger[] qr =
        TWO_64.multiply(BigInteger.valueOf(slice)).divideAndRemainder(BigInteger.valueOf(slices));
    BigInteger lo = qr[1].signum() == 0 ? qr[0] : qr[0].add(BigInteger.ONE);
    return lo.longValue();
  }

  private static void check(int slice, int slices) {
    if (slices <= 0 || slice < 0 || slice >= slices) {
      throw new IllegalArgumentException("slice " + slice + " of " + slices);
    }
  }
}
