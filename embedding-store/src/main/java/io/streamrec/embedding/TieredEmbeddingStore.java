package io.streamrec.embedding;

import io.streamrec.embedding.internal.CountMinSketch;
import io.streamrec.embedding.internal.RocksDbColdTier;
import io.streamrec.embedding.internal.SnapshotFiles;
import io.streamrec.embedding.internal.TieredTable;
import io.streamrec.embedding.internal.WorkDirLock;
import io.streamrec.gpu.ComputeBackend;
import io.streamrec.gpu.Floats;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.zip.CRC32;
import java.util.zip.CheckedInputStream;
import java.util.zip.CheckedOutputStream;

/**
 * The embedding store for real workloads: per table, a bounded hot tier of rows in the compute
 * backend's memory over a RocksDB cold tier that holds every row, with a frequency filter for
 * admission, CLOCK eviction, TTL expiry, dirty tracking for the delta publisher, and incremental
 * snapshots. One row per id (64-bit keys, no buckets), as Monolith's collisionless tables,
 * DeepRec's multi-tier EmbeddingVariable and HugeCTR's HierarchicalKV + HPS do.
 *
 * <p><b>A batch.</b> {@link StoreBatch#prepare} deduplicates the keys, answers hits from the hot
 * index (a primitive open-addressing map), and collects the misses. The misses are looked up in the
 * cold tier with one {@code multiGet}; those not found pass through the admission filter: an id
 * seen {@code admissionThreshold} times (a {@link CountMinSketch}) gets a new row with its {@link
 * RowInitializer initial values}; a younger id gets a <em>scratch</em> slot holding its initial
 * values for this batch only, which the trainer may write into but which is never stored (the
 * semantics of {@link InMemoryEmbeddingStore}). If the hot tier is full, CLOCK picks victims among
 * the unpinned rows; those whose cold copy is out of date are gathered from the slab in one batch
 * and written back with one {@code WriteBatch}. The incoming rows are staged on the host and placed
 * with one upload and one scatter. Every row of the batch stays pinned until the batch is closed.
 *
 * <p><b>Tiers are inclusive.</b> A row promoted to the hot tier keeps its cold record; it is
 * written back only if it changed (values, optimizer state, or, for tables with a TTL, its
 * last-seen time). Snapshots therefore only flush the rows changed since the last write-back.
 *
 * <p><b>Publishing.</b> A row's "changed since the last drain" bit lives with the hot row; when a
 * changed row is evicted before it was drained, its id moves to a per-table set of changed cold
 * rows, so {@link #drainDirty} never misses a change. Drains and expiries hand ids in ascending id
 * order, which does not depend on where rows happen to live, so a restored store drains exactly as
 * the original would.
 *
 * <p><b>Expiry.</b> Hot rows are checked by a scan of the slot metadata (a few bytes per slot).
 * Cold rows are found through a last-seen index (a second column family of (time, id) keys,
 * maintained with every write-back): {@link #drainExpired} reads exactly the entries older than the
 * cutoff, so its cost is proportional to what expires plus index entries superseded since the last
 * call, never to the size of the cold tier. The price is one extra small put and delete per
 * write-back of a row whose last-seen time moved (tables without a TTL keep no index).
 *
 * <p><b>Snapshots.</b> {@link #snapshot} writes stale hot rows back, flushes RocksDB's memtables,
 * takes a RocksDB checkpoint (hard links to the immutable table files), moves it into the snapshot
 * directory reusing the table files of the previous snapshot (see {@link SnapshotFiles}), and
 * writes the store's own metadata beside it: the clock, counters, sketches, the changed-cold-row
 * sets and the hot tier's layout (each slot's id, flags and times, the free list, the CLOCK hand).
 * {@link #open} restores all of it, reloading the hot rows' values from the checkpoint into the
 * same slots, so the restored store repeats the original's hits, evictions, drains and expiries
 * exactly. Its cost is the bytes of new table files (none on the same file system), plus the
 * metadata (about 25 bytes per hot slot, plus each sketch).
 *
 * <p>Not thread-safe: one trainer thread calls it. {@link #stats()} may be read from elsewhere for
 * metrics only through a copy taken on that thread.
 */
public final class TieredEmbeddingStore extends BatchedStore {
  private static final int META_MAGIC = 0x53524553; // "SRES"
  private static final int META_VERSION = 1;
  private static final String META_FILE = "store.meta";
  private static final String DB_DIR = "db";

  private final TieredStoreConfig config;
  private final WorkDirLock lock;
  private final List<TableConfig> tables;
  private final ComputeBackend backend;
  private final RocksDbColdTier cold;
  private final TieredTable[] state;
  private long nowMs = Long.MIN_VALUE;

  private Path previousSnapshot;
  private int checkpointSeq;
  private boolean closed;

  /**
   * {@code restoring}: the cold tier's database is in the working directory already; {@code lock}:
   * the hold on the working directory, released when the store closes.
   */
  private TieredEmbeddingStore(
      TieredStoreConfig config,
      List<TableConfig> tables,
      ComputeBackend backend,
      boolean restoring,
      WorkDirLock lock) {
    this.config = config;
    this.lock = lock;
    this.tables = List.copyOf(tables);
    this.backend = backend;
    for (int i = 0; i < this.tables.size(); i++) {
      for (int j = 0; j < i; j++) {
        if (this.tables.get(i).name().equals(this.tables.get(j).name())) {
          throw new IllegalArgumentException(
              "two embedding tables are named '" + this.tables.get(i).name() + "'");
        }
      }
      if (this.tables.get(i).admissionThreshold() > CountMinSketch.MAX_COUNT) {
        throw new IllegalArgumentException(
            "table '"
                + this.tables.get(i).name()
                + "': admission threshold must be <= "
                + CountMinSketch.MAX_COUNT
                + ", got "
                + this.tables.get(i).admissionThreshold());
      }
    }
    this.cold =
        new RocksDbColdTier(config.workDir().resolve(DB_DIR), this.tables, config, restoring);
    this.state = new TieredTable[this.tables.size()];
    try {
      for (int i = 0; i < state.length; i++) {
        state[i] = new TieredTable(i, this.tables.get(i), backend, cold, () -> nowMs);
      }
    } catch (RuntimeException e) {
      close();
      throw e;
    }
  }

  /**
   * A new, empty store in {@code config.workDir()} (whatever the directory held is replaced; a
   * directory another open store works in is refused before anything in it is deleted).
   */
  public static TieredEmbeddingStore create(
      TieredStoreConfig config, List<TableConfig> tables, ComputeBackend backend) {
    WorkDirLock lock = WorkDirLock.take(config.workDir());
    try {
      SnapshotFiles.deleteRecursively(config.workDir().resolve(DB_DIR));
      return new TieredEmbeddingStore(config, tables, backend, false, lock);
    } catch (RuntimeException e) {
      lock.close();
      throw e;
    }
  }

  /**
   * The store saved by {@link #snapshot} into {@code snapshotDir}, working in {@code
   * config.workDir()} (whatever the directory held is replaced: after a crash, it is rebuilt from
   * the snapshot). The tables must be configured as they were when the snapshot was written.
   */
  public static TieredEmbeddingStore open(
      TieredStoreConfig config,
      Path snapshotDir,
      List<TableConfig> tables,
      ComputeBackend backend) {
    Path meta = snapshotDir.resolve(META_FILE);
    if (!Files.isRegularFile(meta)) {
      throw new StoreException(
          "no store snapshot in " + snapshotDir + " (" + META_FILE + " is missing)");
    }
    // a snapshot without its database (cut short, or copied without db/CURRENT) is damaged: opened,
    // it would be a new, empty database, and every row would read as its initial values
    if (!Files.isRegularFile(snapshotDir.resolve(DB_DIR).resolve("CURRENT"))) {
      throw new StoreException(
          "the store snapshot in "
              + snapshotDir
              + " has no cold-tier database ("
              + DB_DIR
              + "/CURRENT is missing)");
    }
    TieredEmbeddingStore store;
    WorkDirLock lock = WorkDirLock.take(config.workDir());
    try {
      Path db = config.workDir().resolve(DB_DIR);
      SnapshotFiles.deleteRecursively(db);
      try {
        SnapshotFiles.transfer(snapshotDir.resolve(DB_DIR), db, null);
      } catch (IOException e) {
        throw new StoreException(
            "cannot restore the cold tier from " + snapshotDir + ": " + e.getMessage(), e);
      }
      store = new TieredEmbeddingStore(config, tables, backend, true, lock);
    } catch (RuntimeException e) {
      lock.close();
      throw e;
    }
    try {
      store.readMetadata(meta);
    } catch (IOException e) {
      store.close();
      throw new StoreException("cannot read the store snapshot " + meta + ": " + e.getMessage(), e);
    } catch (RuntimeException e) {
      store.close();
      throw e;
    }
    store.previousSnapshot = snapshotDir;
    return store;
  }

  @Override
  public List<TableConfig> tables() {
    return tables;
  }

  @Override
  public void advanceTo(long eventTimeMs) {
    checkOpen();
    if (nowMs == Long.MIN_VALUE && eventTimeMs != Long.MIN_VALUE) {
      // rows seen before the clock started carry no time: they count as seen when it starts
      for (TieredTable t : state) {
        t.stampUnseen(eventTimeMs);
      }
    }
    nowMs = Math.max(nowMs, eventTimeMs);
  }

  @Override
  PreparedKeys prepareKeys(int table, long[] keys, int count) {
    checkOpen();
    return state[table].prepare(keys, count);
  }

  @Override
  Floats slabOf(int table) {
    return state[table].slab();
  }

  @Override
  void markRowsUpdated(int table, PreparedKeys prepared) {
    state[table].markUpdated(prepared);
  }

  @Override
  void releaseBatch() {
    for (TieredTable t : state) {
      t.release();
    }
  }

  @Override
  public int drainDirty(int table, int maxRows, RowSink sink) {
    checkOpen();
    return state[table].drainDirty(maxRows, sink);
  }

  @Override
  public int markSlice(int table, int slice, int slices) {
    checkOpen();
    requireNoBatch("mark a slice");
    return state[table].markSlice(slice, slices);
  }

  @Override
  public int drainExpired(int table, ExpiredSink sink) {
    checkOpen();
    return state[table].drainExpired(sink);
  }

  @Override
  public void read(int table, long id, float[] out) {
    checkOpen();
    state[table].read(id, out);
  }

  @Override
  public StoreStats stats() {
    long lookups = 0, hits = 0, hot = 0, coldOnly = 0, admitted = 0, evicted = 0, expired = 0;
    for (TieredTable t : state) {
      lookups += t.lookups();
      hits += t.hits();
      hot += t.hotRows();
      coldOnly += t.coldOnlyRows();
      admitted += t.admitted();
      evicted += t.evicted();
      expired += t.expired();
    }
    return new StoreStats(lookups, hits, hot, coldOnly, admitted, evicted, expired);
  }

  /**
   * Compacts the cold tier fully, so that reads find each row in one sorted level: worth it after a
   * bulk load or a large expiry. Blocks until done; the store's content does not change.
   */
  public void compactColdTier() {
    checkOpen();
    cold.compact();
  }

  /** The store's working directory. */
  public Path workDir() {
    return config.workDir();
  }

  @Override
  public StoreSnapshot snapshot(Path dir) {
    checkOpen();
    requireNoBatch("snapshot");
    try {
      if (Files.isDirectory(dir)) {
        try (var s = Files.list(dir)) {
          if (s.findAny().isPresent()) {
            throw new IllegalArgumentException("snapshot directory " + dir + " is not empty");
          }
        }
      }
      long t0 = System.nanoTime();
      for (TieredTable t : state) {
        t.flushStale();
      }
      long t1 = System.nanoTime();
      Path tmp = config.workDir().resolve("checkpoints").resolve("cp-" + (checkpointSeq++));
      SnapshotFiles.deleteRecursively(tmp);
      Files.createDirectories(tmp.getParent());
      cold.checkpoint(tmp);
      long t2 = System.nanoTime();
      SnapshotFiles.Transfer tr;
      try {
        tr =
            SnapshotFiles.transfer(
                tmp,
                dir.resolve(DB_DIR),
                previousSnapshot == null ? null : previousSnapshot.resolve(DB_DIR));
      } finally {
        SnapshotFiles.deleteRecursively(tmp);
      }
      long t3 = System.nanoTime();
      long metaBytes = writeMetadata(dir);
      long t4 = System.nanoTime();
      previousSnapshot = dir;
      return new StoreSnapshot(
          dir,
          tr.files(),
          tr.reused(),
          tr.bytes() + metaBytes,
          tr.bytesCopied() + metaBytes,
          t1 - t0,
          t2 - t1,
          t4 - t3);
    } catch (IOException e) {
      throw new StoreException(
          "cannot write a store snapshot to " + dir + ": " + e.getMessage(), e);
    }
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    for (int i = state.length - 1; i >= 0; i--) {
      if (state[i] != null) {
        state[i].close();
      }
    }
    try {
      cold.close();
    } finally {
      lock.close();
    }
  }

  @Override
  void checkUsable() {
    checkOpen();
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("the embedding store is closed");
    }
  }

  // ---- metadata -------------------------------------------------------------------------------

  private long writeMetadata(Path dir) throws IOException {
    // streamed to the file through a buffer: a hot tier of tens of millions of slots writes
    // gigabytes of metadata, more than an array in memory holds
    Path tmp = dir.resolve(META_FILE + ".tmp");
    CRC32 crc = new CRC32();
    try (OutputStream file = Files.newOutputStream(tmp)) {
      // checksummed a buffer at a time, as it goes to the file
      DataOutputStream out =
          new DataOutputStream(new MetadataBuffer(new CheckedOutputStream(file, crc)));
      out.writeInt(META_MAGIC);
      out.writeInt(META_VERSION);
      out.writeLong(nowMs);
      out.writeInt(checkpointSeq);
      out.writeInt(state.length);
      for (TieredTable t : state) {
        t.writeMetadata(out);
      }
      out.flush();
      new DataOutputStream(file).writeLong(crc.getValue());
    }
    Path meta = dir.resolve(META_FILE);
    Files.move(tmp, meta, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    return Files.size(meta);
  }

  /**
   * A 64 KiB buffer in front of the file, without {@link java.io.BufferedOutputStream}'s lock: the
   * metadata is a few small writes per hot slot, tens of millions of them, and a checkpoint's cut
   * waits for them.
   */
  private static final class MetadataBuffer extends OutputStream {
    private final OutputStream out;
    private final byte[] buf = new byte[1 << 16];
    private int size;

    MetadataBuffer(OutputStream out) {
      this.out = out;
    }

    @Override
    public void write(int b) throws IOException {
      if (size == buf.length) {
        drain();
      }
      buf[size++] = (byte) b;
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      if (len > buf.length - size) {
        drain();
        if (len > buf.length) {
          out.write(b, off, len);
          return;
        }
      }
      System.arraycopy(b, off, buf, size, len);
      size += len;
    }

    private void drain() throws IOException {
      out.write(buf, 0, size);
      size = 0;
    }

    @Override
    public void flush() throws IOException {
      drain();
      out.flush();
    }
  }

  /**
   * Checks the checksum at the end of {@code meta} (its last 8 bytes, over every byte before them)
   * before anything in the file is used: a damaged count would otherwise size an array first, and
   * fail as a negative size or run out of memory instead of as a damaged file.
   */
  private static void checkChecksum(Path meta, long size) throws IOException {
    if (size < Long.BYTES) {
      throw new IOException("the file is cut short (" + size + " bytes)");
    }
    CRC32 crc = new CRC32();
    byte[] buf = new byte[1 << 16];
    try (DataInputStream in = new DataInputStream(Files.newInputStream(meta))) {
      for (long left = size - Long.BYTES; left > 0; ) {
        int n = in.read(buf, 0, (int) Math.min(buf.length, left));
        if (n < 0) {
          throw new IOException("the file is cut short");
        }
        crc.update(buf, 0, n);
        left -= n;
      }
      if (in.readLong() != crc.getValue()) {
        throw new IOException("checksum mismatch: the file is damaged");
      }
    }
  }

  private void readMetadata(Path meta) throws IOException {
    CRC32 crc = new CRC32();
    long size;
    try {
      size = Files.size(meta);
      checkChecksum(meta, size);
    } catch (NoSuchFileException e) {
      throw new IOException("missing " + e.getFile(), e);
    }
    try (InputStream is = Files.newInputStream(meta);
        CheckedInputStream checked =
            new CheckedInputStream(new BufferedInputStream(is, 1 << 16), crc);
        DataInputStream in = new DataInputStream(checked)) {
      if (in.readInt() != META_MAGIC) {
        throw new IOException("not a store snapshot");
      }
      int version = in.readInt();
      if (version != META_VERSION) {
        throw new IOException(
            "snapshot format version " + version + ", this store reads " + META_VERSION);
      }
      nowMs = in.readLong();
      checkpointSeq = in.readInt();
      int n = in.readInt();
      if (n != state.length) {
        throw new StoreLayoutException(
            "the snapshot has " + n + " tables, the store is configured with " + state.length);
      }
      for (TieredTable t : state) {
        t.readMetadata(in, size);
      }
      long expected = crc.getValue();
      long stored = in.readLong();
      if (stored != expected) {
        throw new IOException("checksum mismatch: the file is damaged");
      }
    } catch (NoSuchFileException e) {
      throw new IOException("missing " + e.getFile(), e);
    }
  }
}
