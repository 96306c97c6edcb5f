package io.streamrec.embedding;

import io.streamrec.gpu.Floats;
import java.nio.file.Path;
import java.util.List;

/**
 * Keys to embedding rows, for a minibatch trainer.
 *
 * <p>The batch protocol: {@link #prepare} the keys of one minibatch per table (deduplicated, a hot
 * slot for each, misses fetched or initialised, the slots pinned); the compute backend reads and
 * updates rows in place in {@link #slab} by slot; {@link #markUpdated} records what changed;
 * {@link #release} unpins the batch. {@link #drainDirty} hands the rows changed since the last drain
 * to the delta publisher, {@link #drainExpired} the ids that expired (tombstones).
 */
public interface EmbeddingStore extends AutoCloseable {

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

  /** Prepares {@code count} keys of one minibatch for {@code table}. */
  PreparedKeys prepare(int table, long[] keys, int count);

  /**
   * The hot slab of a table, in the memory of the compute backend the store was made for: row at
   * slot {@code s} starts at {@code s * rowWidth}. Valid until the next {@link #prepare} of that
   * table (a store may move or grow its slab there).
   */
  Floats slab(int table);

  /** The distinct rows of {@code prepared} were updated by the trainer. */
  void markUpdated(int table, PreparedKeys prepared);

  /** Unpins every row prepared since the last release. */
  void release();

  /** Receives one row's values ({@code dim} floats from {@code offset}). */
  @FunctionalInterface
  interface RowSink {
    void accept(long id, float[] values, int offset, int dim);
  }

  /** Hands at most {@code maxRows} rows changed since they were last drained; returns how many. */
  int drainDirty(int table, int maxRows, RowSink sink);

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
   * empty), outside a batch (after {@link #release}). A store restored from it answers every later
   * call exactly as this one does. Stores that keep no snapshots throw
   * {@link UnsupportedOperationException}.
   */
  default StoreSnapshot snapshot(Path dir) {
    throw new UnsupportedOperationException(getClass().getSimpleName() + " keeps no snapshots");
  }

  @Override
  void close();
}
