package io.streamrec.embedding.internal;

import io.streamrec.common.LongIntHashMap;
import io.streamrec.embedding.HotTierFullException;
import io.streamrec.embedding.StoreException;
import io.streamrec.embedding.TableConfig;
import io.streamrec.gpu.ComputeBackend;
import io.streamrec.gpu.CpuBackend;
import io.streamrec.gpu.Floats;
import io.streamrec.gpu.Ints;
import java.util.Arrays;

/**
 * The hot tier of one table: a slab of fixed-size rows in the compute backend's memory, addressed
 * by slot, with an index from id to slot and each slot's metadata in parallel primitive arrays (no
 * per-row objects).
 *
 * <p><b>Slots.</b> A slot is free, holds a <em>resident</em> row (an admitted id, at most {@code
 * hotCapacityRows} of them), or is <em>scratch</em>: the row of an id that is not admitted,
 * initialised for one batch and freed by {@link #releaseAll}, never indexed, never written back.
 * The slab grows by doubling, up to the capacity plus the largest number of scratch rows a batch
 * has needed (never past the capacity for resident rows), so a small table never holds a large
 * slab.
 *
 * <p><b>Moving rows.</b> Rows enter and leave the slab in batches: {@link #scatter} places staged
 * rows with one {@code upload} and one {@code scatterRows}, {@link #gather} collects rows with one
 * {@code gatherRows} and one {@code download}. On {@link CpuBackend} the slab is a Java array, and
 * both copy rows straight between it and the host staging array (one copy instead of two).
 *
 * <p><b>Eviction: CLOCK</b> (Corbató's second-chance algorithm). A hit only sets the slot's
 * reference bit, a byte store into an array the lookup already touched; LRU would relink a list
 * node per hit (two more random writes) on the path that has to run at memory speed. The hand
 * sweeps the slots, skips pinned and scratch slots, clears set reference bits and evicts the first
 * resident row whose bit is clear. New rows enter with the bit clear: a row must be seen again
 * before the hand comes round to keep its place, which keeps one-off ids from pushing out the
 * recurring ones (the benchmark's policy comparison measures this on Zipf traffic).
 */
public final class HotTier implements AutoCloseable {
  /** The slot holds an admitted row, indexed by its id. */
  public static final byte RESIDENT = 1;

  /** The slot holds a not-yet-admitted id's row for the current batch. */
  public static final byte SCRATCH = 2;

  /** CLOCK's reference bit: the row was used since the hand last passed. */
  public static final byte REF = 8;

  /**
   * The cold tier's copy of the row (values or last-seen time) is out of date, or there is none.
   */
  public static final byte STALE = 16;

  /** The cold tier holds a copy of the row. */
  public static final byte IN_COLD = 32;

  /** The row changed since it was last drained for publishing. */
  public static final byte PUBLISH = 64;

  /** Keys looked ahead in a batch: enough misses in flight to cover memory latency. */
  static final int LOOKAHEAD = 16;

  /** Rows of a new slab: small tables stay small. */
  private static final int INITIAL_ROWS = 1024;

  private final TableConfig cfg;
  private final ComputeBackend backend;
  private final boolean host;
  private final int w;
  final LongIntHashMap index;

  private Floats slab;
  private float[] hostSlab;
  private int slabRows;
  private int highWater;
  long[] keyOf = new long[0];

  /**
   * What a hit reads and writes, side by side (one cache line): at {@code 2 * slot} the row's
   * last-seen time, at {@code 2 * slot + 1} the batch stamp (high half) and the row's index in that
   * batch (low half).
   */
  private long[] seenAndStamp = new long[0];

  long[] coldSeen = new long[0];
  byte[] flags = new byte[0];

  /** The batch that last looked a slot up, and the slot's row index in that batch. */
  private int stampNow;

  private long prefetchSink;
  private int[] free = new int[64];
  private int freeCount;
  private int hand;
  private int resident;
  private int inCold;

  /** Rows pinned by the current batch: those stamped after {@link #pinEpoch}. */
  private int pinnedResident;

  /** The last stamp handed out before the last {@link #releaseAll}. */
  private int pinEpoch;

  private int[] scratch = new int[64];
  private int scratchCount;

  // staging for the device path
  private Floats stageRows;
  private Ints stageSlots;

  public HotTier(TableConfig cfg, ComputeBackend backend) {
    this.cfg = cfg;
    this.backend = backend;
    this.host = backend instanceof CpuBackend;
    this.w = cfg.rowWidth();
    this.index = new LongIntHashMap(cfg.hotCapacityRows());
    grow(Math.min(INITIAL_ROWS, cfg.hotCapacityRows()));
  }

  // ---- slots ----------------------------------------------------------------------------------

  public Floats slab() {
    return slab;
  }

  public int slabRows() {
    return slabRows;
  }

  public int highWater() {
    return highWater;
  }

  public int resident() {
    return resident;
  }

  public int inCold() {
    return inCold;
  }

  public int pinnedResident() {
    return pinnedResident;
  }

  public int capacity() {
    return cfg.hotCapacityRows();
  }

  /** The slot of a resident row, or {@link LongIntHashMap#MISSING}. */
  public int slotOf(long id) {
    return index.get(id);
  }

  public byte flags(int slot) {
    return flags[slot];
  }

  public long keyOf(int slot) {
    return keyOf[slot];
  }

  public long lastSeen(int slot) {
    return seenAndStamp[2 * slot];
  }

  public long coldSeen(int slot) {
    return coldSeen[slot];
  }

  public void setFlags(int slot, int set) {
    flags[slot] |= (byte) set;
  }

  public void clearFlags(int slot, int clear) {
    flags[slot] &= (byte) ~clear;
  }

  /** A free slot, growing the slab if none is left. */
  private int takeSlot() {
    if (freeCount > 0) {
      return free[--freeCount];
    }
    if (highWater == slabRows) {
      grow(nextSlabRows());
    }
    return highWater++;
  }

  /**
   * The slab's next size: doubling up to the hot capacity, never past it for resident rows (a
   * doubled slab could hold twice the capacity, and past {@link TableConfig#MAX_HOT_FLOATS} floats
   * could not be allocated at all); beyond the capacity, for a batch's scratch rows, the part past
   * it doubles.
   */
  private int nextSlabRows() {
    long capacity = cfg.hotCapacityRows();
    long next =
        slabRows < capacity
            ? Math.min(2L * slabRows, capacity)
            : capacity + Math.max(2L * (slabRows - capacity), Math.min(INITIAL_ROWS, capacity));
    long most = TableConfig.MAX_HOT_FLOATS / w;
    if (next > most) {
      next = most;
    }
    if (next <= slabRows) {
      throw new StoreException(
          "table '"
              + cfg.name()
              + "': the hot tier's slab holds "
              + slabRows
              + " rows of "
              + w
              + " floats, its most; this batch's ids not yet admitted need scratch rows beyond"
              + " its "
              + capacity
              + " rows of capacity: lower the table's hot capacity (hot-capacity-rows) or make"
              + " the batches smaller");
    }
    return (int) next;
  }

  private void freeSlot(int slot) {
    flags[slot] = 0;
    seenAndStamp[2 * slot + 1] = 0;
    if (freeCount == free.length) {
      free = Arrays.copyOf(free, freeCount * 2);
    }
    free[freeCount++] = slot;
  }

  private void grow(int rows) {
    Floats bigger = backend.allocFloats(Math.multiplyExact(rows, w));
    if (slab != null) {
      backend.copy(slab, 0, bigger, 0, highWater * w);
      slab.close();
    }
    slab = bigger;
    hostSlab = host ? CpuBackend.array(slab) : null;
    slabRows = rows;
    keyOf = Arrays.copyOf(keyOf, rows);
    seenAndStamp = Arrays.copyOf(seenAndStamp, 2 * rows);
    coldSeen = Arrays.copyOf(coldSeen, rows);
    flags = Arrays.copyOf(flags, rows);
  }

  /**
   * The slot of each of {@code keys[0..n)} (or {@link LongIntHashMap#MISSING}) into {@code out}.
   * Lookups into a large index miss the cache; each key's entry is touched {@link #LOOKAHEAD} keys
   * ahead, so the processor has that many misses in flight instead of one.
   */
  public void slotsOf(long[] keys, int n, int[] out) {
    long sink = 0;
    int ahead = Math.min(n, LOOKAHEAD);
    for (int i = 0; i < ahead; i++) {
      sink += index.touch(keys[i]);
    }
    for (int i = 0; i < n; i++) {
      if (i + LOOKAHEAD < n) {
        sink += index.touch(keys[i + LOOKAHEAD]);
      }
      out[i] = index.get(keys[i]);
    }
    prefetchSink = sink;
  }

  /** Touches the hit-path metadata of {@code slot} ahead of use (see {@link #slotsOf}). */
  public long touchMeta(int slot) {
    return seenAndStamp[2 * slot + 1] + flags[slot];
  }

  /** Keeps the look-ahead loads alive (a value nobody reads, but the compiler cannot know). */
  public void sink(long value) {
    prefetchSink = value;
  }

  /**
   * A new stamp for one {@code prepare}: no slot carries it yet. A slot stamped since the last
   * {@link #releaseAll} is pinned; releasing a batch is one assignment, not a pass over its rows.
   */
  public int nextStamp() {
    if (stampNow == Integer.MAX_VALUE) {
      throw new IllegalStateException(
          "table '" + cfg.name() + "': 2^31 prepares without a release");
    }
    return ++stampNow;
  }

  private boolean pinned(int slot) {
    return (int) (seenAndStamp[2 * slot + 1] >>> 32) > pinEpoch;
  }

  /** The row index of a slot in the batch stamped {@code stamp}, or -1 if it is not in it yet. */
  public int stampedIndex(int slot, int stamp) {
    long v = seenAndStamp[2 * slot + 1];
    return (int) (v >>> 32) == stamp ? (int) v : -1;
  }

  /**
   * A hit: the row is used by the batch stamped {@code stamp}, as its row {@code rowIndex}, now.
   */
  public void hit(int slot, int stamp, int rowIndex, long nowMs, boolean trackSeen) {
    if (!pinned(slot)) {
      pinnedResident++;
    }
    seenAndStamp[2 * slot + 1] = ((long) stamp << 32) | (rowIndex & 0xffffffffL);
    byte f = flags[slot];
    if (seenAndStamp[2 * slot] != nowMs) {
      seenAndStamp[2 * slot] = nowMs;
      if (trackSeen) {
        f |= STALE;
      }
    }
    flags[slot] = (byte) (f | REF);
  }

  /** Sets a resident row's last-seen time without using it (the clock starting). */
  public void touchTime(int slot, long timeMs, boolean trackSeen) {
    if (seenAndStamp[2 * slot] != timeMs) {
      seenAndStamp[2 * slot] = timeMs;
      if (trackSeen) {
        flags[slot] |= STALE;
      }
    }
  }

  /** Places a resident row (its values come with the next {@link #scatter}); pinned. */
  public int addResident(long id, long nowMs, long coldSeenMs, int extraFlags) {
    int s = takeSlot();
    keyOf[s] = id;
    seenAndStamp[2 * s] = nowMs;
    seenAndStamp[2 * s + 1] = (long) stampNow << 32;
    coldSeen[s] = coldSeenMs;
    flags[s] = (byte) (RESIDENT | extraFlags);
    index.put(id, s);
    resident++;
    pinnedResident++;
    if ((extraFlags & IN_COLD) != 0) {
      inCold++;
    }
    return s;
  }

  /** A scratch slot for one batch. */
  public int addScratch(long id) {
    int s = takeSlot();
    keyOf[s] = id;
    flags[s] = SCRATCH;
    if (scratchCount == scratch.length) {
      scratch = Arrays.copyOf(scratch, scratchCount * 2);
    }
    scratch[scratchCount++] = s;
    return s;
  }

  /** The cold tier now holds the row's current values and last-seen time. */
  public void writtenBack(int slot) {
    if ((flags[slot] & IN_COLD) == 0) {
      inCold++;
    }
    flags[slot] = (byte) ((flags[slot] | IN_COLD) & ~STALE);
    coldSeen[slot] = seenAndStamp[2 * slot];
  }

  /** Drops a resident row (evicted or expired). */
  public void remove(int slot) {
    index.remove(keyOf[slot]);
    resident--;
    if ((flags[slot] & IN_COLD) != 0) {
      inCold--;
    }
    if (pinned(slot)) {
      pinnedResident--;
    }
    freeSlot(slot);
  }

  /** Unpins the batch's rows and frees its scratch slots. */
  public void releaseAll() {
    pinEpoch = stampNow;
    pinnedResident = 0;
    for (int i = 0; i < scratchCount; i++) {
      freeSlot(scratch[i]);
    }
    scratchCount = 0;
  }

  /**
   * Picks {@code n} resident, unpinned rows to evict with CLOCK into {@code out}, and advances the
   * hand past them. Throws {@link HotTierFullException} if fewer than {@code n} are unpinned.
   */
  public void chooseVictims(int n, int[] out) {
    if (n > resident - pinnedResident) {
      throw new HotTierFullException(
          "table '"
              + cfg.name()
              + "': the batch needs room for "
              + n
              + " more rows, but the hot tier holds "
              + cfg.hotCapacityRows()
              + " rows and "
              + pinnedResident
              + " of them are pinned by the same batch; raise the table's hot capacity"
              + " (hot-capacity-rows) or make the batches smaller");
    }
    int found = 0;
    int h = hand;
    while (found < n) {
      if (h >= highWater) {
        h = 0;
      }
      byte f = flags[h];
      if ((f & (RESIDENT | SCRATCH)) == RESIDENT && !pinned(h)) {
        if ((f & REF) != 0) {
          flags[h] = (byte) (f & ~REF);
        } else {
          // chosen: mark it (SCRATCH is never set on a resident row) so this sweep passes it by
          flags[h] = (byte) (f | SCRATCH);
          out[found++] = h;
        }
      }
      h++;
    }
    hand = h;
    for (int i = 0; i < n; i++) {
      flags[out[i]] &= ~SCRATCH;
    }
  }

  // ---- rows -----------------------------------------------------------------------------------

  /** Writes rows {@code 0..n)} of {@code src} into {@code slots}: one upload and one scatter. */
  public void scatter(float[] src, int[] slots, int n) {
    if (n == 0) {
      return;
    }
    if (host) {
      for (int k = 0; k < n; k++) {
        System.arraycopy(src, k * w, hostSlab, slots[k] * w, w);
      }
      return;
    }
    ensureStage(n);
    backend.upload(src, 0, stageRows, 0, n * w);
    backend.upload(slots, 0, stageSlots, 0, n);
    backend.scatterRows(stageRows, stageSlots, n, slab, w);
  }

  /** Reads the rows at {@code slots[0..n)} into {@code dst}: one gather and one download. */
  public void gather(int[] slots, int n, float[] dst) {
    if (n == 0) {
      return;
    }
    if (host) {
      for (int k = 0; k < n; k++) {
        System.arraycopy(hostSlab, slots[k] * w, dst, k * w, w);
      }
      return;
    }
    ensureStage(n);
    backend.upload(slots, 0, stageSlots, 0, n);
    backend.gatherRows(slab, w, stageSlots, n, stageRows);
    backend.download(stageRows, 0, dst, 0, n * w);
  }

  /** Reads one row. */
  public void readRow(int slot, float[] out, int off) {
    if (host) {
      System.arraycopy(hostSlab, slot * w, out, off, w);
    } else {
      backend.download(slab, slot * w, out, off, w);
    }
  }

  private void ensureStage(int rows) {
    if (stageSlots == null || stageSlots.length() < rows) {
      int n = Math.max(rows, stageSlots == null ? 256 : stageSlots.length() * 2);
      if (stageSlots != null) {
        stageSlots.close();
        stageRows.close();
      }
      stageSlots = backend.allocInts(n);
      stageRows = backend.allocFloats(Math.multiplyExact(n, w));
    }
  }

  // ---- snapshot state -------------------------------------------------------------------------

  /** The free-slot stack, bottom first (it decides which slot the next row gets). */
  public int[] freeSlots() {
    return Arrays.copyOf(free, freeCount);
  }

  public int hand() {
    return hand;
  }

  /** Rebuilds the bookkeeping of a restored tier; the rows' values come by {@link #scatter}. */
  public void restore(
      int slabRowsWanted,
      int highWater,
      int hand,
      long[] keys,
      long[] seen,
      long[] cold,
      byte[] fl,
      int[] freeStack) {
    if (slabRowsWanted > slabRows) {
      grow(slabRowsWanted);
    }
    this.highWater = highWater;
    this.hand = hand;
    for (int s = 0; s < highWater; s++) {
      flags[s] = fl[s];
      if ((fl[s] & RESIDENT) != 0) {
        keyOf[s] = keys[s];
        seenAndStamp[2 * s] = seen[s];
        coldSeen[s] = cold[s];
        index.put(keys[s], s);
        resident++;
        if ((fl[s] & IN_COLD) != 0) {
          inCold++;
        }
      }
    }
    free = Arrays.copyOf(freeStack, Math.max(64, freeStack.length));
    freeCount = freeStack.length;
  }

  @Override
  public void close() {
    if (stageSlots != null) {
      stageSlots.close();
      stageRows.close();
    }
    slab.close();
  }
}
