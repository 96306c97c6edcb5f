package io.streamrec.embedding;

import io.streamrec.common.LongIntHashMap;
import io.streamrec.gpu.CpuBackend;
import io.streamrec.gpu.Floats;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;

/**
 * An {@link EmbeddingStore} that keeps every row in one growing host slab per table: no cold tier,
 * no eviction; for the CPU backend. Admission, expiry and dirty tracking follow the interface. Good
 * for tests, the serving replica's unit tests and small models; the tiered store replaces it for
 * real workloads.
 */
public final class InMemoryEmbeddingStore extends BatchedStore {
  private static final int INITIAL_ROWS = 1024;

  private final List<TableConfig> tables;
  private final Table[] state;
  private long nowMs = Long.MIN_VALUE;

  private long lookups, hits, admitted, expired;

  public InMemoryEmbeddingStore(List<TableConfig> tables) {
    this.tables = List.copyOf(tables);
    this.state = new Table[tables.size()];
    for (int i = 0; i < tables.size(); i++) {
      state[i] = new Table(tables.get(i));
    }
  }

  @Override
  public List<TableConfig> tables() {
    return tables;
  }

  @Override
  public void advanceTo(long eventTimeMs) {
    if (nowMs == Long.MIN_VALUE) {
      // Rows prepared before the clock started carry no time: they count as seen when it starts
      // (else now - lastSeen overflows and they never expire).
      for (Table t : state) {
        t.stampUnseen(eventTimeMs);
      }
    }
    nowMs = Math.max(nowMs, eventTimeMs);
  }

  @Override
  PreparedKeys prepareKeys(int table, long[] keys, int count) {
    Table t = state[table];
    int[] slots = new int[count];
    int[] rowIndex = new int[count];
    LongIntHashMap local = new LongIntHashMap(count);
    int[] distinctSlots = new int[count];
    long[] distinctKeys = new long[count];
    int distinct = 0;
    for (int i = 0; i < count; i++) {
      long key = keys[i];
      int li = local.putIfAbsent(key, distinct);
      if (li == LongIntHashMap.MISSING) {
        li = distinct;
        distinctKeys[distinct] = key;
        distinctSlots[distinct] = t.slotFor(key);
        distinct++;
      }
      slots[i] = distinctSlots[li];
      rowIndex[i] = li;
    }
    return new PreparedKeys(slots, rowIndex, distinctSlots, distinctKeys, distinct);
  }

  @Override
  Floats slabOf(int table) {
    return CpuBackend.wrap(state[table].slab);
  }

  /** The slab as a Java array (this store lives in host memory and serves the CPU backend). */
  public float[] hostSlab(int table) {
    return state[table].slab;
  }

  @Override
  void markRowsUpdated(int table, PreparedKeys prepared) {
    Table t = state[table];
    for (int i = 0; i < prepared.distinctCount(); i++) {
      int slot = prepared.distinctSlots()[i];
      if (t.keyOfSlot[slot] != null) {
        t.dirty.set(slot);
      }
    }
  }

  @Override
  void releaseBatch() {
    for (Table t : state) {
      t.releaseTransient();
    }
  }

  @Override
  public int drainDirty(int table, int maxRows, RowSink sink) {
    Table t = state[table];
    int n = 0;
    for (int s = t.dirty.nextSetBit(0); s >= 0 && n < maxRows; s = t.dirty.nextSetBit(s + 1)) {
      t.dirty.clear(s);
      sink.accept(t.keyOfSlot[s], t.slab, s * t.cfg.rowWidth(), t.cfg.dim());
      n++;
    }
    return n;
  }

  @Override
  public int markSlice(int table, int slice, int slices) {
    requireNoBatch("mark a slice");
    Table t = state[table];
    int[] n = {0};
    t.index.forEach(
        (key, slot) -> {
          if (RowSlices.sliceOf(key, slices) == slice) {
            t.dirty.set(slot);
            n[0]++;
          }
        });
    return n[0];
  }

  @Override
  public int drainExpired(int table, ExpiredSink sink) {
    Table t = state[table];
    if (t.cfg.ttlMs() == 0 || nowMs == Long.MIN_VALUE) {
      return 0;
    }
    List<Long> gone = new ArrayList<>();
    t.index.forEach(
        (key, slot) -> {
          if (nowMs - t.lastSeen[slot] > t.cfg.ttlMs()) {
            gone.add(key);
          }
        });
    gone.sort(Long::compare);
    for (long id : gone) {
      t.remove(id);
      sink.accept(id);
    }
    expired += gone.size();
    return gone.size();
  }

  @Override
  public void read(int table, long id, float[] out) {
    Table t = state[table];
    int slot = t.index.get(id);
    if (slot == LongIntHashMap.MISSING) {
      RowInitializer.init(t.cfg, id, out, 0);
    } else {
      System.arraycopy(t.slab, slot * t.cfg.rowWidth(), out, 0, t.cfg.rowWidth());
    }
  }

  @Override
  public StoreStats stats() {
    long rows = 0;
    for (Table t : state) {
      rows += t.index.size();
    }
    return new StoreStats(lookups, hits, rows, 0, admitted, 0, expired);
  }

  @Override
  void checkUsable() {}

  @Override
  public void close() {}

  /** File of a snapshot directory that holds this store's state. */
  static final String SNAPSHOT_FILE = "in-memory-store.bin";

  private static final int SNAPSHOT_FORMAT = 1;

  /**
   * Writes every table's rows, slots, free list, admission counts, last-seen times and dirty flags,
   * and the store's clock and counters: {@link #restore} gives a store that behaves exactly like
   * this one from here on (same slots, same drains in the same order).
   */
  @Override
  public StoreSnapshot snapshot(Path dir) {
    requireNoBatch("snapshot");
    Path file;
    try {
      file = Files.createDirectories(dir).resolve(SNAPSHOT_FILE);
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot create the store snapshot directory " + dir + ": " + e.getMessage(), e);
    }
    writeSnapshot(dir, file);
    try {
      long bytes = Files.size(file);
      return new StoreSnapshot(dir, 1, 0, bytes, bytes, 0, 0, 0);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the size of " + file + ": " + e.getMessage(), e);
    }
  }

  private void writeSnapshot(Path dir, Path file) {
    try (DataOutputStream out =
        new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(file)))) {
      out.writeInt(SNAPSHOT_FORMAT);
      out.writeInt(state.length);
      out.writeLong(nowMs);
      for (long c : new long[] {lookups, hits, admitted, expired}) {
        out.writeLong(c);
      }
      for (Table t : state) {
        if (!t.transientSlots.isEmpty()) {
          throw new IllegalStateException(
              "snapshot of table '" + t.cfg.name() + "' while a batch is prepared");
        }
        out.writeUTF(t.cfg.name());
        out.writeInt(t.cfg.rowWidth());
        out.writeInt(t.used);
        for (int i = 0; i < t.used * t.cfg.rowWidth(); i++) {
          out.writeInt(Float.floatToRawIntBits(t.slab[i]));
        }
        for (int i = 0; i < t.used; i++) {
          out.writeLong(t.lastSeen[i]);
          Long k = t.keyOfSlot[i];
          out.writeBoolean(k != null);
          out.writeLong(k == null ? 0 : k);
          out.writeBoolean(t.dirty.get(i));
        }
        out.writeInt(t.freeCount);
        for (int i = 0; i < t.freeCount; i++) {
          out.writeInt(t.freeSlots[i]);
        }
        long[] seen = t.seenCounts.keys();
        Arrays.sort(seen);
        out.writeInt(seen.length);
        for (long key : seen) {
          out.writeLong(key);
          out.writeInt(t.seenCounts.get(key));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot write the store snapshot to " + dir + ": " + e.getMessage(), e);
    }
  }

  /** A store in the state {@link #snapshot} wrote into {@code dir}; the tables must be the same. */
  public static InMemoryEmbeddingStore restore(Path dir, List<TableConfig> tables) {
    InMemoryEmbeddingStore store = new InMemoryEmbeddingStore(tables);
    try (DataInputStream in =
        new DataInputStream(
            new BufferedInputStream(Files.newInputStream(dir.resolve(SNAPSHOT_FILE))))) {
      int format = in.readInt();
      if (format != SNAPSHOT_FORMAT) {
        throw new IllegalArgumentException(
            "store snapshot format " + format + "; this build reads " + SNAPSHOT_FORMAT);
      }
      if (in.readInt() != tables.size()) {
        throw new IllegalArgumentException(
            "store snapshot in " + dir + " has other tables than " + tables);
      }
      store.nowMs = in.readLong();
      store.lookups = in.readLong();
      store.hits = in.readLong();
      store.admitted = in.readLong();
      store.expired = in.readLong();
      for (Table t : store.state) {
        String name = in.readUTF();
        int width = in.readInt();
        if (!name.equals(t.cfg.name()) || width != t.cfg.rowWidth()) {
          throw new IllegalArgumentException(
              "store snapshot table '"
                  + name
                  + "' (row width "
                  + width
                  + ") does not match table '"
                  + t.cfg.name()
                  + "' (row width "
                  + t.cfg.rowWidth()
                  + ")");
        }
        int used = in.readInt();
        int cap = Math.max(INITIAL_ROWS, used);
        t.slab = new float[cap * width];
        t.lastSeen = new long[cap];
        t.keyOfSlot = new Long[cap];
        t.used = used;
        for (int i = 0; i < used * width; i++) {
          t.slab[i] = Float.intBitsToFloat(in.readInt());
        }
        for (int i = 0; i < used; i++) {
          t.lastSeen[i] = in.readLong();
          boolean hasKey = in.readBoolean();
          long key = in.readLong();
          if (hasKey) {
            t.keyOfSlot[i] = key;
            t.index.put(key, i);
          }
          if (in.readBoolean()) {
            t.dirty.set(i);
          }
        }
        t.freeCount = in.readInt();
        t.freeSlots = new int[Math.max(16, t.freeCount)];
        for (int i = 0; i < t.freeCount; i++) {
          t.freeSlots[i] = in.readInt();
        }
        int seen = in.readInt();
        for (int i = 0; i < seen; i++) {
          t.seenCounts.put(in.readLong(), in.readInt());
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot read the store snapshot in " + dir + ": " + e.getMessage(), e);
    }
    return store;
  }

  private final class Table {
    final TableConfig cfg;

    /** Key to slot of every admitted row. */
    final LongIntHashMap index = new LongIntHashMap(INITIAL_ROWS);

    /** Key to the number of batches that asked for it, of keys not yet admitted. */
    final LongIntHashMap seenCounts = new LongIntHashMap(16);

    final BitSet dirty = new BitSet();
    final List<Integer> transientSlots = new ArrayList<>();
    int[] freeSlots = new int[16];
    int freeCount;
    int used;
    float[] slab;
    long[] lastSeen;
    Long[] keyOfSlot;

    Table(TableConfig cfg) {
      this.cfg = cfg;
      this.slab = new float[INITIAL_ROWS * cfg.rowWidth()];
      this.lastSeen = new long[INITIAL_ROWS];
      this.keyOfSlot = new Long[INITIAL_ROWS];
    }

    int slotFor(long key) {
      lookups++;
      int slot = index.get(key);
      if (slot != LongIntHashMap.MISSING) {
        hits++;
        lastSeen[slot] = nowMs;
        return slot;
      }
      int before = seenCounts.get(key);
      int seen = before == LongIntHashMap.MISSING ? 1 : before + 1;
      int s = allocate();
      RowInitializer.init(cfg, key, slab, s * cfg.rowWidth());
      lastSeen[s] = nowMs;
      if (seen >= cfg.admissionThreshold()) {
        if (before != LongIntHashMap.MISSING) {
          seenCounts.remove(key);
        }
        index.put(key, s);
        keyOfSlot[s] = key;
        admitted++;
      } else {
        seenCounts.put(key, seen);
        keyOfSlot[s] = null;
        transientSlots.add(s);
      }
      return s;
    }

    int allocate() {
      if (freeCount > 0) {
        return freeSlots[--freeCount];
      }
      if (used == lastSeen.length) {
        int n = used * 2;
        slab = Arrays.copyOf(slab, n * cfg.rowWidth());
        lastSeen = Arrays.copyOf(lastSeen, n);
        keyOfSlot = Arrays.copyOf(keyOfSlot, n);
      }
      return used++;
    }

    void free(int slot) {
      if (freeCount == freeSlots.length) {
        freeSlots = Arrays.copyOf(freeSlots, freeCount * 2);
      }
      freeSlots[freeCount++] = slot;
    }

    void remove(long id) {
      int slot = index.remove(id);
      if (slot != LongIntHashMap.MISSING) {
        dirty.clear(slot);
        keyOfSlot[slot] = null;
        free(slot);
      }
    }

    void stampUnseen(long timeMs) {
      index.forEach(
          (key, slot) -> {
            if (lastSeen[slot] == Long.MIN_VALUE) {
              lastSeen[slot] = timeMs;
            }
          });
    }

    void releaseTransient() {
      for (int s : transientSlots) {
        free(s);
      }
      transientSlots.clear();
    }
  }
}
