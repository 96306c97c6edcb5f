package io.streamrec.embedding;

import io.streamrec.gpu.CpuBackend;
import java.nio.file.Path;
import java.util.List;

/**
 * Run in a child JVM by {@link TieredEmbeddingStoreTest}: trains a few rows, publishes some,
 * snapshots, changes everything again, and halts without closing anything, as a killed process.
 */
public final class KilledStoreMain {
  static final TableConfig TABLE = TieredEmbeddingStoreTest.table("user", 4, 1, 0);
  static final long ROWS = 10;
  static final int HALT_STATUS = 3;

  private KilledStoreMain() {}

  public static void main(String[] args) {
    TieredEmbeddingStore s =
        TieredEmbeddingStore.create(
            new TieredStoreConfig(Path.of(args[0]), 8 << 20, 4 << 20),
            List.of(TABLE),
            new CpuBackend());
    for (long id = 1; id <= ROWS - 2; id++) {
      TieredEmbeddingStoreTest.update(s, 0, 1f, id);
    }
    s.drainDirty(0, Integer.MAX_VALUE, (id, v, off, dim) -> {});
    TieredEmbeddingStoreTest.update(s, 0, 1f, ROWS - 1);
    TieredEmbeddingStoreTest.update(s, 0, 1f, ROWS);
    s.snapshot(Path.of(args[1]));
    for (long id = 1; id <= ROWS; id++) {
      TieredEmbeddingStoreTest.update(s, 0, 7f, id);
    }
    s.drainDirty(0, Integer.MAX_VALUE, (id, v, off, dim) -> {});
    System.out.println("halting with the store open");
    System.out.flush();
    Runtime.getRuntime().halt(HALT_STATUS);
  }
}
