package io.streamrec.embedding;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The batch handle's rules, on both stores: misuse fails at once, with a reason. */
class StoreBatchTest {
  @TempDir static Path tmp;

  private static final List<TableConfig> TABLES =
      List.of(
          TieredEmbeddingStoreTest.table("user", 16, 1, 0),
          TieredEmbeddingStoreTest.table("item", 16, 1, 0));

  static Stream<Function<String, EmbeddingStore>> stores() {
    return BothStores.of(tmp, TABLES);
  }

  @ParameterizedTest
  @MethodSource("stores")
  void aPrepareAfterASlabIsRefused(Function<String, EmbeddingStore> make) {
    try (EmbeddingStore s = make.apply("after-slab");
        StoreBatch b = s.beginBatch()) {
      b.prepare(0, new long[] {1, 2}, 2);
      b.slab(0);
      assertThatThrownBy(() -> b.prepare(1, new long[] {3}, 1))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("before taking a slab");
    }
  }

  @ParameterizedTest
  @MethodSource("stores")
  void onlyThisBatchsKeysOfThatTableCanBeMarked(Function<String, EmbeddingStore> make) {
    try (EmbeddingStore s = make.apply("foreign")) {
      PreparedKeys earlier;
      try (StoreBatch b = s.beginBatch()) {
        earlier = b.prepare(0, new long[] {1}, 1);
      }
      try (StoreBatch b = s.beginBatch()) {
        PreparedKeys users = b.prepare(0, new long[] {1}, 1);
        assertThatThrownBy(() -> b.markUpdated(0, earlier))
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("not prepared for table 0 in this batch");
        assertThatThrownBy(() -> b.markUpdated(1, users))
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("table 1");
        b.markUpdated(0, users);
      }
      int[] drained = {0};
      s.drainDirty(0, 10, (id, v, o, d) -> drained[0]++);
      assertThat(drained[0]).isEqualTo(1);
    }
  }

  @ParameterizedTest
  @MethodSource("stores")
  void oneBatchAtATimeAndNothingAfterClose(Function<String, EmbeddingStore> make) {
    try (EmbeddingStore s = make.apply("one-at-a-time")) {
      StoreBatch b = s.beginBatch();
      assertThatThrownBy(s::beginBatch)
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("a batch is open");
      assertThatThrownBy(() -> s.snapshot(tmp.resolve("snap-" + s.getClass().getSimpleName())))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("close the batch");
      PreparedKeys p = b.prepare(0, new long[] {5}, 1);
      b.close();
      b.close(); // idempotent
      assertThatThrownBy(() -> b.prepare(0, new long[] {5}, 1))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("closed");
      assertThatThrownBy(() -> b.slab(0))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("closed");
      assertThatThrownBy(() -> b.markUpdated(0, p))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("closed");
      assertThatThrownBy(() -> b.prepare(2, new long[] {5}, 1))
          .isInstanceOf(IndexOutOfBoundsException.class);
      try (StoreBatch next = s.beginBatch()) {
        assertThat(next.prepare(0, new long[] {5}, 1).distinctCount()).isEqualTo(1);
      }
    }
  }
}
