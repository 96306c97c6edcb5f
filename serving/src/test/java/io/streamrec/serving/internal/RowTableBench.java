package io.streamrec.serving.internal;

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Supplier;

/**
 * The replica's row storage against what it replaced, {@code HashMap<Long, float[]>}, in one run:
 * heap bytes per row held, rows/s put (a bootstrap's apply), reads/s of random present ids (a
 * scorer's gather), each the best of a few rounds.
 *
 * <pre>
 *   mvn -q -pl serving -am install -DskipTests
 *   mvn -q -pl serving test-compile dependency:build-classpath -Dmdep.outputFile=target/cp.txt
 *   java -Xmx8g -cp serving/target/test-classes:serving/target/classes:$(cat serving/target/cp.txt) \
 *       io.streamrec.serving.RowTableBench [rows, default 2000000] [width, default 16]
 * </pre>
 */
public final class RowTableBench {
  private static final int ROUNDS = 3;
  private static final int READS = 4_000_000;

  private RowTableBench() {}

  /** One implementation under test. */
  private interface Rows {
    void put(long id, float[] v);

    boolean read(long id, float[] out);
  }

  public static void main(String[] args) {
    int rows = args.length > 0 ? Integer.parseInt(args[0]) : 2_000_000;
    int width = args.length > 1 ? Integer.parseInt(args[1]) : 16;
    long[] ids = new SplittableRandom(3).longs(rows).toArray();
    long[] probes = new long[READS];
    SplittableRandom rnd = new SplittableRandom(4);
    for (int i = 0; i < READS; i++) {
      probes[i] = ids[rnd.nextInt(rows)];
    }
    System.out.printf(
        Locale.ROOT,
        "row storage: %,d rows of %d floats, %,d random reads, best of %d rounds%n",
        rows,
        width,
        READS,
        ROUNDS);
    Supplier<Rows> map =
        () -> {
          Map<Long, float[]> m = new HashMap<>();
          return new Rows() {
            @Override
            public void put(long id, float[] v) {
              m.put(id, v.clone()); // the replica kept each decoded row as its own array
            }

            @Override
            public boolean read(long id, float[] out) {
              float[] v = m.get(id);
              if (v == null) {
                return false;
              }
              System.arraycopy(v, 0, out, 0, v.length);
              return true;
            }
          };
        };
    Supplier<Rows> table =
        () -> {
          RowTable t = new RowTable(width);
          return new Rows() {
            @Override
            public void put(long id, float[] v) {
              t.put(id, v);
            }

            @Override
            public boolean read(long id, float[] out) {
              return t.read(id, out, 0);
            }
          };
        };
    // rounds interleave the two, so that a noisy stretch of the machine hits both
    double[] bestMap = {Double.MAX_VALUE, 0, 0};
    double[] bestTable = {Double.MAX_VALUE, 0, 0};
    for (int round = 1; round <= ROUNDS; round++) {
      best(bestMap, round("HashMap<Long, float[]>", round, map, ids, probes, width));
      best(bestTable, round("RowTable", round, table, ids, probes, width));
    }
    System.out.printf(
        Locale.ROOT,
        "%n%-24s %8.1f B/row %,14.0f puts/s %,14.0f reads/s%n",
        "HashMap<Long, float[]>",
        bestMap[0],
        bestMap[1],
        bestMap[2]);
    System.out.printf(
        Locale.ROOT,
        "%-24s %8.1f B/row %,14.0f puts/s %,14.0f reads/s%n",
        "RowTable",
        bestTable[0],
        bestTable[1],
        bestTable[2]);
    System.out.printf(
        Locale.ROOT,
        "RowTable vs HashMap: %.2fx the heap per row, %.2fx the put rate, %.2fx the read rate%n",
        bestTable[0] / bestMap[0],
        bestTable[1] / bestMap[1],
        bestTable[2] / bestMap[2]);
  }

  private static void best(double[] best, double[] r) {
    best[0] = Math.min(best[0], r[0]);
    best[1] = Math.max(best[1], r[1]);
    best[2] = Math.max(best[2], r[2]);
  }

  /** One round: heap bytes per row, puts/s, reads/s. */
  private static double[] round(
      String name, int round, Supplier<Rows> make, long[] ids, long[] probes, int width) {
    float[] v = new float[width];
    float[] out = new float[width];
    long before = usedHeap();
    long t0 = System.nanoTime();
    Rows r = make.get();
    for (int i = 0; i < ids.length; i++) {
      v[0] = i;
      r.put(ids[i], v);
    }
    double putSecs = (System.nanoTime() - t0) / 1e9;
    long held = usedHeap() - before;
    double sink = 0;
    t0 = System.nanoTime();
    for (long id : probes) {
      if (!r.read(id, out)) {
        throw new IllegalStateException("row " + id + " missing");
      }
      sink += out[0];
    }
    double readSecs = (System.nanoTime() - t0) / 1e9;
    if (sink < 0) {
      throw new IllegalStateException("negative row values");
    }
    double[] res = {(double) held / ids.length, ids.length / putSecs, probes.length / readSecs};
    System.out.printf(
        Locale.ROOT,
        "  round %d %-24s %6.1f B/row, %,12.0f puts/s, %,12.0f reads/s%n",
        round,
        name,
        res[0],
        res[1],
        res[2]);
    return res;
  }

  private static long usedHeap() {
    Runtime rt = Runtime.getRuntime();
    for (int i = 0; i < 3; i++) {
      System.gc();
    }
    return rt.totalMemory() - rt.freeMemory();
  }
}
