package io.streamrec.embedding;

import java.util.IdentityHashMap;
import java.util.Map;

/**
 * The batch open on each store under test, begun on its first use: lets a test step through batches
 * as a trainer does ({@code of(s).prepare(..)}, ..., {@code close(s)}) without a variable per
 * batch. Not thread-safe; tests run one at a time.
 */
final class OpenBatches {
  private static final Map<EmbeddingStore, StoreBatch> OPEN = new IdentityHashMap<>();

  private OpenBatches() {}

  /** The open batch of {@code store}, begun now if none is. */
  static StoreBatch of(EmbeddingStore store) {
    return OPEN.computeIfAbsent(store, EmbeddingStore::beginBatch);
  }

  /** Closes the open batch of {@code store}, if any. */
  static void close(EmbeddingStore store) {
    StoreBatch b = OPEN.remove(store);
    if (b != null) {
      b.close();
    }
  }
}
