package io.streamrec.embedding.internal;

import io.streamrec.common.LongIntHashMap;
import io.streamrec.embedding.EmbeddingStore.RowSink;
import io.streamrec.embedding.PreparedKeys;
import io.streamrec.embedding.RowSlices;
import io.streamrec.embedding.StoreException;
import java.util.Arrays;

/**
 * What changed since the last drain: a mark per hot row, and the ids of changed rows that were
 * evicted before they were drained. A drain hands them in ascending id order, which does not depend
 * on where rows happen to live, so a restored store drains exactly as the original would.
 */
final class DirtyRows {
  private final TableState t;

  /** Rows per batched read when draining. */
  private static final int CHUNK_ROWS = Eviction.CHUNK_ROWS;

  DirtyRows(TableState t) {
    this.t = t;
  }

  /** The distinct rows of {@code prepared} were updated: they are published at the next drain. */
  void markUpdated(PreparedKeys prepared) {
    int[] slots = prepared.distinctSlots();
    long[] ids = prepared.distinctKeys();
    for (int d = 0; d < prepared.distinctCount(); d++) {
      int s = slots[d];
      if ((t.hot.flags(s) & HotTier.RESIDENT) != 0 && t.hot.keyOf(s) == ids[d]) {
        t.hot.setFlags(s, HotTier.PUBLISH | HotTier.STALE);
      }
    }
  }

  /**
   * Marks every stored row of slice {@code slice} of {@code slices} as changed: the resident hot
   * rows by flag, the rows only in the cold tier (a range scan of their keys) as changed cold rows.
   */
  int markSlice(int slice, int slices) {
    int n = 0;
    for (int s = 0; s < t.hot.highWater(); s++) {
      if ((t.hot.flags(s) & HotTier.RESIDENT) != 0
          && RowSlices.sliceOf(t.hot.keyOf(s), slices) == slice) {
        t.hot.setFlags(s, HotTier.PUBLISH);
        n++;
      }
    }
    long lo = RowSlices.lowerBound(slice, slices);
    long hi = slice + 1 == slices ? 0 : RowSlices.lowerBound(slice + 1, slices);
    int[] cold = {0};
    t.cold.scanRows(
        t.index,
        lo,
        hi,
        id -> {
          int s = t.hot.slotOf(id);
          if (s == LongIntHashMap.MISSING || (t.hot.flags(s) & HotTier.RESIDENT) == 0) {
            t.changedCold.put(id, 0);
            cold[0]++;
          }
        });
    return n + cold[0];
  }

  int drainDirty(int maxRows, RowSink sink) {
    if (maxRows <= 0) {
      return 0;
    }
    int total = t.changedCold.size();
    for (int s = 0; s < t.hot.highWater(); s++) {
      if ((t.hot.flags(s) & HotTier.PUBLISH) != 0) {
        total++;
      }
    }
    if (total == 0) {
      return 0;
    }
    long[] ids = new long[total];
    int k = 0;
    for (int s = 0; s < t.hot.highWater(); s++) {
      if ((t.hot.flags(s) & HotTier.PUBLISH) != 0) {
        ids[k++] = t.hot.keyOf(s);
      }
    }
    long[] coldIds = t.changedCold.keys();
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
      float[] rows = t.outStage(len);
      int nh = 0, nc = 0;
      for (int i = 0; i < len; i++) {
        long id = ids[from + i];
        int s = t.hot.slotOf(id);
        if (s != LongIntHashMap.MISSING && (t.hot.flags(s) & HotTier.PUBLISH) != 0) {
          hotSlots[nh] = s;
          hotAt[nh++] = i;
        } else {
          coldKeys[nc] = id;
          coldAt[nc++] = i;
        }
      }
      float[] gathered = t.inStage(nh);
      t.hot.gather(hotSlots, nh, gathered);
      for (int j = 0; j < nh; j++) {
        System.arraycopy(gathered, j * t.w, rows, hotAt[j] * t.w, t.w);
        t.hot.clearFlags(hotSlots[j], HotTier.PUBLISH);
      }
      t.cold.multiGet(t.index, coldKeys, nc, values);
      for (int j = 0; j < nc; j++) {
        if (values[j] == null) {
          throw new StoreException(
              "table '"
                  + t.cfg.name()
                  + "': changed row "
                  + coldKeys[j]
                  + " is missing from the cold tier");
        }
        RocksDbColdTier.decodeValue(values[j], t.w, rows, coldAt[j] * t.w);
        values[j] = null;
        t.changedCold.remove(coldKeys[j]);
      }
      for (int i = 0; i < len; i++) {
        sink.accept(ids[from + i], rows, i * t.w, t.cfg.dim());
      }
    }
    return n;
  }
}
