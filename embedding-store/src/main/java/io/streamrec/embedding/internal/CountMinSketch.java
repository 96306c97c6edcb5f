package io.streamrec.embedding.internal;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;

/**
 * Approximate sighting counts of ids that have no row yet: the admission filter of a table
 * (Monolith's frequency filter, after Cormode and Muthukrishnan's count-min sketch, "An improved
 * data stream summary", 2005).
 *
 * <p>{@link #DEPTH} rows of {@code width} 16-bit counters; an id maps to one counter per row
 * (double hashing, Kirsch and Mitzenmacher) and its estimate is the smallest of them, so it never
 * under-counts an id since the last aging. Increments are <em>conservative</em> (Estan and
 * Varghese): only the counters at the minimum grow, which keeps over-counting low.
 *
 * <p><b>Aging.</b> After {@code width / 2} increments every counter is halved (TinyLFU's reset,
 * Einziger et al. 2017): counters stay at about one sighting per two counters, so an id never seen
 * rarely reads above zero, and an id must be seen often <em>recently</em> to be admitted; old
 * sightings fade instead of adding up to an admission months later.
 *
 * <p>Everything is a function of the sequence of increments, so a sketch restored with {@link
 * #read} continues exactly like the one {@link #write} saved.
 */
public final class CountMinSketch {
  /** Counters per id: four rows put the chance that all of an id's counters are shared low. */
  public static final int DEPTH = 4;

  /** Largest count a counter holds (they saturate there). */
  public static final int MAX_COUNT = Character.MAX_VALUE;

  private static final int MIN_WIDTH = 1 << 10;
  private static final int MAX_WIDTH = 1 << 24;

  private final int width;
  private final int mask;
  private final char[] counters;
  private final long agingPeriod;
  private long incrementsSinceAging;

  /** A sketch of {@code width} counters per row, rounded up to a power of two in [2^10, 2^24]. */
  public CountMinSketch(int width) {
    int clamped = Math.max(MIN_WIDTH, Math.min(MAX_WIDTH, width));
    int w = Integer.highestOneBit(clamped - 1) << 1;
    this.width = w;
    this.mask = w - 1;
    this.counters = new char[DEPTH * w];
    this.agingPeriod = w / 2;
  }

  /** A sketch for a table that keeps {@code hotCapacityRows} rows hot: two counters per row. */
  public static CountMinSketch forCapacity(int hotCapacityRows) {
    return new CountMinSketch((int) Math.min(MAX_WIDTH, 2L * hotCapacityRows));
  }

  public int width() {
    return width;
  }

  private int index(int row, long h1, long h2) {
    return row * width + (int) ((h1 + row * h2) & mask);
  }

  private static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
    z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
    return z ^ (z >>> 31);
  }

  /** The estimated sightings of {@code id}: never fewer than were counted since the last aging. */
  public int estimate(long id) {
    long h1 = mix(id);
    long h2 = mix(h1) | 1;
    int min = MAX_COUNT;
    for (int r = 0; r < DEPTH; r++) {
      min = Math.min(min, counters[index(r, h1, h2)]);
    }
    return min;
  }

  /** Counts one sighting of {@code id}; returns its estimate including this sighting. */
  public int increment(long id) {
    long h1 = mix(id);
    long h2 = mix(h1) | 1;
    int min = MAX_COUNT;
    for (int r = 0; r < DEPTH; r++) {
      min = Math.min(min, counters[index(r, h1, h2)]);
    }
    int estimate = min;
    if (min < MAX_COUNT) {
      estimate = min + 1;
      for (int r = 0; r < DEPTH; r++) {
        int i = index(r, h1, h2);
        if (counters[i] == min) {
          counters[i] = (char) (min + 1);
        }
      }
    }
    if (++incrementsSinceAging >= agingPeriod) {
      age();
    }
    return estimate;
  }

  private void age() {
    for (int i = 0; i < counters.length; i++) {
      counters[i] = (char) (counters[i] >>> 1);
    }
    incrementsSinceAging = 0;
  }

  public void write(DataOutputStream out) throws IOException {
    out.writeInt(width);
    out.writeLong(incrementsSinceAging);
    int i = 0;
    while (i < counters.length) {
      // runs of zeros are the common case: (zeros, value) pairs keep the file small
      int zeros = 0;
      while (i < counters.length && counters[i] == 0) {
        zeros++;
        i++;
      }
      out.writeInt(zeros);
      out.writeChar(i < counters.length ? counters[i++] : 0);
    }
  }

  public static CountMinSketch read(DataInputStream in) throws IOException {
    CountMinSketch s = new CountMinSketch(in.readInt());
    s.incrementsSinceAging = in.readLong();
    int i = 0;
    while (i < s.counters.length) {
      int zeros = in.readInt();
      if (zeros < 0 || zeros > s.counters.length - i) {
        throw new IOException("corrupt sketch: a run of " + zeros + " zeros at counter " + i);
      }
      i += zeros;
      char c = in.readChar();
      if (i < s.counters.length) {
        s.counters[i++] = c;
      }
    }
    return s;
  }
}
