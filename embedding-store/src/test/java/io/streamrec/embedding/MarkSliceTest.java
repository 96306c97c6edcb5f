package io.streamrec.embedding;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Re-publication by slices: the slices of the id space cover it without overlap, and marking every
 * slice once hands every stored row again with its current values, wherever the row lives (hot, or
 * evicted to the cold tier).
 */
class MarkSliceTest {
  @TempDir static Path tmp;

  /** A hot tier of 64 rows under 500 ids: most rows live only in the cold tier. */
  private static final List<TableConfig> TABLES =
      List.of(TieredEmbeddingStoreTest.table("item", 64, 1, 0));

  static Stream<Function<String, EmbeddingStore>> stores() {
    return BothStores.of(tmp, TABLES);
  }

  @Test
  void slicesCoverTheIdSpaceInOrderWithoutOverlap() {
    SplittableRandom rnd = new SplittableRandom(1);
    for (int slices : new int[] {1, 2, 3, 7, 60, 1 << 20}) {
      assertThat(RowSlices.lowerBound(0, slices)).isZero();
      for (int k = 0; k < 2_000; k++) {
        long id = k < 4 ? new long[] {0, -1, Long.MIN_VALUE, Long.MAX_VALUE}[k] : rnd.nextLong();
        int s = RowSlices.sliceOf(id, slices);
        assertThat(s).isBetween(0, slices - 1);
        assertThat(Long.compareUnsigned(id, RowSlices.lowerBound(s, slices)))
            .as("id %s at or above its slice %d's lower bound", Long.toUnsignedString(id), s)
            .isGreaterThanOrEqualTo(0);
        if (s + 1 < slices) {
          assertThat(Long.compareUnsigned(id, RowSlices.lowerBound(s + 1, slices)))
              .as("id %s below slice %d's lower bound", Long.toUnsignedString(id), s + 1)
              .isLessThan(0);
        }
      }
      int last = slices - 1;
      assertThat(RowSlices.sliceOf(RowSlices.lowerBound(last, slices), slices)).isEqualTo(last);
      assertThat(RowSlices.sliceOf(RowSlices.lowerBound(last, slices) - 1, slices))
          .isEqualTo(Math.max(0, last - 1));
    }
    assertThatThrownBy(() -> RowSlices.sliceOf(1, 0)).isInstanceOf(IllegalArgumentException.class);
  }

  @ParameterizedTest
  @MethodSource("stores")
  void markingEverySliceOnceHandsEveryStoredRowWithItsCurrentValues(
      Function<String, EmbeddingStore> make) {
    SplittableRandom rnd = new SplittableRandom(9);
    try (EmbeddingStore s = make.apply("slices")) {
      TreeSet<Long> ids = new TreeSet<>();
      for (int batch = 0; batch < 25; batch++) {
        long[] keys = new long[20];
        for (int i = 0; i < keys.length; i++) {
          keys[i] = rnd.nextLong();
          ids.add(keys[i]);
        }
        try (StoreBatch b = s.beginBatch()) {
          b.markUpdated(0, b.prepare(0, keys, keys.length));
        }
      }
      s.drainDirty(0, Integer.MAX_VALUE, (id, v, o, d) -> {});
      assertThat(s.drainDirty(0, Integer.MAX_VALUE, (id, v, o, d) -> {}))
          .as("nothing changed since the drain")
          .isZero();

      int slices = 7;
      Map<Long, float[]> handed = new HashMap<>();
      int marked = 0;
      for (int j = 0; j < slices; j++) {
        marked += s.markSlice(0, j, slices);
        int slice = j;
        s.drainDirty(
            0,
            Integer.MAX_VALUE,
            (id, v, o, d) -> {
              assertThat(RowSlices.sliceOf(id, slices)).isEqualTo(slice);
              assertThat(handed.put(id, java.util.Arrays.copyOfRange(v, o, o + d)))
                  .as("row %d handed once", id)
                  .isNull();
            });
      }
      assertThat(handed.keySet()).isEqualTo(ids);
      assertThat(marked).isEqualTo(ids.size());
      float[] current = new float[TABLES.get(0).rowWidth()];
      for (Map.Entry<Long, float[]> e : handed.entrySet()) {
        s.read(0, e.getKey(), current);
        assertThat(e.getValue())
            .containsExactly(java.util.Arrays.copyOf(current, TieredEmbeddingStoreTest.DIM));
      }
    }
  }
}
