package io.streamrec.embedding.internal;

import io.streamrec.common.LongIntHashMap;
import io.streamrec.embedding.StoreException;
import io.streamrec.embedding.StoreLayoutException;
import io.streamrec.embedding.TableConfig;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.Arrays;

/**
 * One table's part of a store snapshot: its configuration, counters and clock floor, the hot tier's
 * layout (each slot's id, flags and times, the free list, the CLOCK hand), the changed cold rows
 * and the admission sketch. Restoring reloads the hot rows' values from the cold tier into the same
 * slots, so the restored table repeats the original's hits, evictions, drains and expiries.
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
    if (!saved.equals(t.cfg)) {
      throw new StoreLayoutException(
          "the snapshot's table "
              + saved
              + " does not match the configured "
              + t.cfg
              + "; a store restores only with the tables it was saved with");
    }
    t.lookups = in.readLong();
    t.hits = in.readLong();
    t.admitted = in.readLong();
    t.evicted = in.readLong();
    t.expired = in.readLong();
    t.coldCount = in.readLong();
    t.seenFloor = in.readLong();
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
    t.hot.restore(slabRows, hw, hand, keys, seen, coldSeen, flags, free);
    int changed = in.readInt();
    t.changedCold = new LongIntHashMap(Math.max(64, changed));
    for (int i = 0; i < changed; i++) {
      t.changedCold.put(in.readLong(), 0);
    }
    t.admission.read(in);
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
