package io.streamrec.gpu.internal.cuda;

import java.util.Arrays;

/**
 * Splits the rows of a launch that writes whole rows by slot ({@code scatterRows}, {@code
 * rowwiseAdagrad}) into runs in which no slot repeats, on the host, before the launch.
 *
 * <p>One thread (or one warp) per input row writes its slot's row; two rows with the same slot in
 * one launch would race: the copy that lands last is whichever the scheduler ran last, and two
 * Adagrad updates of one row would both read the old accumulator and one would be lost. The CPU
 * backend applies the rows one after the other, in input order. Launching each run as its own
 * kernel, in order on the one stream, gives exactly that: within a run the slots are distinct, and
 * a later run starts after the earlier one has finished. The runs are maximal (a run ends just
 * before the first row whose slot is already in it), so input with distinct slots, which is what
 * the embedding store and the model pass, is one run and one launch, as before.
 *
 * <p>The check is one pass with an open-addressing set of the current run's slots; a new run
 * empties the set by moving to the next stamp, so the pass costs O(n) whatever the number of runs.
 * Scratch arrays are reused between calls; not thread-safe.
 */
public final class DistinctRuns {
  /** Slots of the current run, valid where {@code stamps[h] == stamp}. */
  private int[] slots = new int[64];

  private int[] stamps = new int[64];
  private int stamp;
  private int[] ends = new int[4];
  private int runs;

  /**
   * Splits {@code keys[from, from + n)} into runs; afterwards run {@code r < }{@link #runs()}
   * covers positions {@code [}{@link #start}{@code (r), }{@link #end}{@code (r))} (relative to
   * {@code from}), in input order, and holds no key twice.
   */
  public void split(int[] keys, int from, int n) {
    runs = 0;
    if (n <= 0) {
      return;
    }
    int capacity = Integer.highestOneBit(Math.max(2 * n - 1, 1)) << 1;
    if (slots.length < capacity) {
      slots = new int[capacity];
      stamps = new int[capacity];
      stamp = 0;
    }
    int mask = slots.length - 1;
    nextStamp();
    for (int i = 0; i < n; i++) {
      int k = keys[from + i];
      int h = mix(k) & mask;
      while (stamps[h] == stamp && slots[h] != k) {
        h = (h + 1) & mask;
      }
      if (stamps[h] == stamp) {
        // k is already in this run: the run ends before i, and i starts the next one
        addEnd(i);
        nextStamp();
        h = mix(k) & mask;
      }
      stamps[h] = stamp;
      slots[h] = k;
    }
    addEnd(n);
  }

  /** Number of runs of the last {@link #split}; 0 when it had no rows. */
  public int runs() {
    return runs;
  }

  /** First position of run {@code r}. */
  public int start(int r) {
    return r == 0 ? 0 : ends[r - 1];
  }

  /** One past the last position of run {@code r}. */
  public int end(int r) {
    return ends[r];
  }

  private void addEnd(int end) {
    if (runs == ends.length) {
      ends = Arrays.copyOf(ends, 2 * ends.length);
    }
    ends[runs++] = end;
  }

  private void nextStamp() {
    if (stamp == Integer.MAX_VALUE) {
      Arrays.fill(stamps, 0);
      stamp = 0;
    }
    stamp++;
  }

  /** Spreads consecutive slots over the table (the multiplier of Fibonacci hashing). */
  private static int mix(int k) {
    int h = k * 0x9E3779B9;
    return h ^ (h >>> 16);
  }
}
