package io.streamrec.embedding.bench;

import io.streamrec.embedding.PreparedKeys;
import io.streamrec.embedding.RowInitializer;
import io.streamrec.embedding.StoreBatch;
import io.streamrec.embedding.StoreStats;
import io.streamrec.embedding.TableConfig;
import io.streamrec.embedding.TieredEmbeddingStore;
import io.streamrec.embedding.TieredStoreConfig;
import io.streamrec.embedding.internal.RocksDbColdTier;
import io.streamrec.gpu.CpuBackend;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.rocksdb.RocksDBException;

/**
 * {@code prepare + update} of the tiered store against what bounds it, in one run.
 *
 * <p><b>Workload.</b> Batches of {@value #BATCH} keys, Zipf(1.05) over {@code ids} distinct ids
 * (rank r drawn with weight 1/r^1.05, ranks scattered over the 64-bit id space), rows of {@code
 * dim} values + 1 optimizer-state float (row-wise Adagrad's), the trainer's shape. One operation is
 * one key of a batch; every implementation processes the same batches, so their ops/s compare
 * directly:
 *
 * <ul>
 *   <li>{@code tiered}: {@code prepare} (dedup, hot index, cold {@code multiGet} for misses,
 *       admission, CLOCK eviction with write-back), then add to every float of each distinct row
 *       through the slab by slot, {@code markUpdated}, {@code release}. {@code hotPercent} is the
 *       hot capacity as a share of the ids: 10 (the setting; its hit rate is printed at the
 *       end of the trial) or 100 (the all-hot path). Every id is in the store before measuring.
 *   <li>{@code rocksDb}: raw RocksDB with the cold tier's options, every id stored: per batch one
 *       {@code multiGet} of the distinct ids, decode, update, encode, one {@code WriteBatch}.
 *   <li>{@code hashMap}: a {@code HashMap<Long, float[]>} holding every row: get and update each
 *       distinct id.
 *   <li>{@code copyContiguous} / {@code copyGather}: the ceiling, {@code System.arraycopy} of the
 *       batch's distinct rows' bytes from a slab of the hot tier's size, in one contiguous block or
 *       row by row from each row's place.
 * </ul>
 *
 * The baselines are handed each batch's distinct ids; the store deduplicates them itself.
 *
 * <p><b>Run</b> (from the repository root; about 2 GiB of disk per store of 10M ids at dim 16):
 *
 * <pre>
 * mvn -B -o -q -pl embedding-store -am test-compile -DskipTests
 * mvn -B -o -q -pl embedding-store dependency:build-classpath -Dmdep.outputFile=target/bench.cp -Dmdep.includeScope=test
 * java -Xmx8g -cp embedding-store/target/test-classes:embedding-store/target/classes:gpu-ops/target/classes:schemas/target/classes:$(cat embedding-store/target/bench.cp) \
 *     org.openjdk.jmh.Main TieredStoreBenchmark -p ids=1000000 -rf json -rff target/store-bench.json
 * </pre>
 *
 * {@code -p ids=10000000} runs the size (populating takes minutes); the heap must hold
 * {@code hashMap}'s every row (about 1.3 GiB per 10M rows at dim 16, 3.3 GiB at dim 64) or the slab
 * (ids × (dim + 1) × 4 bytes at hotPercent=100): give {@code -Xmx} accordingly (the forks take it
 * from the command line's {@code -jvmArgs}, default below).
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 5)
@Measurement(iterations = 5, time = 5)
@Fork(
    value = 1,
    jvmArgsAppend = {"-Xmx8g", "-XX:+UseParallelGC"})
public class TieredStoreBenchmark {
  static final int BATCH = 4096;
  static final double ZIPF_S = 1.05;
  static final int STATE_WIDTH = 1;
  static final float STEP = 1e-3f;

  static TableConfig table(int dim, int capacity) {
    return new TableConfig("bench", dim, STATE_WIDTH, capacity, 1, 0, 0.05f);
  }

  /** Shared by every state: the key space and the batches. */
  @State(Scope.Benchmark)
  public static class Keys {
    @Param({"1000000"})
    public int ids;

    @Param({"16", "64"})
    public int dim;

    /**
     * Pre-generated batches, which the run cycles through: enough that the ids they touch outnumber
     * a 10% hot tier, so its hit rate is the distribution's, not the pool's.
     */
    @Param({"4096"})
    public int batches;

    ZipfKeys keys;
    int next;

    @Setup(Level.Trial)
    public void generate() {
      keys = new ZipfKeys(ids, ZIPF_S, batches, BATCH, 42);
    }

    int nextBatch() {
      int b = next;
      next = (next + 1) % batches;
      return b;
    }
  }

  @State(Scope.Benchmark)
  public static class Tiered {
    @Param({"1", "10", "100"})
    public int hotPercent;

    Path dir;
    TieredEmbeddingStore store;
    StoreStats before;
    long startNanos;
    int w;

    @Setup(Level.Trial)
    public void open(Keys k) throws IOException {
      dir = Files.createTempDirectory("store-bench");
      int capacity = (int) ((long) k.ids * hotPercent / 100);
      TableConfig t = table(k.dim, capacity);
      w = t.rowWidth();
      store = TieredEmbeddingStore.create(TieredStoreConfig.of(dir), List.of(t), new CpuBackend());
      long[] batch = new long[BATCH];
      for (int from = 0; from < k.ids; from += BATCH) {
        int n = Math.min(BATCH, k.ids - from);
        for (int i = 0; i < n; i++) {
          batch[i] = ZipfKeys.idOf(from + i);
        }
        try (StoreBatch b = store.beginBatch()) {
          b.prepare(0, batch, n);
        }
      }
      // steady state before measuring: the bulk load compacted, the hot tier warmed by one pass
      store.compactColdTier();
      for (long[] keys : k.keys.batches) {
        try (StoreBatch b = store.beginBatch()) {
          b.prepare(0, keys, keys.length);
        }
      }
      before = store.stats();
      startNanos = System.nanoTime();
    }

    @TearDown(Level.Trial)
    public void close(Keys k) throws IOException {
      double seconds = (System.nanoTime() - startNanos) / 1e9;
      StoreStats s = store.stats();
      long lookups = s.lookups() - before.lookups();
      long misses = lookups - (s.hits() - before.hits());
      System.out.printf(
          Locale.ROOT,
          "%n[tiered ids=%d dim=%d hot=%d%%] hit rate %.4f over %,d lookups; "
              + "%.0f distinct ids per batch of %d; evicted %,d; rows hot %,d, cold %,d; "
              + "%,.0f distinct rows/s, of which %,.0f misses/s (warm-up and measurement)%n",
          k.ids,
          k.dim,
          hotPercent,
          1.0 - (double) misses / lookups,
          lookups,
          k.keys.distinctPerBatch(),
          BATCH,
          s.evicted() - before.evicted(),
          s.rowsHot(),
          s.rowsCold(),
          lookups / seconds,
          misses / seconds);
      store.close();
      deleteTree(dir);
    }
  }

  @State(Scope.Benchmark)
  public static class Rocks {
    Path dir;
    RocksDbColdTier db;
    long rowsDone;
    long startNanos;
    byte[][] values = new byte[BATCH][];
    float[] row;
    byte[] value;
    TableConfig t;

    @Setup(Level.Trial)
    public void open(Keys k) throws IOException, RocksDBException {
      dir = Files.createTempDirectory("rocks-bench");
      t = table(k.dim, 1);
      db = new RocksDbColdTier(dir, List.of(t), TieredStoreConfig.of(dir));
      row = new float[t.rowWidth()];
      value = new byte[RocksDbColdTier.valueBytes(t.rowWidth())];
      for (int from = 0; from < k.ids; from += BATCH) {
        try (RocksDbColdTier.Batch b = db.batch()) {
          for (int i = from; i < Math.min(k.ids, from + BATCH); i++) {
            long id = ZipfKeys.idOf(i);
            RowInitializer.init(t, id, row, 0);
            RocksDbColdTier.encodeValue(0, row, 0, t.rowWidth(), value);
            b.putRow(0, id, value);
          }
          db.write(b);
        }
      }
      db.compact();
      startNanos = System.nanoTime();
    }

    @TearDown(Level.Trial)
    public void close(Keys k) throws IOException {
      System.out.printf(
          Locale.ROOT,
          "%n[rocksDb ids=%d dim=%d] %,.0f distinct rows/s (warm-up and measurement)%n",
          k.ids,
          k.dim,
          rowsDone / ((System.nanoTime() - startNanos) / 1e9));
      db.close();
      deleteTree(dir);
    }
  }

  @State(Scope.Benchmark)
  public static class Map {
    HashMap<Long, float[]> rows;
    TableConfig t;

    @Setup(Level.Trial)
    public void fill(Keys k) {
      t = table(k.dim, 1);
      rows = new HashMap<>(k.ids * 2);
      for (int i = 0; i < k.ids; i++) {
        long id = ZipfKeys.idOf(i);
        float[] r = new float[t.rowWidth()];
        RowInitializer.init(t, id, r, 0);
        rows.put(id, r);
      }
    }
  }

  @State(Scope.Benchmark)
  public static class Copy {
    float[] slab;
    float[] out;
    int w;
    int hotRows;
    int offset;

    @Setup(Level.Trial)
    public void allocate(Keys k) {
      w = k.dim + STATE_WIDTH;
      hotRows = k.ids / 10;
      slab = new float[hotRows * w];
      for (int i = 0; i < slab.length; i++) {
        slab[i] = i;
      }
      out = new float[BATCH * w];
    }
  }

  @Benchmark
  @OperationsPerInvocation(BATCH)
  public int tiered(Keys k, Tiered s) {
    long[] keys = k.keys.batches[k.nextBatch()];
    TieredEmbeddingStore store = s.store;
    try (StoreBatch b = store.beginBatch()) {
      PreparedKeys p = b.prepare(0, keys, keys.length);
      float[] slab = CpuBackend.array(b.slab(0));
      int w = s.w;
      int[] slots = p.distinctSlots();
      for (int d = 0; d < p.distinctCount(); d++) {
        int o = slots[d] * w;
        for (int j = 0; j < w; j++) {
          slab[o + j] += STEP;
        }
      }
      b.markUpdated(0, p);
      return p.distinctCount();
    }
  }

  @Benchmark
  @OperationsPerInvocation(BATCH)
  public int rocksDb(Keys k, Rocks s) throws RocksDBException {
    long[] ids = k.keys.distinct[k.nextBatch()];
    int w = s.t.rowWidth();
    s.db.multiGet(0, ids, ids.length, s.values);
    try (RocksDbColdTier.Batch b = s.db.batch()) {
      for (int i = 0; i < ids.length; i++) {
        RocksDbColdTier.decodeValue(s.values[i], w, s.row, 0);
        for (int j = 0; j < w; j++) {
          s.row[j] += STEP;
        }
        RocksDbColdTier.encodeValue(0, s.row, 0, w, s.value);
        b.putRow(0, ids[i], s.value);
      }
      s.db.write(b);
    }
    s.rowsDone += ids.length;
    return ids.length;
  }

  @Benchmark
  @OperationsPerInvocation(BATCH)
  public int hashMap(Keys k, Map s) {
    long[] ids = k.keys.distinct[k.nextBatch()];
    for (long id : ids) {
      float[] r = s.rows.get(id);
      if (r == null) {
        r = new float[s.t.rowWidth()];
        RowInitializer.init(s.t, id, r, 0);
        s.rows.put(id, r);
      }
      for (int j = 0; j < r.length; j++) {
        r[j] += STEP;
      }
    }
    return ids.length;
  }

  @Benchmark
  @OperationsPerInvocation(BATCH)
  public float copyContiguous(Keys k, Copy s) {
    int n = k.keys.distinct[k.nextBatch()].length * s.w;
    if (s.offset + n > s.slab.length) {
      s.offset = 0;
    }
    System.arraycopy(s.slab, s.offset, s.out, 0, n);
    s.offset += n;
    return s.out[n - 1];
  }

  @Benchmark
  @OperationsPerInvocation(BATCH)
  public float copyGather(Keys k, Copy s) {
    int[] ranks = k.keys.distinctRanks[k.nextBatch()];
    int w = s.w;
    for (int i = 0; i < ranks.length; i++) {
      // a row's place in the slab does not follow its rank: scatter ranks over the slots
      int slot = (int) (((ranks[i] * 0x9E3779B1L) & 0xffffffffL) % s.hotRows);
      System.arraycopy(s.slab, slot * w, s.out, i * w, w);
    }
    return s.out[0];
  }

  static void deleteTree(Path dir) throws IOException {
    try (var paths = Files.walk(dir)) {
      for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
