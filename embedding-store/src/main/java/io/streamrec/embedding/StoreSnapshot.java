package io.streamrec.embedding;

import java.nio.file.Path;

/**
 * What {@link EmbeddingStore#snapshot} wrote.
 *
 * @param dir the snapshot's directory
 * @param files files of the cold tier's checkpoint in it
 * @param filesReused immutable table files taken from the previous snapshot (hard-linked, or copied
 *     where the file system cannot link) instead of from the live database
 * @param bytes bytes of all files of the snapshot, metadata included
 * @param bytesCopied bytes actually copied; the rest are hard links to files that already existed
 * @param writeBackNanos time spent writing stale hot rows back to the cold tier
 * @param coldCheckpointNanos time spent flushing RocksDB and taking its checkpoint (hard links)
 * @param metadataNanos time spent writing the store's own metadata (hot-tier layout, counters)
 */
public record StoreSnapshot(
    Path dir,
    int files,
    int filesReused,
    long bytes,
    long bytesCopied,
    long writeBackNanos,
    long coldCheckpointNanos,
    long metadataNanos) {}
