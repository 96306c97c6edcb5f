package io.streamrec.embedding;

import io.streamrec.gpu.Floats;

/**
 * The batch bookkeeping both stores share: at most one {@link StoreBatch} open at a time, the
 * batch's calls handed to the store's own {@code prepareKeys}, {@code slabOf}, {@code
 * markRowsUpdated} and {@code releaseBatch}, which nothing outside a batch can reach.
 */
abstract sealed class BatchedStore implements EmbeddingStore
    permits InMemoryEmbeddingStore, TieredEmbeddingStore {
  /** The batch begun and not yet closed, if any. */
  private StoreBatch openBatch;

  private final StoreBatch.Operations operations =
      new StoreBatch.Operations() {
        @Override
        public PreparedKeys prepare(int table, long[] keys, int count) {
          return prepareKeys(table, keys, count);
        }

        @Override
        public Floats slab(int table) {
          return slabOf(table);
        }

        @Override
        public void markUpdated(int table, PreparedKeys prepared) {
          markRowsUpdated(table, prepared);
        }

        @Override
        public void release() {
          openBatch = null;
          releaseBatch();
        }
      };

  @Override
  public final StoreBatch beginBatch() {
    checkUsable();
    if (openBatch != null) {
      throw new IllegalStateException(
          "a batch is open on this store; close it before beginning another");
    }
    openBatch = new StoreBatch(operations, tables().size());
    return openBatch;
  }

  /** Throws if a batch is open: what must happen between batches (a snapshot) cannot. */
  final void requireNoBatch(String what) {
    if (openBatch != null) {
      throw new IllegalStateException("cannot " + what + " inside a batch: close the batch first");
    }
  }

  /** Throws if the store cannot take calls (closed). */
  abstract void checkUsable();

  abstract PreparedKeys prepareKeys(int table, long[] keys, int count);

  abstract Floats slabOf(int table);

  abstract void markRowsUpdated(int table, PreparedKeys prepared);

  abstract void releaseBatch();
}
