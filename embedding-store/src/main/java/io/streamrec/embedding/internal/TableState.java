package io.streamrec.embedding.internal;

import io.streamrec.common.LongIntHashMap;
import io.streamrec.embedding.TableConfig;
import io.streamrec.gpu.ComputeBackend;
import java.util.function.LongSupplier;

/**
 * What the parts of one tiered table share: its configuration, its hot tier, the cold tier it
 * shares with the store's other tables, the store's event-time clock, the counters, the set of
 * changed rows that live only in the cold tier, and the per-batch scratch arrays (reused, so a
 * steady-state batch allocates little). The parts ({@link BatchPlacement}, {@link Admission},
 * {@link Eviction}, {@link DirtyRows}, {@link Expiry}, {@link TableSnapshot}) each own one concern;
 * {@link TieredTable} puts them together. Not thread-safe.
 */
final class TableState {
  final int index;
  final TableConfig cfg;
  final int w;
  final boolean ttl;
  final HotTier hot;
  final RocksDbColdTier cold;
  final Admission admission;
  private final LongSupplier clock;

  /** Ids of cold-only rows changed since they were last drained. */
  LongIntHashMap changedCold = new LongIntHashMap(64);

  long lookups, hits, admitted, evicted, expired;

  /** Records in the cold tier (rows only there, plus hot rows with a cold copy). */
  long coldCount;

  /** Every last-seen index entry older than this was expired: scans start here. */
  long seenFloor = Long.MIN_VALUE;

  // per-batch scratch, reused
  final LongIntHashMap local = new LongIntHashMap(1024);
  int[] missAt = new int[256];
  long[] missKeys = new long[256];
  byte[][] found = new byte[256][];
  byte[] kind = new byte[256];
  int[] placeSlots = new int[256];
  int[] victims = new int[256];
  int[] staleSlots = new int[256];
  private float[] inStage = new float[0];
  private float[] outStage = new float[0];
  final byte[] valueBuf;

  TableState(
      int index,
      TableConfig cfg,
      ComputeBackend backend,
      RocksDbColdTier cold,
      LongSupplier clock) {
    this.index = index;
    this.cfg = cfg;
    this.w = cfg.rowWidth();
    this.ttl = cfg.ttlMs() > 0;
    this.cold = cold;
    this.clock = clock;
    this.admission = new Admission(cfg);
    this.valueBuf = new byte[RocksDbColdTier.valueBytes(w)];
    this.hot = new HotTier(cfg, backend);
  }

  /** The store's event-time clock (Long.MIN_VALUE before it starts). */
  long now() {
    return clock.getAsLong();
  }

  long coldOnly() {
    return coldCount - hot.inCold();
  }

  void ensureBatch(int n) {
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

  /** Host staging for {@code rows} incoming rows. */
  float[] inStage(int rows) {
    if (inStage.length < rows * w) {
      inStage = new float[Math.max(rows, 256) * w];
    }
    return inStage;
  }

  /** Host staging for {@code rows} outgoing rows. */
  float[] outStage(int rows) {
    if (outStage.length < rows * w) {
      outStage = new float[Math.max(rows, 256) * w];
    }
    return outStage;
  }
}
