package io.streamrec.embedding.internal;

import org.rocksdb.RocksDBException;

/**
 * Making room in a full hot tier, and keeping the cold tier up to date: CLOCK picks victims among
 * the unpinned rows; those whose cold copy is out of date (values, optimizer state or, with a TTL,
 * the last-seen time) are gathered from the slab in one batch and written back with one {@code
 * WriteBatch}, their last-seen index entries moved with them. A changed row evicted before it was
 * drained keeps its "changed" mark in the table's set of changed cold rows.
 */
final class Eviction {
  private final TableState t;

  /** Rows per batched write when flushing. */
  static final int CHUNK_ROWS = 4096;

  Eviction(TableState t) {
    this.t = t;
  }

  /** Makes room for {@code n} rows: CLOCK victims, stale ones written back in one batch. */
  void evict(int n) {
    t.hot.chooseVictims(n, t.victims);
    int stale = 0;
    for (int i = 0; i < n; i++) {
      if ((t.hot.flags(t.victims[i]) & HotTier.STALE) != 0) {
        t.staleSlots[stale++] = t.victims[i];
      }
    }
    writeBack(t.staleSlots, stale);
    for (int i = 0; i < n; i++) {
      int s = t.victims[i];
      if ((t.hot.flags(s) & HotTier.PUBLISH) != 0) {
        t.changedCold.put(t.hot.keyOf(s), 0);
      }
      t.hot.remove(s);
    }
    t.evicted += n;
  }

  /** Writes the rows at {@code slots[0..n)} to the cold tier: one gather, one write batch. */
  private void writeBack(int[] slots, int n) {
    if (n == 0) {
      return;
    }
    float[] stage = t.outStage(n);
    t.hot.gather(slots, n, stage);
    try (RocksDbColdTier.Batch b = t.cold.batch()) {
      for (int k = 0; k < n; k++) {
        int s = slots[k];
        long id = t.hot.keyOf(s);
        long seen = t.hot.lastSeen(s);
        boolean had = (t.hot.flags(s) & HotTier.IN_COLD) != 0;
        RocksDbColdTier.encodeValue(seen, stage, k * t.w, t.w, t.valueBuf);
        b.putRow(t.index, id, t.valueBuf);
        if (t.ttl) {
          long old = t.hot.coldSeen(s);
          if (!had || old != seen) {
            if (had) {
              b.deleteSeen(t.index, old, id);
            }
            b.putSeen(t.index, seen, id);
          }
        }
        if (!had) {
          t.coldCount++;
        }
      }
      t.cold.write(b);
    } catch (RocksDBException e) {
      throw RocksDbColdTier.failed("write back " + n + " rows of table '" + t.cfg.name() + "'", e);
    }
    for (int k = 0; k < n; k++) {
      t.hot.writtenBack(slots[k]);
    }
  }

  /** Writes every stale hot row back (before a snapshot). */
  void flushStale() {
    int[] chunk = new int[CHUNK_ROWS];
    int n = 0;
    for (int s = 0; s < t.hot.highWater(); s++) {
      byte f = t.hot.flags(s);
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
}
