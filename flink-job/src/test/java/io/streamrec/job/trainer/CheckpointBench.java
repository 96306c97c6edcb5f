package io.streamrec.job.trainer;

import io.streamrec.common.FeatureIds;
import io.streamrec.embedding.StoreBatch;
import io.streamrec.embedding.StoreSnapshot;
import io.streamrec.embedding.TableConfig;
import io.streamrec.embedding.TieredEmbeddingStore;
import io.streamrec.embedding.TieredStoreConfig;
import io.streamrec.gpu.CpuBackend;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.apache.flink.api.common.JobID;
import org.apache.flink.runtime.state.CheckpointStateOutputStream;
import org.apache.flink.runtime.state.CheckpointStorageAccess;
import org.apache.flink.runtime.state.CheckpointStorageLocationReference;
import org.apache.flink.runtime.state.CheckpointStreamFactory;
import org.apache.flink.runtime.state.CheckpointedStateScope;
import org.apache.flink.runtime.state.StreamStateHandle;
import org.apache.flink.runtime.state.storage.FileSystemCheckpointStorage;

/**
 * Checkpoint cost of the trainer's embedding store against model size and rows changed per
 * interval: the trainer-thread pause and the bytes written to the checkpoint storage, for the full
 * copy of earlier releases and the incremental, asynchronous checkpoint, in one run.
 *
 * <p>Workload: one table of {@code rows} rows (dim 16 plus one float of optimizer state, 76 bytes
 * per row in RocksDB), a hot tier of {@code hot-percent} of them, loaded once and compacted, then
 * one incremental checkpoint as the baseline. Each interval marks {@code changed-percent} of the
 * rows, drawn uniformly, as updated through the store's batches (4,096 ids each; they are written
 * back when evicted or at the checkpoint's flush), drains them as the interval's publish does, then
 * checkpoints. For each rate of change, {@code intervals} checkpoints of the incremental path, then
 * as many of the full copy, on the same store: each path flushes as many changed rows, and its
 * bytes include the compactions its own flushes cause.
 *
 * <ul>
 *   <li>{@code full copy}: the synchronous path that {@code TrainerOperator} had: the store's
 *       snapshot, then every file streamed into the checkpoint ({@link
 *       TrainerCheckpoint#writeLegacy}). All of it blocks the trainer.
 *   <li>{@code incremental}: the cut on the trainer thread (the store's snapshot, hard links), then
 *       the upload of new table files to the shared directory and the manifest ({@link
 *       TrainerCheckpoint#write}), which Flink runs on its asynchronous snapshot thread;
 *       unreferenced shared files deleted as with one retained checkpoint.
 * </ul>
 *
 * <p>Checkpoint storage: Flink's file-system storage on a local directory under {@code
 * java.io.tmpdir}. Run with {@code scripts/bench-checkpoint.sh} (arguments: {@code --rows
 * 1000000,10000000 --changed 1,10 --hot-percent 1 --intervals 8}). Prints one line per setting and
 * path: the median and longest pause, the asynchronous phase, the mean bytes per checkpoint
 * (RocksDB compactions included), the files; then the parts of the incremental pause and the
 * ratios.
 */
public final class CheckpointBench {
  private static final int DIM = 16;
  private static final int STATE_WIDTH = 1;
  private static final int BATCH = 4_096;

  private CheckpointBench() {}

  public static void main(String[] args) throws Exception {
    long[] rows = {1_000_000, 10_000_000};
    int[] changed = {1, 10};
    double hotPercent = 1;
    int intervals = 8;
    for (int i = 0; i < args.length; i += 2) {
      String v = args[i + 1];
      switch (args[i]) {
        case "--rows" -> rows = Arrays.stream(v.split(",")).mapToLong(Long::parseLong).toArray();
        case "--changed" ->
            changed = Arrays.stream(v.split(",")).mapToInt(Integer::parseInt).toArray();
        case "--hot-percent" -> hotPercent = Double.parseDouble(v);
        case "--intervals" -> intervals = Integer.parseInt(v);
        default -> throw new IllegalArgumentException("unknown argument " + args[i]);
      }
    }
    System.out.printf(
        Locale.ROOT,
        "%-9s %-8s %-12s %9s %9s %9s %14s %6s%n",
        "rows",
        "changed",
        "path",
        "pause ms",
        "max ms",
        "async ms",
        "bytes/ckpt",
        "files");
    for (long n : rows) {
      run(n, changed, hotPercent, intervals);
    }
  }

  /** One model of {@code rows} rows, loaded once; each rate of change in turn. */
  private static void run(long rows, int[] changedPcts, double hotPercent, int intervals)
      throws Exception {
    Path work = Files.createTempDirectory("checkpoint-bench");
    try {
      int hot = (int) Math.max(BATCH, rows * hotPercent / 100);
      TableConfig table = new TableConfig("bench", DIM, STATE_WIDTH, hot, 1, 0, 0.05f);
      Path storeDir = work.resolve("store");
      try (TieredEmbeddingStore store =
          TieredEmbeddingStore.create(
              TieredStoreConfig.of(storeDir), List.of(table), new CpuBackend())) {
        load(store, rows);
        CheckpointStorageAccess storage =
            new FileSystemCheckpointStorage(work.resolve("checkpoints").toUri(), 0)
                .createCheckpointStorage(new JobID());
        storage.initializeBaseLocationsForCheckpoint();
        SharedStoreFiles shared = new SharedStoreFiles(1);
        long[] id = {0};
        // the baseline: every table file once
        incremental(store, storage, shared, ++id[0], work);
        SplittableRandom rnd = new SplittableRandom(7);
        for (int changedPct : changedPcts) {
          long change = rows * changedPct / 100;
          // one phase per path, each a run of intervals with a checkpoint after every one, so
          // each path's bytes include the compactions its own flushes cause
          List<Measure> inc = new ArrayList<>(), full = new ArrayList<>();
          for (int i = 0; i < intervals; i++) {
            touch(store, rows, change, rnd);
            inc.add(incremental(store, storage, shared, ++id[0], work));
          }
          for (int i = 0; i < intervals; i++) {
            touch(store, rows, change, rnd);
            full.add(fullCopy(store, storage, ++id[0], work));
          }
          Measure f = Measure.summary(full), c = Measure.summary(inc);
          print(rows, changedPct, "full copy", f);
          print(rows, changedPct, "incremental", c);
          System.out.printf(
              Locale.ROOT,
              "%-9s %-8s incremental pause: write-back of stale hot rows %.1f ms, RocksDB flush and"
                  + " checkpoint %.1f ms, store metadata %.1f ms%n",
              rows,
              changedPct + "%",
              c.writeBackMs,
              c.coldCheckpointMs,
              c.metadataMs);
          System.out.printf(
              Locale.ROOT,
              "%-9s %-8s incremental / full copy: pause %.3fx, bytes %.3fx (hot tier %,d rows)%n",
              rows,
              changedPct + "%",
              c.pauseMs / f.pauseMs,
              (double) c.bytes / f.bytes,
              hot);
        }
      }
    } finally {
      io.streamrec.common.Directories.deleteRecursively(work);
    }
  }

  private static void print(long rows, int pct, String path, Measure m) {
    System.out.printf(
        Locale.ROOT,
        "%-9d %-8s %-12s %9.1f %9.1f %9.1f %,14d %6d%n",
        rows,
        pct + "%",
        path,
        m.pauseMs,
        m.maxPauseMs,
        m.asyncMs,
        m.bytes,
        m.files);
  }

  /**
   * One checkpoint, or a summary of several; the pause's parts are those of the store's snapshot
   * ({@link StoreSnapshot}).
   */
  private record Measure(
      double pauseMs,
      double maxPauseMs,
      double asyncMs,
      long bytes,
      int files,
      double writeBackMs,
      double coldCheckpointMs,
      double metadataMs) {
    Measure(double pauseMs, double asyncMs, long bytes, int files, StoreSnapshot s) {
      this(
          pauseMs,
          pauseMs,
          asyncMs,
          bytes,
          files,
          s.writeBackNanos() / 1e6,
          s.coldCheckpointNanos() / 1e6,
          s.metadataNanos() / 1e6);
    }

    /**
     * The checkpoint of median pause (its parts, its asynchronous time), the longest pause, and the
     * mean bytes: RocksDB's compactions rewrite files every few checkpoints, and the mean counts
     * them in.
     */
    static Measure summary(List<Measure> ms) {
      List<Measure> s = new ArrayList<>(ms);
      s.sort((a, b) -> Double.compare(a.pauseMs, b.pauseMs));
      Measure m = s.get(s.size() / 2);
      long bytes = Math.round(ms.stream().mapToLong(Measure::bytes).average().orElse(0));
      return new Measure(
          m.pauseMs,
          s.get(s.size() - 1).pauseMs,
          m.asyncMs,
          bytes,
          m.files,
          m.writeBackMs,
          m.coldCheckpointMs,
          m.metadataMs);
    }
  }

  private static long idOf(long rank) {
    return FeatureIds.finish(rank * 0x9E3779B97F4A7C15L + 1);
  }

  /** Admits rows 0..rows-1, then compacts: a model that has been trained for a while. */
  private static void load(TieredEmbeddingStore store, long rows) {
    long t0 = System.nanoTime();
    long[] keys = new long[BATCH];
    for (long from = 0; from < rows; from += BATCH) {
      int n = (int) Math.min(BATCH, rows - from);
      for (int i = 0; i < n; i++) {
        keys[i] = idOf(from + i);
      }
      try (StoreBatch b = store.beginBatch()) {
        b.markUpdated(0, b.prepare(0, keys, n));
      }
    }
    drain(store);
    store.compactColdTier();
    System.out.printf(
        Locale.ROOT, "(loaded %,d rows in %.1f s)%n", rows, (System.nanoTime() - t0) / 1e9);
  }

  /** Marks {@code count} rows drawn uniformly as updated, in batches. */
  private static void touch(TieredEmbeddingStore store, long rows, long count, SplittableRandom r) {
    long[] keys = new long[BATCH];
    for (long done = 0; done < count; done += BATCH) {
      int n = (int) Math.min(BATCH, count - done);
      for (int i = 0; i < n; i++) {
        keys[i] = idOf(r.nextLong(rows));
      }
      try (StoreBatch b = store.beginBatch()) {
        b.markUpdated(0, b.prepare(0, keys, n));
      }
    }
    drain(store);
  }

  /** Hands every changed row to nowhere, as a publish does at the end of an interval. */
  private static void drain(TieredEmbeddingStore store) {
    while (store.drainDirty(0, 1 << 16, (id, values, offset, dim) -> {}) > 0) {}
  }

  private static CheckpointStreamFactory factory(CheckpointStorageAccess storage, long id)
      throws IOException {
    return storage.resolveCheckpointStorageLocation(
        id, CheckpointStorageLocationReference.getDefault());
  }

  /** The path of earlier releases: snapshot and copy of every file, all on the trainer thread. */
  private static Measure fullCopy(
      TieredEmbeddingStore store, CheckpointStorageAccess storage, long id, Path work)
      throws Exception {
    Path dir = work.resolve("full-" + id);
    long t0 = System.nanoTime();
    StoreSnapshot snap = store.snapshot(dir);
    CheckpointStateOutputStream out =
        factory(storage, id).createCheckpointStateOutputStream(CheckpointedStateScope.EXCLUSIVE);
    TrainerCheckpoint.writeLegacy(out, dir, 0, 0, false, new byte[0]);
    StreamStateHandle h = out.closeAndGetHandle();
    long t1 = System.nanoTime();
    int files;
    try (var s = Files.walk(dir)) {
      files = (int) s.filter(Files::isRegularFile).count();
    }
    io.streamrec.common.Directories.deleteRecursively(dir);
    long bytes = h.getStateSize();
    h.discardState();
    return new Measure((t1 - t0) / 1e6, 0, bytes, files, snap);
  }

  /** The cut on the trainer thread, then the upload (Flink's asynchronous phase). */
  private static Measure incremental(
      TieredEmbeddingStore store,
      CheckpointStorageAccess storage,
      SharedStoreFiles shared,
      long id,
      Path work)
      throws Exception {
    Path dir = work.resolve("cut-" + id);
    CheckpointStreamFactory factory = factory(storage, id);
    long t0 = System.nanoTime();
    StoreSnapshot snap = store.snapshot(dir);
    TrainerCheckpoint cp =
        TrainerCheckpoint.cut(id, 0, 0, false, new byte[0], dir, shared, factory);
    long t1 = System.nanoTime();
    CheckpointStateOutputStream out =
        factory.createCheckpointStateOutputStream(CheckpointedStateScope.EXCLUSIVE);
    cp.write(new DataOutputStream(out));
    StreamStateHandle h = out.closeAndGetHandle();
    long t2 = System.nanoTime();
    for (SharedStoreFiles.SharedFile f : shared.completed(id)) {
      f.path().getFileSystem().delete(f.path(), false);
    }
    TrainerCheckpoint.Written w = cp.written();
    long bytes = h.getStateSize() + w.bytesUploaded();
    h.discardState();
    return new Measure((t1 - t0) / 1e6, (t2 - t1) / 1e6, bytes, w.files(), snap);
  }
}
