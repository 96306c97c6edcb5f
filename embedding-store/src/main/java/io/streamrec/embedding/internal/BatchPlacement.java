package io.streamrec.embedding.internal;

import io.streamrec.common.LongIntHashMap;
import io.streamrec.embedding.PreparedKeys;
import io.streamrec.embedding.RowInitializer;
import java.util.Arrays;

/**
 * One table's side of a batch: the batch's keys deduplicated, hits answered from the hot index (a
 * slot stamped with the batch counts once), misses looked up in the cold tier with one {@code
 * multiGet}, and ids not found there passed through admission: an id seen often enough gets a new
 * row with its initial values, a younger one a scratch slot for this batch only. Room is made by
 * {@link Eviction}; the incoming rows are staged on the host and placed with one scatter.
 */
final class BatchPlacement {
  private final TableState t;
  private final Eviction eviction;

  /** Keys looked ahead when a batch reads the hot tier's metadata (see {@code HotTier#slotsOf}). */
  private static final int LOOKAHEAD = 16;

  private static final byte FROM_COLD = 1;
  private static final byte ADMIT = 2;
  private static final byte SCRATCH = 3;

  BatchPlacement(TableState t, Eviction eviction) {
    this.t = t;
    this.eviction = eviction;
  }

  PreparedKeys prepare(long[] keys, int count) {
    int[] slots = new int[count];
    int[] rowIndex = new int[count];
    int[] distinctSlots = new int[count];
    long[] distinctKeys = new long[count];
    t.ensureBatch(count);
    // hits are deduplicated by stamping their slot with the batch; only misses need a map
    int stamp = t.hot.nextStamp();
    boolean localUsed = false;
    int distinct = 0;
    int misses = 0;
    t.hot.slotsOf(keys, count, slots);
    long sink = 0;
    for (int i = 0; i < count; i++) {
      long k = keys[i];
      int s = slots[i];
      if (i + LOOKAHEAD < count && slots[i + LOOKAHEAD] >= 0) {
        sink += t.hot.touchMeta(slots[i + LOOKAHEAD]);
      }
      int li;
      if (s != LongIntHashMap.MISSING) {
        li = t.hot.stampedIndex(s, stamp);
        if (li < 0) {
          li = distinct++;
          t.hot.hit(s, stamp, li, t.now(), t.ttl);
          distinctKeys[li] = k;
          distinctSlots[li] = s;
        }
      } else {
        if (!localUsed) {
          t.local.clear();
          localUsed = true;
        }
        li = t.local.putIfAbsent(k, distinct);
        if (li == LongIntHashMap.MISSING) {
          li = distinct++;
          distinctKeys[li] = k;
          t.missAt[misses++] = li;
        }
      }
      rowIndex[i] = li;
    }
    t.hot.sink(sink);
    t.lookups += distinct;
    t.hits += distinct - misses;
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
      t.missKeys[m] = distinctKeys[t.missAt[m]];
    }
    if (t.coldOnly() > 0) {
      t.cold.multiGet(t.index, t.missKeys, misses, t.found);
    } else {
      Arrays.fill(t.found, 0, misses, null);
    }
    int needResident = 0;
    for (int m = 0; m < misses; m++) {
      if (t.found[m] != null) {
        t.kind[m] = FROM_COLD;
        needResident++;
      } else if (t.admission.admits(t.missKeys[m])) {
        t.kind[m] = ADMIT;
        needResident++;
      } else {
        t.kind[m] = SCRATCH;
      }
    }
    int evictions = t.hot.resident() + needResident - t.cfg.hotCapacityRows();
    if (evictions > 0) {
      eviction.evict(evictions);
    }
    float[] stage = t.inStage(misses);
    for (int m = 0; m < misses; m++) {
      long id = t.missKeys[m];
      int s;
      if (t.kind[m] == FROM_COLD) {
        byte[] v = t.found[m];
        long seen = RocksDbColdTier.lastSeenOf(v);
        int extra = HotTier.IN_COLD;
        if (t.ttl && seen != t.now()) {
          extra |= HotTier.STALE;
        }
        if (t.changedCold.remove(id) != LongIntHashMap.MISSING) {
          extra |= HotTier.PUBLISH;
        }
        s = t.hot.addResident(id, t.now(), seen, extra);
        RocksDbColdTier.decodeValue(v, t.w, stage, m * t.w);
        t.found[m] = null;
      } else if (t.kind[m] == ADMIT) {
        s = t.hot.addResident(id, t.now(), Long.MIN_VALUE, HotTier.STALE);
        t.admitted++;
        RowInitializer.init(t.cfg, id, stage, m * t.w);
      } else {
        s = t.hot.addScratch(id);
        RowInitializer.init(t.cfg, id, stage, m * t.w);
      }
      t.placeSlots[m] = s;
      distinctSlots[t.missAt[m]] = s;
    }
    t.hot.scatter(stage, t.placeSlots, misses);
  }
}
