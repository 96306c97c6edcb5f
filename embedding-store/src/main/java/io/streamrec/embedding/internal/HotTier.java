package io.streamrec.embedding.internal;

import io.streamrec.embedding.HotTierFullException;
import io.streamrec.embedding.TableConfig;
import io.streamrec.gpu.ComputeBackend;
import io.streamrec.gpu.CpuBackend;
import io.streamrec.gpu.Floats;
import io.streamrec.gpu.Ints;
import java.util.Arrays;

/**
 * The hot tier of one table: a slab of fixed-size rows in the compute backend's memory, addressed
 * by slot, with an index from id to slot and each slot's metadata in parallel primitive arrays
 * (no per-row objects).
 *
 * <p><b>Slots.</b> A slot is free, holds a <em>resident</em> row (an admitted id, at most
 * {@code hotCapacityRows} of them), or is <em>scratch</em>: the row of an id that is not admitted,
 * initialised for one batch and freed by {@link #releaseAll}, never indexed, never written back.
 * The slab grows by doubling, up to the capacity plus the largest number of scratch rows a batch
 * has needed, so a small table never holds a large slab.
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
  /** The row is part of the current batch and must not move. */
  public static final byte PINNED = 4;
  /** CLOCK's reference bit: the row was used since the hand last passed. */
  public static final byte REF = 8;
  /** The cold tier's copy of the row (values or last-seen time) is out of date, or there is none. */
  public static final byte STALE = 16;
  /** The cold tier holds a copy of the row. */
  public static final byte IN_COLD = 32;
  /** The row changed since it was last drained for publishing. */
  public static final byte PUBLISH = 64;

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
  long[] lastSeen = new long[0];
  long[] coldSeen = new long[0];
  byte[] flags = new byte[0];
  private int[] free = new int[64];
  private int freeCount;
  private int hand;
  private int resident;
  private int inCold;
  private int pinnedResident;
  private int[] pinned = new int[64];
  private int pinnedCount;
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

  public boolean anyPinned() {
    return pinnedCount > 0 || scratchCount > 0;
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
    return lastSeen[slot];
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
      grow(slabRows * 2);
    }
    return highWater++;
  }

  private void freeSlot(int slot) {
    flags[slot] = 0;
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
    lastSeen = Arrays.copyOf(lastSeen, rows);
    coldSeen = Arrays.copyOf(coldSeen, rows);
    flags = Arrays.copyOf(flags, rows);
  }

  /** A hit: the row is used by this batch, now. */
  public void touch(int slot, long nowMs, boolean trackSeen) {
    byte f = flags[slot];
    if (lastSeen[slot] != nowMs) {
      lastSeen[slot] = nowMs;
      if (trackSeen) {
        f |= STALE;
      }
    }
    if ((f & PINNED) == 0) {
      f |= PINNED;
      pinnedResident++;
      pin(slot);
    }
    flags[slot] = (byte) (f | REF);
  }

  /** Sets a resident row's last-seen time without using it (the clock starting). */
  public void touchTime(int slot, long timeMs, boolean trackSeen) {
    if (lastSeen[slot] != timeMs) {
      lastSeen[slot] = timeMs;
      if (trackSeen) {
        flags[slot] |= STALE;
      }
    }
  }

  private void pin(int slot) {
    if (pinnedCount == pinned.length) {
      pinned = Arrays.copyOf(pinned, pinnedCount * 2);
    }
    pinned[pinnedCount++] = slot;
  }

  /** Places a resident row (its values come with the next {@link #scatter}); pinned. */
  public int addResident(long id, long nowMs, long coldSeenMs, int extraFlags) {
    int s = takeSlot();
    keyOf[s] = id;
    lastSeen[s] = nowMs;
    coldSeen[s] = coldSeenMs;
    flags[s] = (byte) (RESIDENT | PINNED | extraFlags);
    index.put(id, s);
    resident++;
    pinnedResident++;
    if ((extraFlags & IN_COLD) != 0) {
      inCold++;
    }
    pin(s);
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
    coldSeen[slot] = lastSeen[slot];
  }

  /** Drops a resident row (evicted or expired). */
  public void remove(int slot) {
    index.remove(keyOf[slot]);
    resident--;
    if ((flags[slot] & IN_COLD) != 0) {
      inCold--;
    }
    if ((flags[slot] & PINNED) != 0) {
      pinnedResident--;
    }
    freeSlot(slot);
  }

  /** Unpins the batch's rows and frees its scratch slots. */
  public void releaseAll() {
    for (int i = 0; i < pinnedCount; i++) {
      flags[pinned[i]] &= ~PINNED;
    }
    pinnedCount = 0;
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
      throw new HotTierFullException("table '" + cfg.name() + "': the batch needs room for " + n
          + " more rows, but the hot tier holds " + cfg.hotCapacityRows() + " rows and "
          + pinnedResident + " of them are pinned by the same batch; raise the table's hot capacity"
          + " (hot-capacity-rows) or make the batches smaller");
    }
    int found = 0;
    int h = hand;
    while (found < n) {
      if (h >= highWater) {
        h = 0;
      }
      byte f = flags[h];
      if ((f & RESIDENT) != 0 && (f & PINNED) == 0) {
        if ((f & REF) != 0) {
          flags[h] = (byte) (f & ~REF);
        } else {
          // chosen: pin it so that the rest of this sweep passes it by
          flags[h] = (byte) (f | PINNED);
          out[found++] = h;
        }
      }
      h++;
    }
    hand = h;
    for (int i = 0; i < n; i++) {
      flags[out[i]] &= ~PINNED;
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
  public void restore(int slabRowsWanted, int highWater, int hand, long[] keys, long[] seen, long[] cold,
      byte[] fl, int[] freeStack) {
    if (slabRowsWanted > slabRows) {
      grow(slabRowsWanted);
    }
    this.highWater = highWater;
    this.hand = hand;
    for (int s = 0; s < highWater; s++) {
      flags[s] = fl[s];
      if ((fl[s] & RESIDENT) != 0) {
        keyOf[s] = keys[s];
        lastSeen[s] = seen[s];
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
