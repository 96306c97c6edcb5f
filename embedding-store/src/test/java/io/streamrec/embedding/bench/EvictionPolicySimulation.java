package io.streamrec.embedding.bench;

import io.streamrec.common.LongIntHashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Locale;

/**
 * Hit rates of eviction policies for the hot tier on the benchmark's traffic: Zipf(1.05) batches of
 * 4096 keys, each batch deduplicated (one lookup per distinct key, as {@code prepare} counts), the
 * batch's rows pinned while it is placed, the hot tier a share of the ids. Compares CLOCK with new
 * rows entering unreferenced (the store's choice), CLOCK with new rows entering referenced, and
 * exact LRU. Hit rates only: the cost of a hit is what {@link TieredStoreBenchmark} measures (CLOCK
 * sets a bit; LRU would relink a list node on every hit).
 *
 * <p>Run (after {@code mvn -B -o -q -pl embedding-store -am test-compile}):
 *
 * <pre>
 * java -Xmx4g -cp embedding-store/target/test-classes:embedding-store/target/classes:gpu-ops/target/classes:schemas/target/classes:$(cat embedding-store/target/bench.cp) \
 *     io.streamrec.embedding.bench.EvictionPolicySimulation [ids] [hotPercent] [batches]
 * </pre>
 */
public final class EvictionPolicySimulation {
  private EvictionPolicySimulation() {}

  public static void main(String[] args) {
    int ids = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
    int hotPercent = args.length > 1 ? Integer.parseInt(args[1]) : 10;
    int batches = args.length > 2 ? Integer.parseInt(args[2]) : 4_000;
    int capacity = (int) ((long) ids * hotPercent / 100);
    ZipfKeys keys =
        new ZipfKeys(ids, TieredStoreBenchmark.ZIPF_S, 512, TieredStoreBenchmark.BATCH, 7);
    System.out.printf(
        Locale.ROOT,
        "Zipf(%.2f) over %,d ids, hot tier %,d rows (%d%%), %,d batches of %d keys "
            + "(%.0f distinct each)%n",
        TieredStoreBenchmark.ZIPF_S,
        ids,
        capacity,
        hotPercent,
        batches,
        TieredStoreBenchmark.BATCH,
        keys.distinctPerBatch());
    for (Policy p :
        new Policy[] {new Clock(capacity, false), new Clock(capacity, true), new Lru(capacity)}) {
      long lookups = 0, hits = 0;
      // the first pass over the batches warms the tier up; the second is measured
      for (int b = 0; b < 2 * batches; b++) {
        long[] d = keys.distinct[b % keys.distinct.length];
        int h = p.batch(d);
        if (b >= batches) {
          lookups += d.length;
          hits += h;
        }
      }
      System.out.printf(Locale.ROOT, "  %-36s hit rate %.4f%n", p.name(), (double) hits / lookups);
    }
  }

  interface Policy {
    String name();

    /** Looks up a batch's distinct ids, placing the misses; returns the hits. */
    int batch(long[] ids);
  }

  /** CLOCK over slots, as {@code HotTier} does it. */
  static final class Clock implements Policy {
    final int capacity;
    final boolean insertReferenced;
    final LongIntHashMap index;
    final long[] keyOf;
    final boolean[] ref;
    final int[] pinnedAt;
    int batch;
    int used;
    int hand;

    Clock(int capacity, boolean insertReferenced) {
      this.capacity = capacity;
      this.insertReferenced = insertReferenced;
      this.index = new LongIntHashMap(capacity);
      this.keyOf = new long[capacity];
      this.ref = new boolean[capacity];
      this.pinnedAt = new int[capacity];
    }

    @Override
    public String name() {
      return "CLOCK, new rows " + (insertReferenced ? "referenced" : "unreferenced");
    }

    @Override
    public int batch(long[] ids) {
      batch++;
      int hits = 0;
      long[] misses = new long[ids.length];
      int m = 0;
      for (long id : ids) {
        int s = index.get(id);
        if (s >= 0) {
          hits++;
          ref[s] = true;
          pinnedAt[s] = batch;
        } else {
          misses[m++] = id;
        }
      }
      for (int i = 0; i < m; i++) {
        int s;
        if (used < capacity) {
          s = used++;
        } else {
          while (true) {
            int h = hand;
            hand = (hand + 1) % capacity;
            if (pinnedAt[h] == batch) {
              continue;
            }
            if (ref[h]) {
              ref[h] = false;
            } else {
              s = h;
              break;
            }
          }
          index.remove(keyOf[s]);
        }
        keyOf[s] = misses[i];
        ref[s] = insertReferenced;
        pinnedAt[s] = batch;
        index.put(misses[i], s);
      }
      return hits;
    }
  }

  /** Exact LRU: an access-ordered map. */
  static final class Lru implements Policy {
    final int capacity;
    final LinkedHashMap<Long, Boolean> rows;

    Lru(int capacity) {
      this.capacity = capacity;
      this.rows = new LinkedHashMap<>(capacity * 2, 0.75f, true);
    }

    @Override
    public String name() {
      return "LRU";
    }

    @Override
    public int batch(long[] ids) {
      int hits = 0;
      long[] misses = new long[ids.length];
      int m = 0;
      for (long id : ids) {
        if (rows.get(id) != null) {
          hits++;
        } else {
          misses[m++] = id;
        }
      }
      for (int i = 0; i < m; i++) {
        if (rows.size() >= capacity) {
          // the eldest rows were not used by this batch (its hits are the newest)
          Iterator<Long> it = rows.keySet().iterator();
          it.next();
          it.remove();
        }
        rows.put(misses[i], Boolean.TRUE);
      }
      return hits;
    }
  }
}
