package io.streamrec.serving.internal;

import io.streamrec.common.LongIntHashMap;
import java.util.Arrays;

/**
 * One table of a replica's model: ids to rows of a fixed width, the rows packed into float chunks
 * and found through a primitive {@link LongIntHashMap} (id to slot). A row costs its floats and one
 * index entry, with no object per row: a {@code HashMap<Long, float[]>} spends a node, a boxed key
 * and an array header on each, about as much again as the 16 floats of a default row, and gives the
 * collector millions of objects to trace. The benchmark {@code RowTableBench} in this module's
 * tests measures both.
 *
 * <p>Slots freed by removals are reused before new ones are taken. Rows live in chunks of about
 * {@link #CHUNK_FLOATS} floats (a power of two of rows), so growing never copies the rows already
 * held and no single array bounds the table. A chunk stays well under half of G1's smallest region
 * (1 MiB): a larger array is "humongous", gets whole regions of its own, and wastes up to nearly
 * one region each. The width is fixed when the table is made (the replica gives the spec's); a row
 * of another width is refused. Not thread-safe: the replica guards it with its lock.
 */
final class RowTable {
  /** Floats per chunk at most: 256 KiB, a quarter of G1's smallest region. */
  static final int CHUNK_FLOATS = 1 << 16;

  private static final int INITIAL_INDEX = 1024;

  private final int width;

  /** Rows per chunk is {@code 1 << chunkShift}. */
  private final int chunkShift;

  private final int chunkMask;
  private final LongIntHashMap index = new LongIntHashMap(INITIAL_INDEX);
  private float[][] chunks = new float[0][];

  /** Slots in use or freed: the next new slot. */
  private int slots;

  /** Freed slots, reused last-freed first. */
  private int[] free = new int[16];

  private int freeCount;

  RowTable(int width) {
    if (width < 1) {
      throw new IllegalArgumentException("row width must be >= 1, got " + width);
    }
    this.width = width;
    this.chunkShift =
        31 - Integer.numberOfLeadingZeros(Math.max(1, CHUNK_FLOATS / width)); // floor(log2)
    this.chunkMask = (1 << chunkShift) - 1;
  }

  /** Rows in one chunk. */
  int chunkRows() {
    return 1 << chunkShift;
  }

  int width() {
    return width;
  }

  int size() {
    return index.size();
  }

  /** Chunks allocated: one for every {@link #chunkRows()} slots taken, the last one partly used. */
  int chunks() {
    return (int) (((long) slots + chunkMask) >>> chunkShift);
  }

  /** Sets the row of {@code id} to {@code values} (exactly {@link #width()} of them). */
  void put(long id, float[] values) {
    if (values.length != width) {
      throw new IllegalArgumentException(
          "a row of " + values.length + " values in a table of width " + width);
    }
    int slot = index.get(id);
    if (slot == LongIntHashMap.MISSING) {
      slot = freeCount > 0 ? free[--freeCount] : newSlot();
      index.put(id, slot);
    }
    System.arraycopy(values, 0, chunks[slot >>> chunkShift], (slot & chunkMask) * width, width);
  }

  private int newSlot() {
    if (slots == Integer.MAX_VALUE) {
      throw new IllegalStateException("a table of " + slots + " rows is full");
    }
    int chunk = slots >>> chunkShift;
    if (chunk == chunks.length) {
      chunks = Arrays.copyOf(chunks, Math.max(16, 2 * chunks.length));
    }
    if (chunks[chunk] == null) {
      chunks[chunk] = new float[width << chunkShift];
    }
    return slots++;
  }

  /** True when the table holds a row of {@code id}. */
  boolean contains(long id) {
    return index.get(id) != LongIntHashMap.MISSING;
  }

  /** Removes the row of {@code id}; false when there was none. */
  boolean remove(long id) {
    int slot = index.remove(id);
    if (slot == LongIntHashMap.MISSING) {
      return false;
    }
    if (freeCount == free.length) {
      free = Arrays.copyOf(free, 2 * free.length);
    }
    free[freeCount++] = slot;
    return true;
  }

  /** Copies the row of {@code id} into {@code out} at {@code offset}; false when there is none. */
  boolean read(long id, float[] out, int offset) {
    int slot = index.get(id);
    if (slot == LongIntHashMap.MISSING) {
      return false;
    }
    System.arraycopy(chunks[slot >>> chunkShift], (slot & chunkMask) * width, out, offset, width);
    return true;
  }

  /** The row of {@code id} as a new array, or null. */
  float[] get(long id) {
    float[] out = new float[width];
    return read(id, out, 0) ? out : null;
  }
}
