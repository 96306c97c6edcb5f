package io.streamrec.traffic;

import io.streamrec.common.SplitMix64;

/**
 * Samples an index from a fixed discrete distribution in O(1): Walker's alias method, built in O(n)
 * with Vose's two-worklist construction ("A linear algorithm for generating random numbers with a
 * given distribution", IEEE TSE 1991).
 *
 * <p>The generator draws a user and several items for every request from Zipf distributions over up
 * to millions of ids; a CDF with binary search would cost O(log n) per draw, a linear scan O(n).
 * One 64-bit random value is split into a 32-bit column index and a 32-bit coin, so a draw costs
 * one call to the generator, a multiply and one comparison.
 */
final class AliasTable {
  /** 2^-32: turns 32 random bits into a coin in [0, 1). */
  private static final double COIN_UNIT = 0x1.0p-32;

  private final double[] accept;
  private final int[] alias;

  /**
   * @param weights non-negative, finite, not all zero; need not sum to one
   */
  AliasTable(double[] weights) {
    int n = weights.length;
    if (n == 0) {
      throw new IllegalArgumentException("an alias table needs at least one weight");
    }
    double sum = 0;
    for (double w : weights) {
      if (!(w >= 0) || Double.isInfinite(w)) {
        throw new IllegalArgumentException("weights must be finite and non-negative, got " + w);
      }
      sum += w;
    }
    if (sum <= 0) {
      throw new IllegalArgumentException("weights must not all be zero");
    }
    accept = new double[n];
    alias = new int[n];
    double[] scaled = new double[n];
    int[] small = new int[n];
    int[] large = new int[n];
    int nSmall = 0;
    int nLarge = 0;
    for (int i = 0; i < n; i++) {
      scaled[i] = weights[i] * n / sum;
      if (scaled[i] < 1.0) {
        small[nSmall++] = i;
      } else {
        large[nLarge++] = i;
      }
    }
    while (nSmall > 0 && nLarge > 0) {
      int s = small[--nSmall];
      int l = large[--nLarge];
      accept[s] = scaled[s];
      alias[s] = l;
      scaled[l] = (scaled[l] + scaled[s]) - 1.0;
      if (scaled[l] < 1.0) {
        small[nSmall++] = l;
      } else {
        large[nLarge++] = l;
      }
    }
    // What remains is 1 up to rounding: those columns always accept themselves.
    while (nLarge > 0) {
      int l = large[--nLarge];
      accept[l] = 1.0;
      alias[l] = l;
    }
    while (nSmall > 0) {
      int s = small[--nSmall];
      accept[s] = 1.0;
      alias[s] = s;
    }
  }

  /** Zipf over ranks 0..n-1: the weight of rank k is (k + 1)^-exponent; exponent 0 is uniform. */
  static AliasTable zipf(int n, double exponent) {
    double[] w = new double[n];
    for (int k = 0; k < n; k++) {
      w[k] = Math.pow(k + 1.0, -exponent);
    }
    return new AliasTable(w);
  }

  int size() {
    return accept.length;
  }

  int sample(SplitMix64 rng) {
    long r = rng.nextLong();
    int column = (int) (((r >>> 32) * accept.length) >>> 32);
    double coin = (r & 0xffffffffL) * COIN_UNIT;
    return coin < accept[column] ? column : alias[column];
  }
}
