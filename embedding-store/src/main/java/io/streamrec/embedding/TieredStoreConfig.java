package io.streamrec.embedding;

import java.nio.file.Path;

/**
 * Where and with how much native memory a {@link TieredEmbeddingStore} keeps its cold tier.
 *
 * @param workDir the store's working directory: the cold tier's database ({@code db/}) and the
 *     checkpoints being written ({@code checkpoints/}); disposable, since a store is rebuilt from a
 *     snapshot after a crash, never from this directory
 * @param blockCacheBytes RocksDB block cache shared by all tables (data, index and filter blocks)
 * @param writeBufferBytes RocksDB memtables of all tables together, charged to the block cache
 */
public record TieredStoreConfig(Path workDir, long blockCacheBytes, long writeBufferBytes) {
  /** Block cache by default: enough for the index, the filters and the hottest cold blocks. */
  public static final long DEFAULT_BLOCK_CACHE_BYTES = 128L << 20;

  /** Memtables by default: write-back comes in batches, a few MiB per flush is plenty. */
  public static final long DEFAULT_WRITE_BUFFER_BYTES = 64L << 20;

  private static final long MIN_BYTES = 1L << 20;

  public TieredStoreConfig {
    if (workDir == null) {
      throw new IllegalArgumentException("the store needs a working directory");
    }
    if (blockCacheBytes < MIN_BYTES) {
      throw new IllegalArgumentException(
          "block cache must be >= 1 MiB, got " + blockCacheBytes + " bytes");
    }
    if (writeBufferBytes < MIN_BYTES) {
      throw new IllegalArgumentException(
          "write buffers must be >= 1 MiB, got " + writeBufferBytes + " bytes");
    }
  }

  /** The defaults, in {@code workDir}. */
  public static TieredStoreConfig of(Path workDir) {
    return new TieredStoreConfig(workDir, DEFAULT_BLOCK_CACHE_BYTES, DEFAULT_WRITE_BUFFER_BYTES);
  }
}
