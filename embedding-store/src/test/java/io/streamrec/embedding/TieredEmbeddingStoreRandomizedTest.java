package io.streamrec.embedding;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrec.embedding.internal.CountMinSketch;
import io.streamrec.gpu.ComputeBackend;
import io.streamrec.gpu.CpuBackend;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Long random sequences of prepare / write through the slab / markUpdated / release / drainDirty /
 * advanceTo + drainExpired / read / snapshot / restore / close + reopen, on a hot tier far smaller
 * than the keys (eviction on nearly every batch), checked step by step against a plain map of rows.
 *
 * <p>Restores are checked twice over: a <em>twin</em> opened from a snapshot runs in lockstep with
 * the original from then on and must answer every call identically (slots, rows, drains, expiries,
 * all counters); later the original is dropped, sometimes without closing it (as a killed process
 * would leave it), and the twin carries on against the reference.
 */
class TieredEmbeddingStoreRandomizedTest {
  static final int STEPS = 3_000;
  static final int KEY_SPACE = 2_000;

  @TempDir Path tmp;
  private int dirs;

  /** Admission through the same count-min sketch the store keeps. */
  static final class Model extends ReferenceRows {
    final CountMinSketch sketch;

    Model(TableConfig cfg) {
      super(cfg);
      this.sketch =
          cfg.admissionThreshold() > 1 ? CountMinSketch.forCapacity(cfg.hotCapacityRows()) : null;
    }

    @Override
    boolean admit(long id) {
      return sketch == null || sketch.increment(id) >= cfg.admissionThreshold();
    }
  }

  @ParameterizedTest(name = "threshold={0}, ttl={1}, capacity={2}, staged={3}, seed={4}")
  @CsvSource({
    "1, 0,    64, false, 11",
    "1, 2000, 64, false, 12",
    "3, 0,    48, false, 13",
    "3, 2000, 64, true,  14",
    "2, 300,  32, false, 15",
    "1, 700,  40, true,  16",
    "5, 5000, 24, false, 17"
  })
  void behavesLikeAMapOfRows(int threshold, long ttl, int capacity, boolean staged, long seed) {
    TableConfig cfg = new TableConfig("item", 3, 2, capacity, threshold, ttl, 0.1f);
    Model model = new Model(cfg);
    Random rnd = new Random(seed);
    int w = cfg.rowWidth();
    TieredEmbeddingStore store = open(cfg, staged, null);
    TieredEmbeddingStore twin = null;
    Path lastSnapshot = null;
    int restores = 0, reopens = 0, snapshots = 0;
    long maxEvicted = 0;

    try {
      for (int step = 0; step < STEPS; step++) {
        String at = "seed " + seed + ", step " + step;
        int action = rnd.nextInt(100);
        if (action < 8) {
          long t =
              model.now == Long.MIN_VALUE ? rnd.nextInt(1_000) : model.now + rnd.nextInt(400) - 50;
          store.advanceTo(t);
          if (twin != null) {
            twin.advanceTo(t);
          }
          model.advanceTo(t);
        } else if (action < 68) {
          int count = 1 + rnd.nextInt(24);
          long[] keys = new long[count + 2];
          for (int i = 0; i < keys.length; i++) {
            keys[i] = key(rnd);
          }
          PreparedKeys p = OpenBatches.of(store).prepare(0, keys, count);
          PreparedKeys q = twin == null ? null : OpenBatches.of(twin).prepare(0, keys, count);
          float[] slab = CpuBackend.array(OpenBatches.of(store).slab(0));
          float[] twinSlab = twin == null ? null : CpuBackend.array(OpenBatches.of(twin).slab(0));
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
          if (q != null) {
            assertThat(q.slots()).as("%s: twin's slots", at).isEqualTo(p.slots());
            assertThat(q.distinctSlots()).as("%s: twin's slots", at).isEqualTo(p.distinctSlots());
            assertThat(q.distinctKeys()).as(at).isEqualTo(p.distinctKeys());
          }
          boolean write = rnd.nextInt(10) < 7;
          boolean mark = write || rnd.nextInt(10) == 0;
          for (int d = 0; d < p.distinctCount(); d++) {
            long id = p.distinctKeys()[d];
            int from = p.distinctSlots()[d] * w;
            float[] expected = model.see(id);
            assertThat(Arrays.copyOfRange(slab, from, from + w))
                .as("%s: row of %d", at, id)
                .containsExactly(expected);
            if (twinSlab != null) {
              assertThat(Arrays.copyOfRange(twinSlab, from, from + w))
                  .as("%s: twin's row of %d", at, id)
                  .containsExactly(expected);
            }
            if (write && rnd.nextBoolean()) {
              for (int j = 0; j < w; j++) {
                slab[from + j] = rnd.nextFloat() * 2 - 1;
              }
              if (twinSlab != null) {
                System.arraycopy(slab, from, twinSlab, from, w);
              }
              if (model.rows.containsKey(id)) {
                model.rows.put(id, Arrays.copyOfRange(slab, from, from + w));
              }
            }
          }
          if (mark) {
            OpenBatches.of(store).markUpdated(0, p);
            if (twin != null) {
              OpenBatches.of(twin).markUpdated(0, q);
            }
            for (int d = 0; d < p.distinctCount(); d++) {
              if (model.rows.containsKey(p.distinctKeys()[d])) {
                model.dirty.add(p.distinctKeys()[d]);
              }
            }
          }
          OpenBatches.close(store);
          if (twin != null) {
            OpenBatches.close(twin);
          }
        } else if (action < 76) {
          int maxRows = 1 + rnd.nextInt(30);
          List<Long> drainedOrder = new ArrayList<>();
          Map<Long, float[]> drained = drain(store, maxRows, drainedOrder, at);
          int expected = Math.min(maxRows, model.dirty.size());
          assertThat(drained).as(at).hasSize(expected);
          List<Long> sortedDirty = new ArrayList<>(model.dirty);
          sortedDirty.sort(null);
          assertThat(drainedOrder)
              .as("%s: the smallest dirty ids, in order", at)
              .containsExactlyElementsOf(sortedDirty.subList(0, expected));
          drained.forEach(
              (id, values) ->
                  assertThat(values)
                      .as("%s: drained %d", at, id)
                      .containsExactly(Arrays.copyOf(model.rows.get(id), cfg.dim())));
          if (twin != null) {
            List<Long> twinOrder = new ArrayList<>();
            Map<Long, float[]> twinDrained = drain(twin, maxRows, twinOrder, at);
            assertThat(twinOrder).as("%s: twin's drain", at).isEqualTo(drainedOrder);
            twinDrained.forEach(
                (id, values) -> assertThat(values).containsExactly(drained.get(id)));
          }
          model.dirty.removeAll(drained.keySet());
        } else if (action < 84) {
          List<Long> gone = new ArrayList<>();
          int n = store.drainExpired(0, gone::add);
          assertThat(gone).as(at).containsExactlyElementsOf(model.expire());
          assertThat(n).as(at).isEqualTo(gone.size());
          if (twin != null) {
            List<Long> twinGone = new ArrayList<>();
            twin.drainExpired(0, twinGone::add);
            assertThat(twinGone).as("%s: twin's expiry", at).isEqualTo(gone);
          }
        } else if (action < 95) {
          long id = key(rnd);
          float[] out = new float[w];
          store.read(0, id, out);
          assertThat(out)
              .as("%s: read %d", at, id)
              .containsExactly(model.rows.getOrDefault(id, model.initial(id)));
          if (twin != null) {
            float[] twinOut = new float[w];
            twin.read(0, id, twinOut);
            assertThat(twinOut).as("%s: twin's read of %d", at, id).containsExactly(out);
          }
        } else if (action < 97) {
          // a checkpoint: snapshot, and sometimes open a twin that must follow the original exactly
          Path dir = newDir("snap");
          StoreSnapshot snap = store.snapshot(dir);
          snapshots++;
          assertThat(snap.files()).as(at).isPositive();
          lastSnapshot = dir;
          if (twin == null && rnd.nextBoolean()) {
            twin = TieredEmbeddingStore.open(config(), dir, List.of(cfg), backend(staged));
            assertThat(twin.stats()).as("%s: restored counters", at).isEqualTo(store.stats());
          }
        } else if (action < 99) {
          if (twin != null) {
            // the original goes away, sometimes without a clean close (a killed process)
            if (rnd.nextBoolean()) {
              store.close();
            } else {
              abandoned.add(store);
            }
            store = twin;
            twin = null;
            restores++;
          }
        } else if (twin == null) {
          // a clean restart: snapshot, close, reopen in the same working directory
          Path dir = newDir("snap");
          store.snapshot(dir);
          StoreStats before = store.stats();
          Path work = store.workDir();
          store.close();
          store =
              TieredEmbeddingStore.open(
                  new TieredStoreConfig(work, 8 << 20, 4 << 20),
                  dir,
                  List.of(cfg),
                  backend(staged));
          assertThat(store.stats()).as("%s: counters after reopening", at).isEqualTo(before);
          lastSnapshot = dir;
          reopens++;
        }
        StoreStats stats = store.stats();
        assertThat(stats.rowsHot() + stats.rowsCold())
            .as("%s: rows stored", at)
            .isEqualTo(model.rows.size());
        assertThat(stats.rowsHot()).as(at).isLessThanOrEqualTo(capacity);
        assertThat(stats.lookups()).as(at).isEqualTo(model.lookups);
        assertThat(stats.hits()).as(at).isLessThanOrEqualTo(stats.lookups());
        assertThat(stats.admitted()).as(at).isEqualTo(model.admitted);
        assertThat(stats.expired()).as(at).isEqualTo(model.expired);
        if (twin != null) {
          assertThat(twin.stats()).as("%s: twin's counters", at).isEqualTo(stats);
        }
        maxEvicted = Math.max(maxEvicted, stats.evicted());
      }

      assertThat(model.admitted).as("the run admitted rows").isGreaterThan(50);
      assertThat(maxEvicted).as("the run evicted rows").isGreaterThan(100);
      assertThat(snapshots).as("the run took snapshots").isPositive();
      assertThat(restores + reopens).as("the run restored").isPositive();
      if (ttl > 0) {
        assertThat(model.expired).as("the run expired rows").isPositive();
      }
      assertThat(lastSnapshot).isNotNull();
      Map<Long, float[]> rest = drain(store, Integer.MAX_VALUE, new ArrayList<>(), "final");
      assertThat(rest.keySet()).isEqualTo(model.dirty);
      for (long k = 0; k < KEY_SPACE; k++) {
        long id = idOf(k);
        float[] expected = model.rows.getOrDefault(id, model.initial(id));
        float[] out = new float[w];
        store.read(0, id, out);
        assertThat(out).as("seed %d: final read of %d", seed, id).containsExactly(expected);
      }
    } finally {
      store.close();
      if (twin != null) {
        twin.close();
      }
      abandoned.forEach(TieredEmbeddingStore::close);
    }
  }

  private final List<TieredEmbeddingStore> abandoned = new ArrayList<>();

  private TieredEmbeddingStore open(TableConfig cfg, boolean staged, Path snapshot) {
    return snapshot == null
        ? TieredEmbeddingStore.create(config(), List.of(cfg), backend(staged))
        : TieredEmbeddingStore.open(config(), snapshot, List.of(cfg), backend(staged));
  }

  private TieredStoreConfig config() {
    return new TieredStoreConfig(newDir("work"), 8 << 20, 4 << 20);
  }

  private Path newDir(String prefix) {
    return tmp.resolve(prefix + "-" + (dirs++));
  }

  private static Map<Long, float[]> drain(
      EmbeddingStore s, int maxRows, List<Long> order, String at) {
    Map<Long, float[]> out = new HashMap<>();
    int n =
        s.drainDirty(
            0,
            maxRows,
            (id, values, offset, dim) -> {
              assertThat(out).as("%s: %d drained twice", at, id).doesNotContainKey(id);
              out.put(id, Arrays.copyOfRange(values, offset, offset + dim));
              order.add(id);
            });
    assertThat(n).as(at).isEqualTo(out.size());
    return out;
  }

  /**
   * The CPU backend, or the same behind a proxy that is no {@link CpuBackend}: the store then moves
   * rows the way it does for a device (staging buffers, upload + scatter, gather + download).
   */
  static ComputeBackend backend(boolean staged) {
    CpuBackend cpu = new CpuBackend();
    if (!staged) {
      return cpu;
    }
    return (ComputeBackend)
        Proxy.newProxyInstance(
            ComputeBackend.class.getClassLoader(),
            new Class<?>[] {ComputeBackend.class},
            (proxy, method, args) -> {
              try {
                return method.invoke(cpu, args);
              } catch (InvocationTargetException e) {
                throw e.getCause();
              }
            });
  }

  /** Skewed: about a third of lookups go to the 20 hottest keys. */
  private static long key(Random rnd) {
    double u = rnd.nextDouble();
    return idOf((long) (KEY_SPACE * u * u * u));
  }

  /** Spreads small numbers over the whole id space, top bit included. */
  static long idOf(long k) {
    return k * 0x9E3779B97F4A7C15L;
  }
}
