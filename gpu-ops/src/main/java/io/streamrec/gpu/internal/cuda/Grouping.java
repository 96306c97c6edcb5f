package io.streamrec.gpu.internal.cuda;

/**
 * Groups the inputs of a scatter-add by their output, on the host: for keys {@code keys[0, n)} it
 * packs, into one int array, {@code key[0, G)} (the distinct keys, ascending), {@code start[0, G]}
 * and {@code items[0, n)} (the input positions of group {@code g} are {@code items[start[g],
 * start[g+1])}, ascending). A kernel then gives each output one thread that adds its inputs in
 * input order: no atomics, and the order of the CPU backend. A counting sort, O(n + max key).
 *
 * <p>Scratch arrays are reused between calls; not thread-safe.
 */
public final class Grouping {
  private int[] count = new int[64];
  private int[] packed = new int[64];
  private int groups;
  private int size;

  /**
   * Groups {@code n} keys, {@code key(i) = keys[from + i]}, each in {@code [0, bound)}; throws
   * {@link IndexOutOfBoundsException} naming {@code what} for a key outside.
   */
  public void build(int[] keys, int from, int n, int bound, String what) {
    int max = -1;
    for (int i = 0; i < n; i++) {
      int k = keys[from + i];
      if (k < 0 || k >= bound) {
        throw new IndexOutOfBoundsException(
            what + "[" + i + "] = " + k + " is outside [0, " + bound + ")");
      }
      max = Math.max(max, k);
    }
    int buckets = max + 1;
    if (count.length < buckets + 1) {
      count = new int[Math.max(buckets + 1, count.length * 2)];
    }
    java.util.Arrays.fill(count, 0, buckets + 1, 0);
    for (int i = 0; i < n; i++) {
      count[keys[from + i] + 1]++;
    }
    int g = 0;
    for (int k = 0; k < buckets; k++) {
      if (count[k + 1] > 0) {
        g++;
      }
    }
    groups = g;
    size = g + g + 1 + n;
    if (packed.length < size) {
      packed = new int[Math.max(size, packed.length * 2)];
    }
    // key and start of each non-empty bucket; count[k] becomes the next free place of bucket k
    int at = 0, pos = 0;
    for (int k = 0; k < buckets; k++) {
      int c = count[k + 1];
      if (c > 0) {
        packed[at] = k;
        packed[g + at] = pos;
        at++;
      }
      count[k] = pos;
      pos += c;
    }
    packed[g + g] = n;
    int items = g + g + 1;
    for (int i = 0; i < n; i++) {
      packed[items + count[keys[from + i]]++] = i;
    }
  }

  /** Number of distinct keys of the last {@link #build}. */
  public int groups() {
    return groups;
  }

  /** The packed grouping: {@link #size()} ints. */
  public int[] packed() {
    return packed;
  }

  public int size() {
    return size;
  }
}
