package io.streamrec.embedding.internal;

import io.streamrec.embedding.StoreException;
import io.streamrec.embedding.StoreLayoutException;
import io.streamrec.embedding.TableConfig;
import io.streamrec.embedding.TieredStoreConfig;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.BloomFilter;
import org.rocksdb.Checkpoint;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.CompressionType;
import org.rocksdb.DBOptions;
import org.rocksdb.FlushOptions;
import org.rocksdb.InfoLogLevel;
import org.rocksdb.LRUCache;
import org.rocksdb.Options;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.Slice;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteBufferManager;
import org.rocksdb.WriteOptions;

/**
 * The cold tier: every row that has been written back, in one RocksDB instance, one column family
 * per table ({@code rows:<table>}), and for tables with a TTL a second one ({@code seen:<table>})
 * that indexes rows by last-seen time so that expiry reads only the rows that are due.
 *
 * <p><b>Records.</b> Row key: the id, 8 bytes big-endian. Row value: last-seen time (8 bytes
 * little-endian) then the row's {@code rowWidth} floats (values, then optimizer state) as
 * little-endian IEEE-754 float32, raw bits (NaN payloads survive). Time-index key: last-seen time
 * with its sign bit flipped, big-endian (so byte order is signed time order), then the id; the
 * value is empty.
 *
 * <p><b>Options, and why.</b>
 *
 * <ul>
 *   <li>A shared LRU <b>block cache</b> ({@link TieredStoreConfig#blockCacheBytes}) with index and
 *       filter blocks inside it (pinned for L0), so the tier's memory is one bounded number; a
 *       {@link WriteBufferManager} charges the memtables to the same cache.
 *   <li>A full <b>Bloom filter</b>, 10 bits per key (about 1% false positives) on the row families:
 *       most misses of the hot tier are ids that have never been stored (new or not yet admitted
 *       ids), and the filter answers those without reading a data block.
 *   <li><b>No compression.</b> Row values are float32 with near-random mantissas and keys are
 *       hashes; LZ4 on such blocks saves a few percent of space (measured by the benchmark's setup,
 *       see {@code TieredStoreBenchmark}) while every cold read would pay to decompress a block.
 *       Space is cheaper than the miss path here.
 *   <li>4 KiB blocks: reads are point lookups of one ~100-300 byte record.
 *   <li>A <b>MANIFEST of at most {@value #MAX_MANIFEST_BYTES} bytes</b>: RocksDB appends an edit to
 *       it at every flush and compaction, for the life of the process (its default bound is 1 GiB),
 *       and a snapshot copies the MANIFEST whole, as it changes; rolled over at the bound, it
 *       starts again from the live files, so a checkpoint of a model of constant size stays so.
 *   <li><b>No write-ahead log.</b> The working database is disposable: durability comes from
 *       snapshots (a {@link Checkpoint} after a flush), and after a crash the store is rebuilt from
 *       the last snapshot, never from this directory.
 * </ul>
 *
 * <p>Not thread-safe: the store calls it from its one thread.
 */
public final class RocksDbColdTier implements AutoCloseable {
  /** Bits per key of the row families' Bloom filter: about 1% false positives. */
  private static final double BLOOM_BITS_PER_KEY = 10;

  /** Data block size: point lookups of small records read one small block. */
  private static final long BLOCK_SIZE = 4 << 10;

  /** The MANIFEST's size at which RocksDB starts a new one (see the class comment). */
  static final long MAX_MANIFEST_BYTES = 64 << 10;

  /** Background flushes and compactions at most: the machines that run the trainer are busy. */
  private static final int BACKGROUND_JOBS = 2;

  /** Bytes of a row value before its floats. */
  public static final int VALUE_HEADER = Long.BYTES;

  private static final VarHandle LE_INT =
      MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
  private static final VarHandle LE_LONG =
      MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
  private static final VarHandle BE_LONG =
      MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.BIG_ENDIAN);

  static {
    RocksDB.loadLibrary();
  }

  private final Deque<AutoCloseable> resources = new ArrayDeque<>();
  private final List<TableConfig> tables;
  private final RocksDB db;
  private final ColumnFamilyHandle[] rows;
  private final ColumnFamilyHandle[] seen;
  private final List<ColumnFamilyHandle> all = new ArrayList<>();
  private final WriteOptions writeOptions;
  private final ReadOptions readOptions;
  private boolean closed;

  /** Opens (or creates) the database in {@code dir} with a family per table. */
  public RocksDbColdTier(Path dir, List<TableConfig> tables, TieredStoreConfig config) {
    this(dir, tables, config, false);
  }

  /**
   * Opens the database in {@code dir} with a family per table; {@code existing}: the database must
   * be there already (a restore), and a directory without one is refused rather than opened as a
   * new, empty database, whose rows would all read as their initial values.
   */
  public RocksDbColdTier(
      Path dir, List<TableConfig> tables, TieredStoreConfig config, boolean existing) {
    this.tables = List.copyOf(tables);
    if (existing && !Files.isRegularFile(dir.resolve("CURRENT"))) {
      throw new StoreException(
          "cannot open the cold tier in " + dir + ": it holds no database (CURRENT is missing)");
    }
    try {
      LRUCache cache = register(new LRUCache(config.blockCacheBytes()));
      WriteBufferManager wbm = register(new WriteBufferManager(config.writeBufferBytes(), cache));
      BloomFilter bloom = register(new BloomFilter(BLOOM_BITS_PER_KEY, false));
      DBOptions dbOptions =
          register(
              new DBOptions()
                  .setCreateIfMissing(!existing)
                  .setCreateMissingColumnFamilies(true)
                  .setMaxBackgroundJobs(BACKGROUND_JOBS)
                  .setWriteBufferManager(wbm)
                  .setAvoidFlushDuringShutdown(true)
                  .setStatsDumpPeriodSec(0)
                  .setInfoLogLevel(InfoLogLevel.WARN_LEVEL)
                  .setKeepLogFileNum(2)
                  .setMaxManifestFileSize(MAX_MANIFEST_BYTES));
      ColumnFamilyOptions rowOptions = register(familyOptions(cache, bloom, config));
      ColumnFamilyOptions seenOptions = register(familyOptions(cache, null, config));
      ColumnFamilyOptions defaultOptions = register(new ColumnFamilyOptions());
      List<ColumnFamilyDescriptor> descriptors = new ArrayList<>();
      descriptors.add(new ColumnFamilyDescriptor(RocksDB.DEFAULT_COLUMN_FAMILY, defaultOptions));
      for (TableConfig t : this.tables) {
        descriptors.add(new ColumnFamilyDescriptor(familyName("rows:", t), rowOptions));
        if (t.ttlMs() > 0) {
          descriptors.add(new ColumnFamilyDescriptor(familyName("seen:", t), seenOptions));
        }
      }
      // a database of tables that kept a last-seen index which they no longer keep (their TTL
      // switched off since): open those indexes too, to drop them below
      List<byte[]> retired = retiredIndexes(dir, dbOptions);
      for (byte[] name : retired) {
        descriptors.add(new ColumnFamilyDescriptor(name, seenOptions));
      }
      List<ColumnFamilyHandle> handles = new ArrayList<>();
      this.db = RocksDB.open(dbOptions, dir.toString(), descriptors, handles);
      resources.push(db);
      int opened = handles.size() - retired.size();
      for (ColumnFamilyHandle h : handles.subList(opened, handles.size())) {
        db.dropColumnFamily(h);
        h.close();
      }
      handles = new ArrayList<>(handles.subList(0, opened));
      for (ColumnFamilyHandle h : handles) {
        resources.push(h); // closed before the database
      }
      all.addAll(handles);
      this.rows = new ColumnFamilyHandle[this.tables.size()];
      this.seen = new ColumnFamilyHandle[this.tables.size()];
      int k = 1;
      for (int t = 0; t < this.tables.size(); t++) {
        rows[t] = handles.get(k++);
        if (this.tables.get(t).ttlMs() > 0) {
          seen[t] = handles.get(k++);
        }
      }
      this.writeOptions = register(new WriteOptions().setDisableWAL(true));
      this.readOptions = register(new ReadOptions());
    } catch (StoreLayoutException e) {
      closeAll();
      throw e;
    } catch (RocksDBException | RuntimeException e) {
      closeAll();
      throw new StoreException("cannot open the cold tier in " + dir + ": " + e.getMessage(), e);
    }
  }

  /**
   * The last-seen indexes of an existing database in {@code dir} whose table is configured without
   * a TTL now; none for a new database.
   */
  private List<byte[]> retiredIndexes(Path dir, DBOptions dbOptions) throws RocksDBException {
    List<byte[]> retired = new ArrayList<>();
    if (!Files.exists(dir.resolve("CURRENT"))) {
      return retired;
    }
    List<String> kept = new ArrayList<>();
    for (TableConfig t : tables) {
      if (t.ttlMs() > 0) {
        kept.add("seen:" + t.name());
      }
    }
    List<String> saved = new ArrayList<>();
    try (ColumnFamilyOptions cf = new ColumnFamilyOptions();
        Options o = new Options(dbOptions, cf)) {
      List<byte[]> families = RocksDB.listColumnFamilies(o, dir.toString());
      if (families.isEmpty()) {
        // every database has the default family: RocksJava answers no families for one it cannot
        // read (a missing or damaged MANIFEST), its error dropped; that is damaged files, not a
        // database saved with no tables
        throw unreadable(dir, o);
      }
      for (byte[] name : families) {
        String n = new String(name, StandardCharsets.UTF_8);
        if (n.startsWith("seen:") && !kept.contains(n)) {
          retired.add(name);
        } else if (n.startsWith("rows:")) {
          saved.add(n.substring("rows:".length()));
        }
      }
    }
    checkSameTables(saved, tables.stream().map(TableConfig::name).toList());
    return retired;
  }

  /**
   * Why the database in {@code dir} cannot be read, in RocksDB's words where it gives them: opening
   * it read-only reports what listing its families kept quiet.
   */
  private static RocksDBException unreadable(Path dir, Options options) {
    try (RocksDB db = RocksDB.openReadOnly(options, dir.toString())) {
      return new RocksDBException("its column families cannot be read");
    } catch (RocksDBException e) {
      return e;
    }
  }

  /**
   * A database holds the tables it was written with: one of tables added or dropped since (a
   * feature declared or removed) is another model's layout, said by name, not RocksDB's "column
   * families not opened".
   */
  static void checkSameTables(List<String> saved, List<String> configured) {
    List<String> dropped = saved.stream().filter(n -> !configured.contains(n)).sorted().toList();
    List<String> added = configured.stream().filter(n -> !saved.contains(n)).toList();
    if (dropped.isEmpty() && added.isEmpty()) {
      return;
    }
    StringBuilder b = new StringBuilder("the store was saved with embedding tables ");
    b.append(saved.stream().sorted().toList()).append(", this model configures ");
    b.append(configured.stream().sorted().toList()).append(" (");
    if (!dropped.isEmpty()) {
      b.append(dropped.size() == 1 ? "table " : "tables ")
          .append(String.join(", ", dropped))
          .append(" not configured any more");
    }
    if (!added.isEmpty()) {
      b.append(dropped.isEmpty() ? "" : "; ")
          .append(added.size() == 1 ? "table " : "tables ")
          .append(String.join(", ", added))
          .append(" new");
    }
    b.append(": a feature was added, removed or given another vocabulary)");
    throw new StoreLayoutException(b.toString());
  }

  private static ColumnFamilyOptions familyOptions(
      LRUCache cache, BloomFilter bloom, TieredStoreConfig config) {
    BlockBasedTableConfig table =
        new BlockBasedTableConfig()
            .setBlockCache(cache)
            .setBlockSize(BLOCK_SIZE)
            .setCacheIndexAndFilterBlocks(true)
            .setPinL0FilterAndIndexBlocksInCache(true);
    if (bloom != null) {
      table.setFilterPolicy(bloom);
    }
    return new ColumnFamilyOptions()
        .setTableFormatConfig(table)
        .setCompressionType(CompressionType.NO_COMPRESSION)
        .setBottommostCompressionType(CompressionType.NO_COMPRESSION)
        .setLevelCompactionDynamicLevelBytes(true)
        .setWriteBufferSize(config.writeBufferBytes() / 4);
  }

  private static byte[] familyName(String prefix, TableConfig t) {
    return (prefix + t.name()).getBytes(StandardCharsets.UTF_8);
  }

  private <T extends AutoCloseable> T register(T resource) {
    resources.push(resource);
    return resource;
  }

  // ---- encoding -------------------------------------------------------------------------------

  public static byte[] rowKey(long id) {
    byte[] k = new byte[Long.BYTES];
    BE_LONG.set(k, 0, id);
    return k;
  }

  static long idOfRowKey(byte[] k) {
    return (long) BE_LONG.get(k, 0);
  }

  static byte[] timeKey(long timeMs, long id) {
    byte[] k = new byte[2 * Long.BYTES];
    BE_LONG.set(k, 0, timeMs ^ Long.MIN_VALUE);
    BE_LONG.set(k, Long.BYTES, id);
    return k;
  }

  static long timeOfTimeKey(byte[] k) {
    return ((long) BE_LONG.get(k, 0)) ^ Long.MIN_VALUE;
  }

  static long idOfTimeKey(byte[] k) {
    return (long) BE_LONG.get(k, Long.BYTES);
  }

  /** Bytes of one record of a table of {@code rowWidth} floats. */
  public static int valueBytes(int rowWidth) {
    return VALUE_HEADER + rowWidth * Float.BYTES;
  }

  /**
   * Writes a record: {@code lastSeen}, then {@code rowWidth} floats of {@code src} from {@code
   * off}.
   */
  public static void encodeValue(long lastSeen, float[] src, int off, int rowWidth, byte[] out) {
    LE_LONG.set(out, 0, lastSeen);
    for (int j = 0, b = VALUE_HEADER; j < rowWidth; j++, b += Float.BYTES) {
      LE_INT.set(out, b, Float.floatToRawIntBits(src[off + j]));
    }
  }

  /** The last-seen time of a record. */
  public static long lastSeenOf(byte[] value) {
    return (long) LE_LONG.get(value, 0);
  }

  /** The floats of a record into {@code out} from {@code off}. */
  public static void decodeValue(byte[] value, int rowWidth, float[] out, int off) {
    checkLength(value, rowWidth);
    for (int j = 0, b = VALUE_HEADER; j < rowWidth; j++, b += Float.BYTES) {
      out[off + j] = Float.intBitsToFloat((int) LE_INT.get(value, b));
    }
  }

  /** Sets the last-seen time of a record of a row of {@code rowWidth} floats, in place. */
  public static void restamp(byte[] value, int rowWidth, long lastSeen) {
    checkLength(value, rowWidth);
    LE_LONG.set(value, 0, lastSeen);
  }

  private static void checkLength(byte[] value, int rowWidth) {
    if (value.length != valueBytes(rowWidth)) {
      throw new StoreException(
          "a cold record of "
              + value.length
              + " bytes does not hold a row of "
              + rowWidth
              + " floats; was the store opened with another table configuration?");
    }
  }

  // ---- reads ----------------------------------------------------------------------------------

  /** The record of {@code id}, or null. */
  public byte[] get(int table, long id) {
    try {
      return db.get(rows[table], readOptions, rowKey(id));
    } catch (RocksDBException e) {
      throw failed("read a row of table '" + tables.get(table).name() + "'", e);
    }
  }

  /** The records of {@code ids[0..n)} in one batched read; {@code out[i]} is null where absent. */
  public void multiGet(int table, long[] ids, int n, byte[][] out) {
    if (n == 0) {
      return;
    }
    List<byte[]> keys = new ArrayList<>(n);
    List<ColumnFamilyHandle> families = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      keys.add(rowKey(ids[i]));
      families.add(rows[table]);
    }
    try {
      List<byte[]> values = db.multiGetAsList(readOptions, families, keys);
      for (int i = 0; i < n; i++) {
        out[i] = values.get(i);
      }
    } catch (RocksDBException e) {
      throw failed("read " + n + " rows of table '" + tables.get(table).name() + "'", e);
    }
  }

  /** Receives one entry of the time index. */
  @FunctionalInterface
  public interface TimeVisitor {
    void accept(long lastSeen, long id);
  }

  /** Visits the time-index entries of a table with {@code from <= lastSeen < to}, in time order. */
  public void scanSeen(int table, long from, long to, TimeVisitor visitor) {
    if (seen[table] == null || from >= to) {
      return;
    }
    // ids are unsigned in byte order: id 0 is the first key of a time
    try (Slice lower = new Slice(timeKey(from, 0L));
        Slice upper = new Slice(timeKey(to, 0L));
        ReadOptions ro =
            new ReadOptions()
                .setFillCache(false)
                .setIterateLowerBound(lower)
                .setIterateUpperBound(upper);
        RocksIterator it = db.newIterator(seen[table], ro)) {
      for (it.seekToFirst(); it.isValid(); it.next()) {
        byte[] k = it.key();
        visitor.accept(timeOfTimeKey(k), idOfTimeKey(k));
      }
      it.status();
    } catch (RocksDBException e) {
      throw failed("scan the last-seen index of table '" + tables.get(table).name() + "'", e);
    }
  }

  /**
   * Visits the ids of a table's rows in {@code [from, to)}, unsigned, in order ({@code to} = 0: to
   * the end). Reads keys only, without filling the block cache.
   */
  public void scanRows(int table, long from, long to, java.util.function.LongConsumer visitor) {
    try (ReadOptions ro = new ReadOptions().setFillCache(false);
        RocksIterator it = db.newIterator(rows[table], ro)) {
      for (it.seek(rowKey(from)); it.isValid(); it.next()) {
        long id = idOfRowKey(it.key());
        if (to != 0 && Long.compareUnsigned(id, to) >= 0) {
          break;
        }
        visitor.accept(id);
      }
      it.status();
    } catch (RocksDBException e) {
      throw failed("scan a slice of table '" + tables.get(table).name() + "'", e);
    }
  }

  /** Visits every row record of a table (for tests and tools; a full scan). */
  public void scanRows(int table, java.util.function.BiConsumer<Long, byte[]> visitor) {
    try (ReadOptions ro = new ReadOptions().setFillCache(false);
        RocksIterator it = db.newIterator(rows[table], ro)) {
      for (it.seekToFirst(); it.isValid(); it.next()) {
        visitor.accept(idOfRowKey(it.key()), it.value());
      }
      it.status();
    } catch (RocksDBException e) {
      throw failed("scan table '" + tables.get(table).name() + "'", e);
    }
  }

  // ---- writes ---------------------------------------------------------------------------------

  /** A batch of writes applied atomically by {@link #write}. */
  public final class Batch implements AutoCloseable {
    private final WriteBatch batch = new WriteBatch();
    private int count;

    public void putRow(int table, long id, byte[] value) throws RocksDBException {
      batch.put(rows[table], rowKey(id), value);
      count++;
    }

    public void deleteRow(int table, long id) throws RocksDBException {
      batch.delete(rows[table], rowKey(id));
      count++;
    }

    /** Records that {@code id} was last seen at {@code timeMs} (tables with a TTL only). */
    public void putSeen(int table, long timeMs, long id) throws RocksDBException {
      if (seen[table] != null) {
        batch.put(seen[table], timeKey(timeMs, id), EMPTY);
        count++;
      }
    }

    public void deleteSeen(int table, long timeMs, long id) throws RocksDBException {
      if (seen[table] != null) {
        batch.delete(seen[table], timeKey(timeMs, id));
        count++;
      }
    }

    public int count() {
      return count;
    }

    @Override
    public void close() {
      batch.close();
    }
  }

  private static final byte[] EMPTY = new byte[0];

  public Batch batch() {
    return new Batch();
  }

  public void write(Batch b) {
    if (b.count == 0) {
      return;
    }
    try {
      db.write(writeOptions, b.batch);
    } catch (RocksDBException e) {
      throw failed("write " + b.count + " changes", e);
    }
  }

  /**
   * Flushes every memtable and compacts every family fully (after a bulk load or a large expiry).
   */
  public void compact() {
    try (FlushOptions flush = new FlushOptions().setWaitForFlush(true)) {
      db.flush(flush, all);
      for (ColumnFamilyHandle cf : all) {
        db.compactRange(cf);
      }
    } catch (RocksDBException e) {
      throw failed("compact", e);
    }
  }

  // ---- snapshots ------------------------------------------------------------------------------

  /**
   * Flushes every memtable and writes a RocksDB checkpoint into {@code dir} (which must not exist).
   */
  public void checkpoint(Path dir) {
    try (FlushOptions flush = new FlushOptions().setWaitForFlush(true);
        Checkpoint cp = Checkpoint.create(db)) {
      db.flush(flush, all);
      cp.createCheckpoint(dir.toString());
    } catch (RocksDBException e) {
      throw failed("write a checkpoint to " + dir, e);
    }
  }

  public static StoreException failed(String what, RocksDBException e) {
    return new StoreException(
        "cold tier: cannot "
            + what
            + ": "
            + e.getMessage()
            + (e.getStatus() == null ? "" : " (" + e.getStatus().getCodeString() + ")"),
        e);
  }

  @Override
  public void close() {
    if (!closed) {
      closed = true;
      closeAll();
    }
  }

  private void closeAll() {
    while (!resources.isEmpty()) {
      try {
        resources.pop().close();
      } catch (Exception e) {
        // keep closing the rest; a failure to free one handle must not leak the others
      }
    }
  }

  @Override
  public String toString() {
    return "RocksDbColdTier" + Arrays.toString(tables.stream().map(TableConfig::name).toArray());
  }
}
