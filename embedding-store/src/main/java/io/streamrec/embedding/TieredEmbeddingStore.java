package io.streamrec.embedding;

import io.streamrec.common.LongIntHashMap;
import io.streamrec.embedding.internal.CountMinSketch;
import io.streamrec.embedding.internal.HotTier;
import io.streamrec.embedding.internal.RocksDbColdTier;
import io.streamrec.embedding.internal.SnapshotFiles;
import io.streamrec.gpu.ComputeBackend;
import io.streamrec.gpu.Floats;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32;
import java.util.zip.CheckedInputStream;
import java.util.zip.CheckedOutputStream;
import org.rocksdb.RocksDBException;

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
public final class TieredEmbeddingStore implements EmbeddingStore {
  /** Keys looked ahead when a batch reads the hot tier's metadata (see {@code HotTier#slotsOf}). */
  private static final int LOOKAHEAD = 16;

  /** Rows per batched read or write when draining, flushing or restoring. */
  private static final int CHUNK_ROWS = 4096;

  private static final int META_MAGIC = 0x53524553; // "SRES"
  private static final int META_VERSION = 1;
  private static final String META_FILE = "store.meta";
  private static final String DB_DIR = "db";
  private static final byte FROM_COLD = 1;
  private static final byte ADMIT = 2;
  private static final byte SCRATCH = 3;

  private final TieredStoreConfig config;
  private final List<TableConfig> tables;
  private final ComputeBackend backend;
  private final RocksDbColdTier cold;
  private final Table[] state;
  private long nowMs = Long.MIN_VALUE;

  /** The batch begun and not yet closed, if any. */
  private StoreBatch openBatch;

  private Path previousSnapshot;
  private int checkpointSeq;
  private boolean closed;

  private TieredEmbeddingStore(
      TieredStoreConfig config, List<TableConfig> tables, ComputeBackend backend) {
    this.config = config;
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
    try {
      Files.createDirectories(config.workDir());
    } catch (IOException e) {
      throw new StoreException(
          "cannot create the store's working directory " + config.workDir() + ": " + e.getMessage(),
          e);
    }
    this.cold = new RocksDbColdTier(config.workDir().resolve(DB_DIR), this.tables, config);
    this.state = new Table[this.tables.size()];
    try {
      for (int i = 0; i < state.length; i++) {
        state[i] = new Table(i, this.tables.get(i));
      }
    } catch (RuntimeException e) {
      close();
      throw e;
    }
  }

  /** A new, empty store in {@code config.workDir()} (whatever the directory held is replaced). */
  public static TieredEmbeddingStore create(
      TieredStoreConfig config, List<TableConfig> tables, ComputeBackend backend) {
    SnapshotFiles.deleteRecursively(config.workDir().resolve(DB_DIR));
    return new TieredEmbeddingStore(config, tables, backend);
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
    Path db = config.workDir().resolve(DB_DIR);
    SnapshotFiles.deleteRecursively(db);
    try {
      SnapshotFiles.transfer(snapshotDir.resolve(DB_DIR), db, null);
    } catch (IOException e) {
      throw new StoreException(
          "cannot restore the cold tier from " + snapshotDir + ": " + e.getMessage(), e);
    }
    TieredEmbeddingStore store = new TieredEmbeddingStore(config, tables, backend);
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
      for (Table t : state) {
        t.stampUnseen(eventTimeMs);
      }
    }
    nowMs = Math.max(nowMs, eventTimeMs);
  }

  @Override
  public StoreBatch beginBatch() {
    checkOpen();
    if (openBatch != null) {
      throw new IllegalStateException(
          "a batch is open on this store; close it before beginning another");
    }
    openBatch =
        new StoreBatch(
            new StoreBatch.Operations() {
              @Override
              public PreparedKeys prepare(int table, long[] keys, int count) {
                return prepareKeys(table, keys, count);
              }

              @Override
              public Floats slab(int table) {
                return slabOf(table);
              }

              @Override
              public void markUpdated(int table, PreparedKeys prepared) {
                markRowsUpdated(table, prepared);
              }

              @Override
              public void release() {
                openBatch = null;
                releaseBatch();
              }
            },
            tables.size());
    return openBatch;
  }

  private PreparedKeys prepareKeys(int table, long[] keys, int count) {
    checkOpen();
    return state[table].prepare(keys, count);
  }

  private Floats slabOf(int table) {
    return state[table].hot.slab();
  }

  private void markRowsUpdated(int table, PreparedKeys prepared) {
    HotTier h = state[table].hot;
    int[] slots = prepared.distinctSlots();
    long[] ids = prepared.distinctKeys();
    for (int d = 0; d < prepared.distinctCount(); d++) {
      int s = slots[d];
      if ((h.flags(s) & HotTier.RESIDENT) != 0 && h.keyOf(s) == ids[d]) {
        h.setFlags(s, HotTier.PUBLISH | HotTier.STALE);
      }
    }
  }

  private void releaseBatch() {
    for (Table t : state) {
      t.hot.releaseAll();
    }
  }

  @Override
  public int drainDirty(int table, int maxRows, RowSink sink) {
    checkOpen();
    return state[table].drainDirty(maxRows, sink);
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
    for (Table t : state) {
      lookups += t.lookups;
      hits += t.hits;
      hot += t.hot.resident();
      coldOnly += t.coldOnly();
      admitted += t.admitted;
      evicted += t.evicted;
      expired += t.expired;
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
    if (openBatch != null) {
      throw new IllegalStateException("cannot snapshot inside a batch: close the batch first");
    }
    try {
      if (Files.isDirectory(dir)) {
        try (var s = Files.list(dir)) {
          if (s.findAny().isPresent()) {
            throw new IllegalArgumentException("snapshot directory " + dir + " is not empty");
          }
        }
      }
      for (Table t : state) {
        t.flushStale();
      }
      Path tmp = config.workDir().resolve("checkpoints").resolve("cp-" + (checkpointSeq++));
      SnapshotFiles.deleteRecursively(tmp);
      Files.createDirectories(tmp.getParent());
      cold.checkpoint(tmp);
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
      long metaBytes = writeMetadata(dir);
      previousSnapshot = dir;
      return new StoreSnapshot(
          dir, tr.files(), tr.reused(), tr.bytes() + metaBytes, tr.bytesCopied() + metaBytes);
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
        state[i].hot.close();
      }
    }
    cold.close();
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("the embedding store is closed");
    }
  }

  // ---- metadata -------------------------------------------------------------------------------

  private long writeMetadata(Path dir) throws IOException {
    Path tmp = dir.resolve(META_FILE + ".tmp");
    CRC32 crc = new CRC32();
    try (OutputStream os = Files.newOutputStream(tmp);
        CheckedOutputStream checked =
            new CheckedOutputStream(new BufferedOutputStream(os, 1 << 16), crc);
        DataOutputStream out = new DataOutputStream(checked)) {
      out.writeInt(META_MAGIC);
      out.writeInt(META_VERSION);
      out.writeLong(nowMs);
      out.writeInt(checkpointSeq);
      out.writeInt(state.length);
      for (Table t : state) {
        t.writeMetadata(out);
      }
      out.flush();
      out.writeLong(crc.getValue());
    }
    Path meta = dir.resolve(META_FILE);
    Files.move(tmp, meta, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    return Files.size(meta);
  }

  private void readMetadata(Path meta) throws IOException {
    CRC32 crc = new CRC32();
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
        throw new StoreException(
            "the snapshot has " + n + " tables, the store is configured with " + state.length);
      }
      for (Table t : state) {
        t.readMetadata(in);
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

  /** Cold rows found expired by one index scan. */
  private static final class ColdExpiry {
    long[] ids = new long[16];
    long[] times = new long[16];
    int n;

    void add(long id, long time) {
      if (n == ids.length) {
        ids = Arrays.copyOf(ids, n * 2);
        times = Arrays.copyOf(times, n * 2);
      }
      ids[n] = id;
      times[n++] = time;
    }
  }

  // ---- one table ------------------------------------------------------------------------------

  private final class Table {
    final int index;
    final TableConfig cfg;
    final int w;
    final boolean ttl;
    final HotTier hot;
    CountMinSketch sketch;

    /** Ids of cold-only rows changed since they were last drained. */
    LongIntHashMap changedCold = new LongIntHashMap(64);

    long lookups, hits, admitted, evicted, expired;

    /** Records in the cold tier (rows only there, plus hot rows with a cold copy). */
    long coldCount;

    /** Every last-seen index entry older than this was expired: scans start here. */
    long seenFloor = Long.MIN_VALUE;

    // per-batch scratch, reused
    private final LongIntHashMap local = new LongIntHashMap(1024);
    private int[] missAt = new int[256];
    private long[] missKeys = new long[256];
    private byte[][] found = new byte[256][];
    private byte[] kind = new byte[256];
    private int[] placeSlots = new int[256];
    private int[] victims = new int[256];
    private int[] staleSlots = new int[256];
    private float[] inStage = new float[0];
    private float[] outStage = new float[0];
    private final byte[] valueBuf;

    Table(int index, TableConfig cfg) {
      this.index = index;
      this.cfg = cfg;
      this.w = cfg.rowWidth();
      this.ttl = cfg.ttlMs() > 0;
      this.hot = new HotTier(cfg, backend);
      this.sketch =
          cfg.admissionThreshold() > 1 ? CountMinSketch.forCapacity(cfg.hotCapacityRows()) : null;
      this.valueBuf = new byte[RocksDbColdTier.valueBytes(w)];
    }

    long coldOnly() {
      return coldCount - hot.inCold();
    }

    private void ensureBatch(int n) {
      if (missAt.length < n) {
        int m = Math.max(n, missAt.length * 2);
        missAt = new int[m];
        missKeys = new long[m];
        found = new byte[m][];
        kind = new byte[m];
        placeSlots = new int[m];
        victims = new int[m];
        staleSlots = new int[m];
      }
    }

    private float[] inStage(int rows) {
      if (inStage.length < rows * w) {
        inStage = new float[Math.max(rows, 256) * w];
      }
      return inStage;
    }

    private float[] outStage(int rows) {
      if (outStage.length < rows * w) {
        outStage = new float[Math.max(rows, 256) * w];
      }
      return outStage;
    }

    PreparedKeys prepare(long[] keys, int count) {
      int[] slots = new int[count];
      int[] rowIndex = new int[count];
      int[] distinctSlots = new int[count];
      long[] distinctKeys = new long[count];
      ensureBatch(count);
      // hits are deduplicated by stamping their slot with the batch; only misses need a map
      int stamp = hot.nextStamp();
      boolean localUsed = false;
      int distinct = 0;
      int misses = 0;
      hot.slotsOf(keys, count, slots);
      long sink = 0;
      for (int i = 0; i < count; i++) {
        long k = keys[i];
        int s = slots[i];
        if (i + LOOKAHEAD < count && slots[i + LOOKAHEAD] >= 0) {
          sink += hot.touchMeta(slots[i + LOOKAHEAD]);
        }
        int li;
        if (s != LongIntHashMap.MISSING) {
          li = hot.stampedIndex(s, stamp);
          if (li < 0) {
            li = distinct++;
            hot.hit(s, stamp, li, nowMs, ttl);
            distinctKeys[li] = k;
            distinctSlots[li] = s;
          }
        } else {
          if (!localUsed) {
            local.clear();
            localUsed = true;
          }
          li = local.putIfAbsent(k, distinct);
          if (li == LongIntHashMap.MISSING) {
            li = distinct++;
            distinctKeys[li] = k;
            missAt[misses++] = li;
          }
        }
        rowIndex[i] = li;
      }
      hot.sink(sink);
      lookups += distinct;
      hits += distinct - misses;
      if (misses > 0) {
        placeMisses(distinctKeys, distinctSlots, misses);
      }
      for (int i = 0; i < count; i++) {
        slots[i] = distinctSlots[rowIndex[i]];
      }
      return new PreparedKeys(slots, rowIndex, distinctSlots, distinctKeys, distinct);
    }

    private void placeMisses(long[] distinctKeys, int[] distinctSlots, int misses) {
      for (int m = 0; m < misses; m++) {
        missKeys[m] = distinctKeys[missAt[m]];
      }
      if (coldOnly() > 0) {
        cold.multiGet(index, missKeys, misses, found);
      } else {
        Arrays.fill(found, 0, misses, null);
      }
      int needResident = 0;
      for (int m = 0; m < misses; m++) {
        if (found[m] != null) {
          kind[m] = FROM_COLD;
          needResident++;
        } else if (sketch == null || sketch.increment(missKeys[m]) >= cfg.admissionThreshold()) {
          kind[m] = ADMIT;
          needResident++;
        } else {
          kind[m] = SCRATCH;
        }
      }
      int evictions = hot.resident() + needResident - cfg.hotCapacityRows();
      if (evictions > 0) {
        evict(evictions);
      }
      float[] stage = inStage(misses);
      for (int m = 0; m < misses; m++) {
        long id = missKeys[m];
        int s;
        if (kind[m] == FROM_COLD) {
          byte[] v = found[m];
          long seen = RocksDbColdTier.lastSeenOf(v);
          int extra = HotTier.IN_COLD;
          if (ttl && seen != nowMs) {
            extra |= HotTier.STALE;
          }
          if (changedCold.remove(id) != LongIntHashMap.MISSING) {
            extra |= HotTier.PUBLISH;
          }
          s = hot.addResident(id, nowMs, seen, extra);
          RocksDbColdTier.decodeValue(v, w, stage, m * w);
          found[m] = null;
        } else if (kind[m] == ADMIT) {
          s = hot.addResident(id, nowMs, Long.MIN_VALUE, HotTier.STALE);
          admitted++;
          RowInitializer.init(cfg, id, stage, m * w);
        } else {
          s = hot.addScratch(id);
          RowInitializer.init(cfg, id, stage, m * w);
        }
        placeSlots[m] = s;
        distinctSlots[missAt[m]] = s;
      }
      hot.scatter(stage, placeSlots, misses);
    }

    /** Makes room for {@code n} rows: CLOCK victims, stale ones written back in one batch. */
    private void evict(int n) {
      hot.chooseVictims(n, victims);
      int stale = 0;
      for (int i = 0; i < n; i++) {
        if ((hot.flags(victims[i]) & HotTier.STALE) != 0) {
          staleSlots[stale++] = victims[i];
        }
      }
      writeBack(staleSlots, stale);
      for (int i = 0; i < n; i++) {
        int s = victims[i];
        if ((hot.flags(s) & HotTier.PUBLISH) != 0) {
          changedCold.put(hot.keyOf(s), 0);
        }
        hot.remove(s);
      }
      evicted += n;
    }

    /** Writes the rows at {@code slots[0..n)} to the cold tier: one gather, one write batch. */
    private void writeBack(int[] slots, int n) {
      if (n == 0) {
        return;
      }
      float[] stage = outStage(n);
      hot.gather(slots, n, stage);
      try (RocksDbColdTier.Batch b = cold.batch()) {
        for (int k = 0; k < n; k++) {
          int s = slots[k];
          long id = hot.keyOf(s);
          long seen = hot.lastSeen(s);
          boolean had = (hot.flags(s) & HotTier.IN_COLD) != 0;
          RocksDbColdTier.encodeValue(seen, stage, k * w, w, valueBuf);
          b.putRow(index, id, valueBuf);
          if (ttl) {
            long old = hot.coldSeen(s);
            if (!had || old != seen) {
              if (had) {
                b.deleteSeen(index, old, id);
              }
              b.putSeen(index, seen, id);
            }
          }
          if (!had) {
            coldCount++;
          }
        }
        cold.write(b);
      } catch (RocksDBException e) {
        throw RocksDbColdTier.failed("write back " + n + " rows of table '" + cfg.name() + "'", e);
      }
      for (int k = 0; k < n; k++) {
        hot.writtenBack(slots[k]);
      }
    }

    /** Writes every stale hot row back (before a snapshot). */
    void flushStale() {
      int[] chunk = new int[CHUNK_ROWS];
      int n = 0;
      for (int s = 0; s < hot.highWater(); s++) {
        byte f = hot.flags(s);
        if ((f & HotTier.RESIDENT) != 0 && (f & HotTier.STALE) != 0) {
          chunk[n++] = s;
          if (n == CHUNK_ROWS) {
            writeBack(chunk, n);
            n = 0;
          }
        }
      }
      writeBack(chunk, n);
    }

    int drainDirty(int maxRows, RowSink sink) {
      if (maxRows <= 0) {
        return 0;
      }
      int total = changedCold.size();
      for (int s = 0; s < hot.highWater(); s++) {
        if ((hot.flags(s) & HotTier.PUBLISH) != 0) {
          total++;
        }
      }
      if (total == 0) {
        return 0;
      }
      long[] ids = new long[total];
      int k = 0;
      for (int s = 0; s < hot.highWater(); s++) {
        if ((hot.flags(s) & HotTier.PUBLISH) != 0) {
          ids[k++] = hot.keyOf(s);
        }
      }
      long[] coldIds = changedCold.keys();
      System.arraycopy(coldIds, 0, ids, k, coldIds.length);
      Arrays.sort(ids);
      int n = Math.min(maxRows, total);
      int[] hotSlots = new int[Math.min(n, CHUNK_ROWS)];
      int[] hotAt = new int[hotSlots.length];
      long[] coldKeys = new long[hotSlots.length];
      int[] coldAt = new int[hotSlots.length];
      byte[][] values = new byte[hotSlots.length][];
      for (int from = 0; from < n; from += CHUNK_ROWS) {
        int len = Math.min(CHUNK_ROWS, n - from);
        float[] rows = outStage(len);
        int nh = 0, nc = 0;
        for (int i = 0; i < len; i++) {
          long id = ids[from + i];
          int s = hot.slotOf(id);
          if (s != LongIntHashMap.MISSING && (hot.flags(s) & HotTier.PUBLISH) != 0) {
            hotSlots[nh] = s;
            hotAt[nh++] = i;
          } else {
            coldKeys[nc] = id;
            coldAt[nc++] = i;
          }
        }
        float[] gathered = inStage(nh);
        hot.gather(hotSlots, nh, gathered);
        for (int j = 0; j < nh; j++) {
          System.arraycopy(gathered, j * w, rows, hotAt[j] * w, w);
          hot.clearFlags(hotSlots[j], HotTier.PUBLISH);
        }
        cold.multiGet(index, coldKeys, nc, values);
        for (int j = 0; j < nc; j++) {
          if (values[j] == null) {
            throw new StoreException(
                "table '"
                    + cfg.name()
                    + "': changed row "
                    + coldKeys[j]
                    + " is missing from the cold tier");
          }
          RocksDbColdTier.decodeValue(values[j], w, rows, coldAt[j] * w);
          values[j] = null;
          changedCold.remove(coldKeys[j]);
        }
        for (int i = 0; i < len; i++) {
          sink.accept(ids[from + i], rows, i * w, cfg.dim());
        }
      }
      return n;
    }

    int drainExpired(ExpiredSink sink) {
      if (!ttl || nowMs == Long.MIN_VALUE || nowMs < Long.MIN_VALUE + cfg.ttlMs()) {
        return 0;
      }
      long cutoff = nowMs - cfg.ttlMs(); // expired: last seen before the cutoff
      int[] hotGone = new int[16];
      int nh = 0;
      for (int s = 0; s < hot.highWater(); s++) {
        if ((hot.flags(s) & HotTier.RESIDENT) != 0 && hot.lastSeen(s) < cutoff) {
          if (nh == hotGone.length) {
            hotGone = Arrays.copyOf(hotGone, nh * 2);
          }
          hotGone[nh++] = s;
        }
      }
      ColdExpiry coldGone = new ColdExpiry();
      cold.scanSeen(
          index,
          seenFloor,
          cutoff,
          (seen, id) -> {
            // index entries of hot rows may be older than the row: the hot scan above decides for
            // them
            if (hot.slotOf(id) == LongIntHashMap.MISSING) {
              coldGone.add(id, seen);
            }
          });
      int total = nh + coldGone.n;
      long[] ids = new long[total];
      try (RocksDbColdTier.Batch b = cold.batch()) {
        for (int i = 0; i < nh; i++) {
          int s = hotGone[i];
          long id = hot.keyOf(s);
          ids[i] = id;
          if ((hot.flags(s) & HotTier.IN_COLD) != 0) {
            b.deleteRow(index, id);
            b.deleteSeen(index, hot.coldSeen(s), id);
            coldCount--;
          }
          hot.remove(s);
        }
        for (int i = 0; i < coldGone.n; i++) {
          long id = coldGone.ids[i];
          ids[nh + i] = id;
          b.deleteRow(index, id);
          b.deleteSeen(index, coldGone.times[i], id);
          coldCount--;
          changedCold.remove(id);
        }
        cold.write(b);
      } catch (RocksDBException e) {
        throw RocksDbColdTier.failed("delete expired rows of table '" + cfg.name() + "'", e);
      }
      seenFloor = cutoff;
      expired += total;
      Arrays.sort(ids);
      for (long id : ids) {
        sink.accept(id);
      }
      return total;
    }

    void read(long id, float[] out) {
      int s = hot.slotOf(id);
      if (s != LongIntHashMap.MISSING) {
        hot.readRow(s, out, 0);
        return;
      }
      byte[] v = coldOnly() > 0 ? cold.get(index, id) : null;
      if (v != null) {
        RocksDbColdTier.decodeValue(v, w, out, 0);
      } else {
        RowInitializer.init(cfg, id, out, 0);
      }
    }

    /** The clock starts: rows seen before it count as seen now. */
    void stampUnseen(long t) {
      for (int s = 0; s < hot.highWater(); s++) {
        if ((hot.flags(s) & HotTier.RESIDENT) != 0 && hot.lastSeen(s) == Long.MIN_VALUE) {
          hot.touchTime(s, t, ttl);
        }
      }
      if (!ttl) {
        return;
      }
      LongIntHashMap unseen = new LongIntHashMap(64);
      cold.scanSeen(
          index,
          Long.MIN_VALUE,
          Long.MIN_VALUE + 1,
          (seen, id) -> {
            if (hot.slotOf(id) == LongIntHashMap.MISSING) {
              unseen.put(id, 0);
            }
          });
      long[] ids = unseen.keys();
      Arrays.sort(ids);
      float[] row = new float[w];
      try (RocksDbColdTier.Batch b = cold.batch()) {
        for (long id : ids) {
          byte[] v = cold.get(index, id);
          RocksDbColdTier.decodeValue(v, w, row, 0);
          RocksDbColdTier.encodeValue(t, row, 0, w, valueBuf);
          b.putRow(index, id, valueBuf);
          b.deleteSeen(index, Long.MIN_VALUE, id);
          b.putSeen(index, t, id);
        }
        cold.write(b);
      } catch (RocksDBException e) {
        throw RocksDbColdTier.failed("start the clock of table '" + cfg.name() + "'", e);
      }
    }

    void writeMetadata(DataOutputStream out) throws IOException {
      out.writeUTF(cfg.name());
      out.writeInt(cfg.dim());
      out.writeInt(cfg.stateWidth());
      out.writeInt(cfg.hotCapacityRows());
      out.writeInt(cfg.admissionThreshold());
      out.writeLong(cfg.ttlMs());
      out.writeFloat(cfg.initScale());
      out.writeLong(lookups);
      out.writeLong(hits);
      out.writeLong(admitted);
      out.writeLong(evicted);
      out.writeLong(expired);
      out.writeLong(coldCount);
      out.writeLong(seenFloor);
      int hw = hot.highWater();
      out.writeInt(hot.slabRows());
      out.writeInt(hw);
      out.writeInt(hot.hand());
      for (int s = 0; s < hw; s++) {
        byte f = hot.flags(s);
        out.writeByte(f);
        if ((f & HotTier.RESIDENT) != 0) {
          out.writeLong(hot.keyOf(s));
          out.writeLong(hot.lastSeen(s));
          out.writeLong(hot.coldSeen(s));
        }
      }
      int[] free = hot.freeSlots();
      out.writeInt(free.length);
      for (int s : free) {
        out.writeInt(s);
      }
      long[] changed = changedCold.keys();
      Arrays.sort(changed);
      out.writeInt(changed.length);
      for (long id : changed) {
        out.writeLong(id);
      }
      out.writeBoolean(sketch != null);
      if (sketch != null) {
        sketch.write(out);
      }
    }

    void readMetadata(DataInputStream in) throws IOException {
      TableConfig saved =
          new TableConfig(
              in.readUTF(),
              in.readInt(),
              in.readInt(),
              in.readInt(),
              in.readInt(),
              in.readLong(),
              in.readFloat());
      if (!saved.equals(cfg)) {
        throw new StoreException(
            "the snapshot's table "
                + saved
                + " does not match the configured "
                + cfg
                + "; a store restores only with the tables it was saved with");
      }
      lookups = in.readLong();
      hits = in.readLong();
      admitted = in.readLong();
      evicted = in.readLong();
      expired = in.readLong();
      coldCount = in.readLong();
      seenFloor = in.readLong();
      int slabRows = in.readInt();
      int hw = in.readInt();
      int hand = in.readInt();
      long[] keys = new long[hw];
      long[] seen = new long[hw];
      long[] coldSeen = new long[hw];
      byte[] flags = new byte[hw];
      int resident = 0;
      for (int s = 0; s < hw; s++) {
        flags[s] = in.readByte();
        if ((flags[s] & HotTier.RESIDENT) != 0) {
          keys[s] = in.readLong();
          seen[s] = in.readLong();
          coldSeen[s] = in.readLong();
          resident++;
        }
      }
      int[] free = new int[in.readInt()];
      for (int i = 0; i < free.length; i++) {
        free[i] = in.readInt();
      }
      hot.restore(slabRows, hw, hand, keys, seen, coldSeen, flags, free);
      int changed = in.readInt();
      changedCold = new LongIntHashMap(Math.max(64, changed));
      for (int i = 0; i < changed; i++) {
        changedCold.put(in.readLong(), 0);
      }
      boolean hasSketch = in.readBoolean();
      if (hasSketch != (sketch != null)) {
        throw new IOException(
            "table '"
                + cfg.name()
                + "': sketch present "
                + hasSketch
                + ", expected "
                + (sketch != null));
      }
      if (hasSketch) {
        CountMinSketch restored = CountMinSketch.read(in);
        if (restored.width() != sketch.width()) {
          throw new IOException(
              "table '"
                  + cfg.name()
                  + "': sketch of width "
                  + restored.width()
                  + ", expected "
                  + sketch.width());
        }
        sketch = restored;
      }
      // the hot rows' values: every one has a cold copy (the snapshot flushed them)
      int[] slots = new int[CHUNK_ROWS];
      long[] ids = new long[CHUNK_ROWS];
      byte[][] values = new byte[CHUNK_ROWS][];
      int n = 0;
      for (int s = 0; s < hw; s++) {
        if ((flags[s] & HotTier.RESIDENT) != 0) {
          slots[n] = s;
          ids[n++] = keys[s];
          if (n == CHUNK_ROWS) {
            loadRows(slots, ids, values, n);
            n = 0;
          }
        }
      }
      loadRows(slots, ids, values, n);
    }

    private void loadRows(int[] slots, long[] ids, byte[][] values, int n) {
      if (n == 0) {
        return;
      }
      cold.multiGet(index, ids, n, values);
      float[] stage = inStage(n);
      for (int k = 0; k < n; k++) {
        if (values[k] == null) {
          throw new StoreException(
              "table '" + cfg.name() + "': hot row " + ids[k] + " is missing from the snapshot");
        }
        RocksDbColdTier.decodeValue(values[k], w, stage, k * w);
        values[k] = null;
      }
      hot.scatter(stage, slots, n);
    }
  }
}
