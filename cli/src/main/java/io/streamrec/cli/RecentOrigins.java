package io.streamrec.cli;

import io.streamrec.common.FeatureIds;
import io.streamrec.common.LongIntHashMap;
import io.streamrec.common.SplitMix64;

/**
 * The newest {@code capacity} distinct origins of dead letters (topic, partition and offset of the
 * record each was made of), to tell the ones a restore writes again from new ones. Older origins
 * are forgotten, so what a followed topic takes stays bounded however long it is followed: an
 * origin is kept as a 64-bit hash (about 40 bytes with its place in the set), with a chance of one
 * in about 10^13 per dead letter that a new one is taken for a repeat.
 */
final class RecentOrigins {
  private final long[] ring;
  private final LongIntHashMap kept;
  private int next;
  private int size;
  private boolean forgot;

  RecentOrigins(int capacity) {
    if (capacity < 1) {
      throw new IllegalArgumentException("capacity must be >= 1, got " + capacity);
    }
    ring = new long[capacity];
    kept = new LongIntHashMap(Math.min(capacity, 1 << 16));
  }

  /** Whether {@code origin} is among the newest kept; if not, it is kept now. */
  boolean seenAgain(String topic, int partition, long offset) {
    long h = hash(topic, partition, offset);
    if (kept.containsKey(h)) {
      return true;
    }
    if (size == ring.length) {
      kept.remove(ring[next]);
      forgot = true;
    } else {
      size++;
    }
    ring[next] = h;
    kept.put(h, 0);
    next = next + 1 == ring.length ? 0 : next + 1;
    return false;
  }

  /** Origins kept now. */
  int size() {
    return kept.size();
  }

  /** How many origins are kept at most. */
  int capacity() {
    return ring.length;
  }

  /** Whether an origin was forgotten to keep the newest: repeats further apart are not told. */
  boolean forgot() {
    return forgot;
  }

  private static long hash(String topic, int partition, long offset) {
    return SplitMix64.mix(SplitMix64.mix(FeatureIds.seed(topic) ^ partition) ^ offset);
  }
}
