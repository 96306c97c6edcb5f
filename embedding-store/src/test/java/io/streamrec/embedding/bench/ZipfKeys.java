package io.streamrec.embedding.bench;

import io.streamrec.common.FeatureIds;
import io.streamrec.common.LongIntHashMap;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Batches of Zipf-distributed ids, generated once: {@code n} distinct ids, rank {@code r} drawn
 * with probability proportional to {@code 1 / r^s}, each rank mapped to a scattered 64-bit id. Each
 * batch also carries its distinct ids, for the baselines (which are given them for free).
 */
final class ZipfKeys {
  final long[][] batches;
  final long[][] distinct;

  /** The rank of each distinct id (0 = the most frequent). */
  final int[][] distinctRanks;

  final long totalKeys;
  final long totalDistinct;

  ZipfKeys(int n, double s, int batches, int batchSize, long seed) {
    double[] cdf = new double[n];
    double sum = 0;
    for (int r = 0; r < n; r++) {
      sum += Math.pow(r + 1, -s);
      cdf[r] = sum;
    }
    SplittableRandom rnd = new SplittableRandom(seed);
    this.batches = new long[batches][batchSize];
    this.distinct = new long[batches][];
    this.distinctRanks = new int[batches][];
    LongIntHashMap seen = new LongIntHashMap(batchSize);
    long keys = 0, distinctKeys = 0;
    for (int b = 0; b < batches; b++) {
      seen.clear();
      long[] d = new long[batchSize];
      int[] dr = new int[batchSize];
      int nd = 0;
      for (int i = 0; i < batchSize; i++) {
        int idx = Arrays.binarySearch(cdf, rnd.nextDouble() * sum);
        int rank = idx >= 0 ? idx : Math.min(n - 1, -idx - 1);
        long id = idOf(rank);
        this.batches[b][i] = id;
        if (seen.putIfAbsent(id, 0) == LongIntHashMap.MISSING) {
          dr[nd] = rank;
          d[nd++] = id;
        }
      }
      distinct[b] = Arrays.copyOf(d, nd);
      distinctRanks[b] = Arrays.copyOf(dr, nd);
      keys += batchSize;
      distinctKeys += nd;
    }
    this.totalKeys = keys;
    this.totalDistinct = distinctKeys;
  }

  /** The id of rank {@code r} (a bijection, so ranks never collide). */
  static long idOf(long rank) {
    return FeatureIds.finish(rank * 0x9E3779B97F4A7C15L + 1);
  }

  double distinctPerBatch() {
    return (double) totalDistinct / batches.length;
  }
}
