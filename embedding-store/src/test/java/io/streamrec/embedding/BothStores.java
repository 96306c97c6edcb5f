package io.streamrec.embedding;

import io.streamrec.gpu.CpuBackend;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Stream;

/** Both stores over the same tables, for tests that hold of either: a maker per store by name. */
final class BothStores {
  private BothStores() {}

  /** The in-memory store, and the tiered store working under {@code dir}/{@code name}. */
  static Stream<Function<String, EmbeddingStore>> of(Path dir, List<TableConfig> tables) {
    return Stream.of(
        name -> new InMemoryEmbeddingStore(tables),
        name ->
            TieredEmbeddingStore.create(
                TieredStoreConfig.of(dir.resolve(name)), tables, new CpuBackend()));
  }
}
