package io.streamrec.embedding.internal;

import io.streamrec.common.LongIntHashMap;
import io.streamrec.embedding.StoreException;
import io.streamrec.embedding.StoreLayoutException;
import io.streamrec.embedding.TableConfig;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.Arrays;
import java.util.List;

/**
 * One table's part of a store snapshot: its configuration, counters and clock floor, the hot tier's
 * layout (each slot's id, flags and times, the free list, the CLOCK hand), the changed cold rows
 * and the admission sketch. Restoring reloads the hot rows' values from the cold tier into the same
 * slots, so the restored table repeats the original's hits, evictions, drains and expiries.
 *
 * <p><b>Another hot tier.</b> A snapshot restores into a table whose hot capacity, admission
 * threshold or TTL differ from the saved ones: the rows are the same, only where they live and
 * which new ids get one differ. The hot tier then starts empty: every row has an up-to-date cold
 * copy (values, optimizer state and last-seen time, written back before the snapshot), so each
 * comes back into the hot tier when a batch next needs it, as after an eviction; the rows still to
 * be published are marked as changed cold rows. The rows' values, and so the model's training, are
 * those of a restore into the same tier (with the same batches: each hot tier also bounds a batch's
 * rows of its table); the tiers' hits and evictions differ. A new admission threshold keeps the
 * saved sketch's counts. A TTL switched on counts every row as seen at the restored clock (the
 * last-seen index is built then); switched off, the index is dropped (the cold tier does so on
 * opening). A table's width, optimizer state or initial scale are refused: those change the rows
 * themselves.
 */
final class TableSnapshot {
  private final TableState t;

  /** Rows per batched read when restoring. */
  private static final int CHUNK_ROWS = Eviction.CHUNK_ROWS;

  TableSnapshot(TableState t) {
    this.t = t;
  }

  void writeMetadata(DataOutputStream out) throws IOException {
    out.writeUTF(t.cfg.name());
    out.writeInt(t.cfg.dim());
    out.writeInt(t.cfg.stateWidth());
    out.writeInt(t.cfg.hotCapacityRows());
    out.writeInt(t.cfg.admissionThreshold());
    out.writeLong(t.cfg.ttlMs());
    out.writeFloat(t.cfg.initScale());
    out.writeLong(t.lookups);
    out.writeLong(t.hits);
    out.writeLong(t.admitted);
    out.writeLong(t.evicted);
    out.writeLong(t.expired);
    out.writeLong(t.coldCount);
    out.writeLong(t.seenFloor);
    int hw = t.hot.highWater();
    out.writeInt(t.hot.slabRows());
    out.writeInt(hw);
    out.writeInt(t.hot.hand());
    for (int s = 0; s < hw; s++) {
      byte f = t.hot.flags(s);
      out.writeByte(f);
      if ((f & HotTier.RESIDENT) != 0) {
        out.writeLong(t.hot.keyOf(s));
        out.writeLong(t.hot.lastSeen(s));
        out.writeLong(t.hot.coldSeen(s));
      }
    }
    int[] free = t.hot.freeSlots();
    out.writeInt(free.length);
    for (int s : free) {
      out.writeInt(s);
    }
    long[] changed = t.changedCold.keys();
    Arrays.sort(changed);
    out.writeInt(changed.length);
    for (long id : changed) {
      out.writeLong(id);
    }
    t.admission.write(out);
  }

  /**
   * Reads what {@link #writeMetadata} wrote; {@code fileBytes}, the size of the file, bounds each
   * count before an array is sized from it (the file's checksum is checked before).
   */
  void readMetadata(DataInputStream in, long fileBytes) throws IOException {
    TableConfig saved =
        new TableConfig(
            in.readUTF(),
            in.readInt(),
            in.readInt(),
            in.readInt(),
            in.readInt(),
            in.readLong(),
            in.readFloat());
    if (!saved.name().equals(t.cfg.name())) {
      // the set of tables was checked against the database's: the same tables, in another order
      throw new StoreLayoutException(
          "the store was saved with its tables in another order: '"
              + saved.name()
              + "' where this model has '"
              + t.cfg.name()
              + "' (a feature's declaration moved); a store restores only with its tables in the"
              + " order it was saved with: declare the features in their old order");
    }
    boolean replace = !saved.equals(t.cfg);
    if (replace && !sameRows(saved, t.cfg)) {
      throw new StoreLayoutException(
          "table '"
              + saved.name()
              + "' was saved with "
              + rowDifference(saved, t.cfg)
              + "; a store restores only with the tables it was saved with (another hot capacity,"
              + " admission threshold or TTL it takes; another width, optimizer state or initial"
              + " scale it does not)");
    }
    t.lookups = in.readLong();
    t.hits = in.readLong();
    t.admitted = in.readLong();
    t.evicted = in.readLong();
    t.expired = in.readLong();
    t.coldCount = in.readLong();
    t.seenFloor = in.readLong();
    int slabRows = in.readInt();
    int hw = count(in.readInt(), fileBytes, "hot slots");
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
    int[] free = new int[count(in.readInt(), fileBytes / Integer.BYTES, "free slots")];
    for (int i = 0; i < free.length; i++) {
      free[i] = in.readInt();
    }
    if (!replace) {
      t.hot.restore(slabRows, hw, hand, keys, seen, coldSeen, flags, free);
    }
    int changed = count(in.readInt(), fileBytes / Long.BYTES, "changed cold rows");
    t.changedCold = new LongIntHashMap(Math.max(64, changed));
    for (int i = 0; i < changed; i++) {
      t.changedCold.put(in.readLong(), 0);
    }
    t.admission.read(in, replace);
    if (replace) {
      // an empty hot tier: the resident rows stay in the cold tier, those changed since the last
      // publish marked there
      for (int s = 0; s < hw; s++) {
        if ((flags[s] & HotTier.RESIDENT) != 0 && (flags[s] & HotTier.PUBLISH) != 0) {
          t.changedCold.put(keys[s], 0);
        }
      }
      if (saved.ttlMs() <= 0 && t.ttl) {
        stampAllSeen(t.now());
      }
      return;
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

  /**
   * A count read from the file, each of whose entries takes at least one of {@code most} places in
   * it: a negative or larger one is a damaged file, not an array to allocate.
   */
  private int count(int n, long most, String what) throws IOException {
    if (n < 0 || n > most) {
      throw new IOException(
          "table '" + t.cfg.name() + "': a count of " + n + " " + what + ": the file is damaged");
    }
    return n;
  }

  /** What differs between two tables' rows, in words: "rows of 16 values, this model's 8". */
  static String rowDifference(TableConfig saved, TableConfig now) {
    // the same name: another is refused before (the tables in another order)
    List<String> d = new java.util.ArrayList<>();
    if (saved.dim() != now.dim()) {
      d.add(
          "rows of "
              + saved.dim()
              + " values, this model's "
              + now.dim()
              + " (the embedding dimension)");
    }
    if (saved.stateWidth() != now.stateWidth()) {
      d.add(
          saved.stateWidth()
              + " optimizer values per row, this model's "
              + now.stateWidth()
              + " (another optimizer)");
    }
    if (Float.compare(saved.initScale(), now.initScale()) != 0) {
      d.add("initial scale " + saved.initScale() + ", this model's " + now.initScale());
    }
    return String.join(" and ", d);
  }

  /**
   * Whether a snapshot of {@code saved} holds rows that {@code now} can use as they are: the same
   * name, width, optimizer state and initial values.
   */
  static boolean sameRows(TableConfig saved, TableConfig now) {
    return saved.name().equals(now.name())
        && saved.dim() == now.dim()
        && saved.stateWidth() == now.stateWidth()
        && Float.compare(saved.initScale(), now.initScale()) == 0;
  }

  /**
   * A TTL switched on: every row (all are cold after a re-placing restore) counts as seen at {@code
   * atMs}, the restored clock, and gets its last-seen index entry; with the clock not yet started
   * ({@code Long.MIN_VALUE}) the rows are stamped when it starts, as rows seen before it are.
   */
  private void stampAllSeen(long atMs) {
    long[] ids = new long[CHUNK_ROWS];
    byte[][] values = new byte[CHUNK_ROWS][];
    int[] n = {0};
    t.cold.scanRows(
        t.index,
        (id, value) -> {
          ids[n[0]] = id;
          values[n[0]++] = value;
          if (n[0] == CHUNK_ROWS) {
            writeSeen(ids, values, n[0], atMs);
            n[0] = 0;
          }
        });
    writeSeen(ids, values, n[0], atMs);
  }

  private void writeSeen(long[] ids, byte[][] values, int n, long atMs) {
    try (RocksDbColdTier.Batch b = t.cold.batch()) {
      for (int k = 0; k < n; k++) {
        RocksDbColdTier.restamp(values[k], t.w, atMs);
        b.putRow(t.index, ids[k], values[k]);
        b.putSeen(t.index, atMs, ids[k]);
        values[k] = null;
      }
      t.cold.write(b);
    } catch (org.rocksdb.RocksDBException e) {
      throw RocksDbColdTier.failed("index the rows of table '" + t.cfg.name() + "'", e);
    }
  }

  private void loadRows(int[] slots, long[] ids, byte[][] values, int n) {
    if (n == 0) {
      return;
    }
    t.cold.multiGet(t.index, ids, n, values);
    float[] stage = t.inStage(n);
    for (int k = 0; k < n; k++) {
      if (values[k] == null) {
        throw new StoreException(
            "table '" + t.cfg.name() + "': hot row " + ids[k] + " is missing from the snapshot");
      }
      RocksDbColdTier.decodeValue(values[k], t.w, stage, k * t.w);
      values[k] = null;
    }
    t.hot.scatter(stage, slots, n);
  }
}
