package io.streamrec.embedding.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.streamrec.embedding.StoreException;
import io.streamrec.embedding.StoreLayoutException;
import io.streamrec.embedding.TableConfig;
import io.streamrec.embedding.TieredStoreConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RocksDbColdTierTest {
  /**
   * RocksDB appends an edit to its MANIFEST at every flush and compaction and, by default, starts a
   * new one only past 1 GiB; every checkpoint copies it whole. A soak run saw it grow by about 1 KB
   * a checkpoint (26 KB to 178 KB in 20 minutes) and the trainer's checkpoint with it, the model
   * constant. Here 400 snapshots of a small table (200 KB of MANIFEST by default) keep it under the
   * bound.
   */
  @Test
  void theManifestStaysBoundedOverManySnapshots(@TempDir Path dir) throws Exception {
    TableConfig table = new TableConfig("user", 4, 0, 100, 1, 60_000, 0.01f);
    long largest = 0;
    try (RocksDbColdTier tier =
        new RocksDbColdTier(dir.resolve("db"), List.of(table), TieredStoreConfig.of(dir))) {
      byte[] value = new byte[RocksDbColdTier.valueBytes(4)];
      for (int i = 0; i < 400; i++) {
        try (RocksDbColdTier.Batch b = tier.batch()) {
          b.putRow(0, i % 50, value);
          b.putSeen(0, i, i % 50);
          tier.write(b);
        }
        Path cut = dir.resolve("cut-" + i);
        tier.checkpoint(cut);
        largest = Math.max(largest, manifestBytes(cut));
        io.streamrec.common.Directories.deleteRecursively(cut);
      }
    }
    assertThat(largest)
        .as("the largest MANIFEST a snapshot copied")
        .isPositive()
        .isLessThanOrEqualTo(2 * RocksDbColdTier.MAX_MANIFEST_BYTES);
  }

  /**
   * A restore opens a database that must be there: a directory without one was opened as a new,
   * empty database (every row at its initial values), and is refused now, nothing created in it.
   */
  @Test
  void anExistingDatabaseIsNeverCreated(@TempDir Path dir) throws Exception {
    TableConfig table = new TableConfig("user", 4, 0, 100, 1, 0, 0.01f);
    Path db = Files.createDirectories(dir.resolve("db"));

    assertThatThrownBy(
            () -> new RocksDbColdTier(db, List.of(table), TieredStoreConfig.of(dir), true))
        .isInstanceOf(StoreException.class)
        .hasMessageContaining("it holds no database (CURRENT is missing)");
    try (Stream<Path> files = Files.list(db)) {
      assertThat(files).isEmpty();
    }
  }

  /**
   * A database RocksDB cannot read (here CURRENT names a MANIFEST that is not there) was reported
   * as "saved with embedding tables []", a changed model configuration; it is damaged files, said
   * with RocksDB's own reason.
   */
  @Test
  void anUnreadableDatabaseIsDamagedNotAnotherLayout(@TempDir Path dir) throws Exception {
    TableConfig table = new TableConfig("user", 4, 0, 100, 1, 0, 0.01f);
    Path db = dir.resolve("db");
    try (RocksDbColdTier tier =
        new RocksDbColdTier(db, List.of(table), TieredStoreConfig.of(dir))) {
      try (RocksDbColdTier.Batch b = tier.batch()) {
        b.putRow(0, 1, new byte[RocksDbColdTier.valueBytes(4)]);
        tier.write(b);
      }
    }
    Files.writeString(db.resolve("CURRENT"), "MANIFEST-999999\n");

    assertThatThrownBy(
            () -> new RocksDbColdTier(db, List.of(table), TieredStoreConfig.of(dir), true))
        .isInstanceOf(StoreException.class)
        .isNotInstanceOf(StoreLayoutException.class)
        .hasMessageStartingWith("cannot open the cold tier in " + db + ": ")
        .hasMessageContaining("MANIFEST-999999");
  }

  private static long manifestBytes(Path snapshot) throws Exception {
    try (Stream<Path> s = Files.list(snapshot)) {
      long total = 0;
      for (Path f : s.filter(p -> p.getFileName().toString().startsWith("MANIFEST-")).toList()) {
        total += Files.size(f);
      }
      return total;
    }
  }
}
