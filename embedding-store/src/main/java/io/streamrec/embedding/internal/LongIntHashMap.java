package io.streamrec.embedding.internal;

import java.util.Arrays;

/**
 * A map from {@code long} keys to non-negative {@code int} values with open addressing and linear
 * probing: two parallel arrays, no boxing, no per-entry objects. Every {@code long} is a valid key;
 * a slot is empty when its value is {@link #MISSING}. Removal shifts the following entries of the
 * probe run back (Knuth's algorithm R), so no tombstones build up under churn.
 *
 * <p>Keys are spread with the SplitMix64 finaliser, so ids that are already hashes and small
 * sequential ids probe equally well. The table doubles when it is more than {@link #MAX_LOAD}
 * full. Not thread-safe.
 */
public final class LongIntHashMap {
  /** What {@link #get} returns for an absent key, and the value of an empty slot. */
  public static final int MISSING = -1;
  /** Load factor above which the table doubles: short probe runs for linear probing. */
  private static final double MAX_LOAD = 0.5;
  private static final int MIN_CAPACITY = 16;

  private long[] keys;
  private int[] values;
  private int mask;
  private int size;
  private int resizeAt;

  /** A map sized for {@code expected} entries without growing. */
  public LongIntHashMap(int expected) {
    allocate(tableSizeFor(expected));
  }

  private static int tableSizeFor(int expected) {
    long want = Math.max(MIN_CAPACITY, (long) Math.ceil(Math.max(expected, 1) / MAX_LOAD));
    long n = Long.highestOneBit(want - 1) << 1;
    if (n > (1 << 30)) {
      throw new IllegalArgumentException("too many entries for one map: " + expected);
    }
    return (int) n;
  }

  private void allocate(int capacity) {
    keys = new long[capacity];
    values = new int[capacity];
    Arrays.fill(values, MISSING);
    mask = capacity - 1;
    resizeAt = (int) (capacity * MAX_LOAD);
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
    int i = hash(key) & mask;
    int v;
    while ((v = values[i]) != MISSING) {
      if (keys[i] == key) {
        return v;
      }
      i = (i + 1) & mask;
    }
    return MISSING;
  }

  public boolean containsKey(long key) {
    return get(key) != MISSING;
  }

  /** Maps {@code key} to {@code value} ({@code >= 0}); returns the previous value or {@link #MISSING}. */
  public int put(long key, int value) {
    if (value < 0) {
      throw new IllegalArgumentException("values must be >= 0, got " + value);
    }
    int i = hash(key) & mask;
    int v;
    while ((v = values[i]) != MISSING) {
      if (keys[i] == key) {
        values[i] = value;
        return v;
      }
      i = (i + 1) & mask;
    }
    keys[i] = key;
    values[i] = value;
    if (++size > resizeAt) {
      rehash(values.length << 1);
    }
    return MISSING;
  }

  /**
   * Maps {@code key} to {@code value} unless it is present; returns the present value, or
   * {@link #MISSING} when it inserted.
   */
  public int putIfAbsent(long key, int value) {
    int i = hash(key) & mask;
    int v;
    while ((v = values[i]) != MISSING) {
      if (keys[i] == key) {
        return v;
      }
      i = (i + 1) & mask;
    }
    keys[i] = key;
    values[i] = value;
    if (++size > resizeAt) {
      rehash(values.length << 1);
    }
    return MISSING;
  }

  /** Removes {@code key}; returns its value or {@link #MISSING}. */
  public int remove(long key) {
    int i = hash(key) & mask;
    int v;
    while ((v = values[i]) != MISSING) {
      if (keys[i] == key) {
        shiftBack(i);
        size--;
        return v;
      }
      i = (i + 1) & mask;
    }
    return MISSING;
  }

  /** Empties slot {@code gap} and moves later entries of its probe run into the hole. */
  private void shiftBack(int gap) {
    int i = gap;
    while (true) {
      i = (i + 1) & mask;
      if (values[i] == MISSING) {
        break;
      }
      int home = hash(keys[i]) & mask;
      // the entry at i may move to the gap if its home is not in (gap, i] (cyclically)
      boolean stays = gap <= i ? (gap < home && home <= i) : (gap < home || home <= i);
      if (!stays) {
        keys[gap] = keys[i];
        values[gap] = values[i];
        gap = i;
      }
    }
    values[gap] = MISSING;
  }

  /** Removes every entry, keeping the table's size. */
  public void clear() {
    if (size > 0) {
      Arrays.fill(values, MISSING);
      size = 0;
    }
  }

  private void rehash(int capacity) {
    long[] oldKeys = keys;
    int[] oldValues = values;
    allocate(capacity);
    for (int i = 0; i < oldValues.length; i++) {
      if (oldValues[i] != MISSING) {
        long k = oldKeys[i];
        int j = hash(k) & mask;
        while (values[j] != MISSING) {
          j = (j + 1) & mask;
        }
        keys[j] = k;
        values[j] = oldValues[i];
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
    for (int i = 0; i < values.length; i++) {
      if (values[i] != MISSING) {
        c.accept(keys[i], values[i]);
      }
    }
  }

  /** The keys, in no particular order. */
  public long[] keys() {
    long[] out = new long[size];
    int n = 0;
    for (int i = 0; i < values.length; i++) {
      if (values[i] != MISSING) {
        out[n++] = keys[i];
      }
    }
    return out;
  }
}
