package io.streamrec.embedding;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Thousands of random prepare / update / markUpdated / release / drain / expire / read steps, with
 * every answer of the store checked against a plain map of rows kept beside it. Keys are skewed (a
 * few hot, many cold), include ids with the top bit set, and outnumber the initial slab.
 */
class InMemoryEmbeddingStoreRandomizedTest {
  static final int STEPS = 6_000;
  static final int KEY_SPACE = 3_000;

  /** Admission by exact counts: the store counts sightings per id. */
  static final class Model extends ReferenceRows {
    final Map<Long, Integer> sightings = new HashMap<>();

    Model(TableConfig cfg) {
      super(cfg);
    }

    @Override
    boolean admit(long id) {
      if (sightings.merge(id, 1, Integer::sum) >= cfg.admissionThreshold()) {
        sightings.remove(id);
        return true;
      }
      return false;
    }
  }

  @ParameterizedTest(name = "threshold={0}, ttl={1}, seed={2}")
  @CsvSource({"1, 0, 1", "1, 2000, 2", "3, 0, 3", "3, 2000, 4", "2, 300, 5", "5, 5000, 6"})
  void behavesLikeAMapOfRows(int threshold, long ttl, long seed) {
    TableConfig cfg = new TableConfig("item", 3, 2, 1_000, threshold, ttl, 0.1f);
    InMemoryEmbeddingStore store = new InMemoryEmbeddingStore(List.of(cfg));
    Model model = new Model(cfg);
    Random rnd = new Random(seed);
    int w = cfg.rowWidth();

    for (int step = 0; step < STEPS; step++) {
      String at = "seed " + seed + ", step " + step;
      int action = rnd.nextInt(100);
      if (action < 8) {
        long t =
            model.now == Long.MIN_VALUE ? rnd.nextInt(1_000) : model.now + rnd.nextInt(400) - 50;
        store.advanceTo(t);
        model.advanceTo(t);
      } else if (action < 70) {
        int count = 1 + rnd.nextInt(40);
        long[] keys = new long[count + 2];
        for (int i = 0; i < keys.length; i++) {
          keys[i] = key(rnd);
        }
        PreparedKeys p = OpenBatches.of(store).prepare(0, keys, count);
        float[] slab = store.hostSlab(0);
        Set<Long> distinct = new LinkedHashSet<>();
        for (int i = 0; i < count; i++) {
          distinct.add(keys[i]);
          assertThat(p.distinctKeys()[p.rowIndex()[i]]).as(at).isEqualTo(keys[i]);
          assertThat(p.slots()[i]).as(at).isEqualTo(p.distinctSlots()[p.rowIndex()[i]]);
        }
        assertThat(p.distinctCount()).as(at).isEqualTo(distinct.size());
        assertThat(Arrays.stream(p.distinctSlots(), 0, p.distinctCount()).distinct().count())
            .as(at)
            .isEqualTo(distinct.size());
        boolean write = rnd.nextInt(10) < 7;
        for (int d = 0; d < p.distinctCount(); d++) {
          long id = p.distinctKeys()[d];
          int from = p.distinctSlots()[d] * w;
          assertThat(Arrays.copyOfRange(slab, from, from + w))
              .as("%s: row of %d", at, id)
              .containsExactly(model.see(id));
          if (write && rnd.nextBoolean()) {
            for (int j = 0; j < w; j++) {
              slab[from + j] = rnd.nextFloat() * 2 - 1;
            }
            if (model.rows.containsKey(id)) {
              model.rows.put(id, Arrays.copyOfRange(slab, from, from + w));
            }
          }
        }
        if (write && rnd.nextInt(10) < 8) {
          OpenBatches.of(store).markUpdated(0, p);
          for (int d = 0; d < p.distinctCount(); d++) {
            if (model.rows.containsKey(p.distinctKeys()[d])) {
              model.dirty.add(p.distinctKeys()[d]);
            }
          }
        }
        OpenBatches.close(store);
      } else if (action < 80) {
        int maxRows = 1 + rnd.nextInt(30);
        int expected = Math.min(maxRows, model.dirty.size());
        Set<Long> drained = new HashSet<>();
        int n =
            store.drainDirty(
                0,
                maxRows,
                (id, values, offset, dim) -> {
                  assertThat(model.dirty).as("%s: drained %d", at, id).contains(id);
                  assertThat(drained.add(id)).as("%s: %d drained twice", at, id).isTrue();
                  assertThat(Arrays.copyOfRange(values, offset, offset + dim))
                      .as("%s: drained %d", at, id)
                      .containsExactly(Arrays.copyOf(model.rows.get(id), cfg.dim()));
                });
        assertThat(n).as(at).isEqualTo(expected).isEqualTo(drained.size());
        model.dirty.removeAll(drained);
      } else if (action < 88) {
        List<Long> gone = new ArrayList<>();
        int n = store.drainExpired(0, gone::add);
        assertThat(gone).as(at).containsExactlyElementsOf(model.expire());
        assertThat(n).as(at).isEqualTo(gone.size());
      } else {
        long id = key(rnd);
        float[] out = new float[w];
        store.read(0, id, out);
        assertThat(out)
            .as("%s: read %d", at, id)
            .containsExactly(model.rows.getOrDefault(id, model.initial(id)));
      }
      StoreStats stats = store.stats();
      assertThat(stats.rowsHot()).as(at).isEqualTo(model.rows.size());
      assertThat(stats.lookups()).as(at).isEqualTo(model.lookups);
      assertThat(stats.hits()).as(at).isEqualTo(model.hits);
      assertThat(stats.admitted()).as(at).isEqualTo(model.admitted);
      assertThat(stats.expired()).as(at).isEqualTo(model.expired);
    }

    assertThat(model.admitted).as("the run admitted rows").isGreaterThan(100);
    assertThat(model.hits).as("the run had hits").isGreaterThan(100);
    if (ttl > 0) {
      assertThat(model.expired).as("the run expired rows").isPositive();
    }
    Map<Long, float[]> rest = InMemoryEmbeddingStoreTest.drainAll(store, 0);
    assertThat(rest.keySet()).isEqualTo(model.dirty);
    for (long k = 0; k < KEY_SPACE; k++) {
      long id = idOf(k);
      float[] expected = model.rows.getOrDefault(id, model.initial(id));
      assertThat(InMemoryEmbeddingStoreTest.read(store, 0, id))
          .as("final read of %d", id)
          .containsExactly(expected);
    }
  }

  /** Skewed: about a third of lookups go to the 30 hottest keys. */
  private static long key(Random rnd) {
    double u = rnd.nextDouble();
    return idOf((long) (KEY_SPACE * u * u * u));
  }

  /** Spreads small numbers over the whole id space, top bit included. */
  private static long idOf(long k) {
    return k * 0x9E3779B97F4A7C15L;
  }
}
