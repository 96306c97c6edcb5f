package io.streamrec.embedding;

import java.nio.file.Path;
import java.util.List;

/**
 * Keys to embedding rows, for a minibatch trainer.
 *
 * <p>A minibatch holds the store through a {@link StoreBatch} from {@link #beginBatch}: it prepares
 * every table's keys (deduplicated, a hot slot for each, misses fetched or initialised, the slots
 * pinned), then takes the slabs the compute backend reads and updates rows in by slot, marks what
 * changed, and closes, which unpins the rows. {@link #drainDirty} hands the rows changed since the
 * last drain to the delta publisher, {@link #drainExpired} the ids that expired (tombstones).
 *
 * <p>The implementations are this module's: a batch's rules hold because only they can make one.
 */
public sealed interface EmbeddingStore extends AutoCloseable permits BatchedStore {

  List<TableConfig> tables();

  /** Index of a table by name; throws {@link IllegalArgumentException} for an unknown name. */
  default int tableIndex(String name) {
    List<TableConfig> tables = tables();
    for (int i = 0; i < tables.size(); i++) {
      if (tables.get(i).name().equals(name)) {
        return i;
      }
    }
    throw new IllegalArgumentException("unknown embedding table '" + name + "'");
  }

  /** Moves the store's event-time clock forward (last-seen times and expiry use it). */
  void advanceTo(long eventTimeMs);

  /**
   * Begins one minibatch; close it when the batch is trained.
   *
   * @throws IllegalStateException while another batch is open
   */
  StoreBatch beginBatch();

  /** Receives one row's values ({@code dim} floats from {@code offset}). */
  @FunctionalInterface
  interface RowSink {
    void accept(long id, float[] values, int offset, int dim);
  }

  /** Hands at most {@code maxRows} rows changed since they were last drained; returns how many. */
  int drainDirty(int table, int maxRows, RowSink sink);

  /**
   * Marks every row of {@code table} in slice {@code slice} of {@code slices} ({@link RowSlices})
   * as changed, so the next {@link #drainDirty} hands it again with its current values; returns how
   * many rows it marked. Between batches only.
   */
  int markSlice(int table, int slice, int slices);

  /** Receives expired ids. */
  @FunctionalInterface
  interface ExpiredSink {
    void accept(long id);
  }

  /** Deletes rows not seen for the table's TTL and reports their ids; returns how many. */
  int drainExpired(int table, ExpiredSink sink);

  /** Reads the current values of a row into {@code out} (the initial values if it has no row). */
  void read(int table, long id, float[] out);

  StoreStats stats();

  /**
   * Writes a consistent snapshot of every table into {@code dir} (created; it must not exist or be
   * empty), outside a batch (no {@link StoreBatch} open). A store restored from it answers every
   * later call exactly as this one does. Stores that keep no snapshots throw {@link
   * UnsupportedOperationException}.
   */
  default StoreSnapshot snapshot(Path dir) {
    throw new UnsupportedOperationException(getClass().getSimpleName() + " keeps no snapshots");
  }

  @Override
  void close();
}
