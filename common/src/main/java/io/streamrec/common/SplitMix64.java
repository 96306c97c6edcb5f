package io.streamrec.common;

/**
 * A small, fast, non-thread-safe pseudo-random generator: Steele, Lea and Flood's SplitMix64 ("Fast
 * splittable pseudorandom number generators", OOPSLA 2014).
 *
 * <p>The synthetic traffic must be reproducible from its seed forever, on every JDK: {@code
 * java.util.Random} is exactly specified but slow and weak, and {@code SplittableRandom}'s derived
 * methods are not part of its contract. This class fixes every derivation (doubles, bounded ints,
 * Gaussians) in our own code, so a seed means the same traffic in every release.
 */
public final class SplitMix64 {
  /** The odd Weyl increment of SplitMix64 (2^64 divided by the golden ratio). */
  private static final long GOLDEN_GAMMA = 0x9e3779b97f4a7c15L;

  /** 2^-53: turns the top 53 bits of a long into a double in [0, 1). */
  private static final double DOUBLE_UNIT = 0x1.0p-53;

  private long state;

  public SplitMix64(long seed) {
    this.state = seed;
  }

  /** A generator for one independent purpose ({@code stream}) under one seed. */
  public static SplitMix64 stream(long seed, long stream) {
    return new SplitMix64(mix(seed ^ mix(stream * GOLDEN_GAMMA)));
  }

  public long nextLong() {
    state += GOLDEN_GAMMA;
    return mix(state);
  }

  /** Uniform in [0, 1). */
  public double nextDouble() {
    return (nextLong() >>> 11) * DOUBLE_UNIT;
  }

  /**
   * Uniform in [0, bound) by multiply-shift of 32 random bits; the bias, at most bound / 2^32, is
   * far below anything the synthetic traffic can show.
   */
  public int nextInt(int bound) {
    return (int) (((nextLong() >>> 32) * bound) >>> 32);
  }

  /** Uniform in [0, maxInclusive]; {@code maxInclusive} must be non-negative and at most 2^53. */
  public long nextLongInclusive(long maxInclusive) {
    return Math.min((long) (nextDouble() * (maxInclusive + 1.0)), maxInclusive);
  }

  /**
   * Standard normal by the Box–Muller transform (construction-time use only, so no spare is kept).
   */
  public double nextGaussian() {
    double u1 = 1.0 - nextDouble(); // (0, 1]: keeps log finite
    double u2 = nextDouble();
    return Math.sqrt(-2.0 * Math.log(u1)) * Math.cos(2.0 * Math.PI * u2);
  }

  /** SplitMix64's output function (a variant of MurmurHash3's 64-bit finaliser). */
  public static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
    z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
    return z ^ (z >>> 31);
  }
}
