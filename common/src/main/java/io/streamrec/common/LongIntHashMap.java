package io.streamrec.common;

/**
 * A map from {@code long} keys to non-negative {@code int} values with open addressing and linear
 * probing: one array of (key, value) pairs, no boxing, no per-entry objects. Every {@code long} is
 * a valid key; a slot is empty when its value is {@link #MISSING}. Removal shifts the following
 * entries of the probe run back (Knuth's algorithm R), so no tombstones build up under churn.
 *
 * <p>Keys are spread with the SplitMix64 finaliser, so ids that are already hashes and small
 * sequential ids probe equally well. The table doubles when it is more than {@link #MAX_LOAD} full,
 * up to {@link #MAX_CAPACITY} slots (one Java array of pairs), which it fills to {@link #FULL_LOAD}
 * before an insert is refused with {@link IllegalStateException}. Not thread-safe.
 */
public final class LongIntHashMap {
  /** What {@link #get} returns for an absent key, and the value of an empty slot. */
  public static final int MISSING = -1;

  /** Load factor above which the table doubles: short probe runs for linear probing. */
  private static final double MAX_LOAD = 0.5;

  private static final int MIN_CAPACITY = 16;

  /** The most slots: a table of {@code 2 * MAX_CAPACITY} longs, within one Java array. */
  static final int MAX_CAPACITY = 1 << 29;

  /** How full a table of the most slots may get: probe runs grow, but every entry still fits. */
  private static final double FULL_LOAD = 0.875;

  /** The most entries one map holds. */
  public static final int MAX_ENTRIES = (int) (MAX_CAPACITY * FULL_LOAD);

  private final int maxCapacity;

  /**
   * Entry {@code i} is {@code table[2i]} (key) and {@code table[2i+1]} (value): one cache line per
   * probe.
   */
  private long[] table;

  private int mask;
  private int size;
  private int resizeAt;

  /** A map sized for {@code expected} entries without growing. */
  public LongIntHashMap(int expected) {
    this(expected, MAX_CAPACITY);
  }

  /** A map of at most {@code maxCapacity} slots (a power of two), for tests of a full map. */
  LongIntHashMap(int expected, int maxCapacity) {
    if (Integer.bitCount(maxCapacity) != 1
        || maxCapacity < MIN_CAPACITY
        || maxCapacity > MAX_CAPACITY) {
      throw new IllegalArgumentException("not a capacity of this map: " + maxCapacity);
    }
    this.maxCapacity = maxCapacity;
    allocate(tableSizeFor(expected));
  }

  private int tableSizeFor(int expected) {
    if (expected > maxEntries()) {
      throw new IllegalArgumentException(
          "too many entries for one map: " + expected + ", the most is " + maxEntries());
    }
    long want = Math.max(MIN_CAPACITY, (long) Math.ceil(Math.max(expected, 1) / MAX_LOAD));
    long n = Long.highestOneBit(want - 1) << 1;
    return (int) Math.min(n, maxCapacity);
  }

  private int maxEntries() {
    return (int) (maxCapacity * FULL_LOAD);
  }

  private void allocate(int capacity) {
    table = new long[2 * capacity];
    for (int i = 1; i < table.length; i += 2) {
      table[i] = MISSING;
    }
    mask = capacity - 1;
    resizeAt = capacity == maxCapacity ? maxEntries() : (int) (capacity * MAX_LOAD);
  }

  static int hash(long key) {
    long z = key;
    z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
    z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
    return (int) (z ^ (z >>> 31));
  }

  public int size() {
    return size;
  }

  /** The value of {@code key}, or {@link #MISSING}. */
  public int get(long key) {
    long[] t = table;
    int i = hash(key) & mask;
    long v;
    while ((v = t[2 * i + 1]) != MISSING) {
      if (t[2 * i] == key) {
        return (int) v;
      }
      i = (i + 1) & mask;
    }
    return MISSING;
  }

  /**
   * Reads the first entry {@code key} probes and returns a value the caller must consume (fold into
   * something it keeps): a load issued early, so that a later {@link #get} of the same key finds
   * its cache line present. Java has no prefetch instruction; this is one by other means.
   */
  public long touch(long key) {
    return table[2 * (hash(key) & mask)];
  }

  public boolean containsKey(long key) {
    return get(key) != MISSING;
  }

  /**
   * Maps {@code key} to {@code value} ({@code >= 0}); returns the previous value or {@link
   * #MISSING}.
   */
  public int put(long key, int value) {
    if (value < 0) {
      throw new IllegalArgumentException("values must be >= 0, got " + value);
    }
    return insert(key, value, true);
  }

  /**
   * Maps {@code key} to {@code value} unless it is present; returns the present value, or {@link
   * #MISSING} when it inserted.
   */
  public int putIfAbsent(long key, int value) {
    if (value < 0) {
      throw new IllegalArgumentException("values must be >= 0, got " + value);
    }
    return insert(key, value, false);
  }

  private int insert(long key, int value, boolean replace) {
    long[] t = table;
    int i = hash(key) & mask;
    long v;
    while ((v = t[2 * i + 1]) != MISSING) {
      if (t[2 * i] == key) {
        if (replace) {
          t[2 * i + 1] = value;
        }
        return (int) v;
      }
      i = (i + 1) & mask;
    }
    if (size >= resizeAt && mask + 1 == maxCapacity) {
      throw new IllegalStateException(
          "a map of ids is full at "
              + size
              + " entries, the most one map holds; key "
              + key
              + " not added");
    }
    t[2 * i] = key;
    t[2 * i + 1] = value;
    if (++size > resizeAt) {
      rehash((mask + 1) << 1);
    }
    return MISSING;
  }

  /** Removes {@code key}; returns its value or {@link #MISSING}. */
  public int remove(long key) {
    long[] t = table;
    int i = hash(key) & mask;
    long v;
    while ((v = t[2 * i + 1]) != MISSING) {
      if (t[2 * i] == key) {
        shiftBack(i);
        size--;
        return (int) v;
      }
      i = (i + 1) & mask;
    }
    return MISSING;
  }

  /** Empties entry {@code gap} and moves later entries of its probe run into the hole. */
  private void shiftBack(int gap) {
    long[] t = table;
    int i = gap;
    while (true) {
      i = (i + 1) & mask;
      if (t[2 * i + 1] == MISSING) {
        break;
      }
      int home = hash(t[2 * i]) & mask;
      // the entry at i may move to the gap unless its home is in (gap, i], cyclically
      boolean stays = gap <= i ? (gap < home && home <= i) : (gap < home || home <= i);
      if (!stays) {
        t[2 * gap] = t[2 * i];
        t[2 * gap + 1] = t[2 * i + 1];
        gap = i;
      }
    }
    t[2 * gap + 1] = MISSING;
  }

  /** Removes every entry, keeping the table's size. */
  public void clear() {
    if (size > 0) {
      for (int i = 1; i < table.length; i += 2) {
        table[i] = MISSING;
      }
      size = 0;
    }
  }

  private void rehash(int capacity) {
    long[] old = table;
    allocate(capacity);
    for (int i = 0; i < old.length; i += 2) {
      if (old[i + 1] != MISSING) {
        long k = old[i];
        int j = hash(k) & mask;
        while (table[2 * j + 1] != MISSING) {
          j = (j + 1) & mask;
        }
        table[2 * j] = k;
        table[2 * j + 1] = old[i + 1];
      }
    }
  }

  /** Receives one entry. */
  @FunctionalInterface
  public interface EntryConsumer {
    void accept(long key, int value);
  }

  /** Calls {@code c} for every entry, in table order (which depends on the keys only). */
  public void forEach(EntryConsumer c) {
    for (int i = 0; i < table.length; i += 2) {
      if (table[i + 1] != MISSING) {
        c.accept(table[i], (int) table[i + 1]);
      }
    }
  }

  /** The keys, in no particular order. */
  public long[] keys() {
    long[] out = new long[size];
    int n = 0;
    for (int i = 0; i < table.length; i += 2) {
      if (table[i + 1] != MISSING) {
        out[n++] = table[i];
      }
    }
    return out;
  }
}
