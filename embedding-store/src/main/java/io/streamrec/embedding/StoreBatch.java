package io.streamrec.embedding;

import io.streamrec.gpu.Floats;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * One minibatch's hold on an {@link EmbeddingStore}, from {@link EmbeddingStore#beginBatch} to
 * {@link #close}. The order a trainer must follow is enforced here rather than left to comments:
 *
 * <pre>{@code
 * try (StoreBatch batch = store.beginBatch()) {
 *   PreparedKeys users = batch.prepare(userTable, userKeys, n);   // 1. every table's keys
 *   PreparedKeys items = batch.prepare(itemTable, itemKeys, m);
 *   Floats userSlab = batch.slab(userTable);                      // 2. then the slabs
 *   ... forward, backward, update rows in place by slot ...
 *   batch.markUpdated(userTable, users);                          // 3. what changed
 * }                                                               // 4. the rows are unpinned
 * }</pre>
 *
 * <ul>
 *   <li>{@link #prepare} is refused once a slab was taken: a store may move or grow a slab while it
 *       prepares, so a slab taken earlier could point at freed memory.
 *   <li>{@link #markUpdated} takes only what this batch's {@link #prepare} returned for that table:
 *       a row is marked through its slot, and another batch's slots are not pinned.
 *   <li>Nothing works after {@link #close}; a store has at most one batch open, and refuses {@link
 *       EmbeddingStore#snapshot} while it is.
 * </ul>
 *
 * <p>Not thread-safe, like the store: the trainer thread holds it.
 */
public final class StoreBatch implements AutoCloseable {
  /** What a store does for a batch; each store implements it privately. */
  interface Operations {
    PreparedKeys prepare(int table, long[] keys, int count);

    Floats slab(int table);

    void markUpdated(int table, PreparedKeys prepared);

    /** Unpins every row of the batch and ends it. */
    void release();
  }

  private enum Phase {
    PREPARING,
    TRAINING,
    CLOSED
  }

  private final Operations store;
  private final int tables;

  /** Per table, what this batch's prepare calls returned for it. */
  private final List<List<PreparedKeys>> prepared;

  private Phase phase = Phase.PREPARING;

  StoreBatch(Operations store, int tables) {
    this.store = Objects.requireNonNull(store, "store");
    this.tables = tables;
    this.prepared = new ArrayList<>(tables);
    for (int t = 0; t < tables; t++) {
      prepared.add(new ArrayList<>(1));
    }
  }

  /**
   * Prepares {@code count} keys of this minibatch for {@code table}: deduplicated, a hot slot for
   * each, misses fetched or initialised, every slot pinned until {@link #close}.
   *
   * @throws IllegalStateException after a {@link #slab} was taken, or after {@link #close}
   */
  public PreparedKeys prepare(int table, long[] keys, int count) {
    checkTable(table);
    if (phase == Phase.CLOSED) {
      throw closed();
    }
    if (phase == Phase.TRAINING) {
      throw new IllegalStateException(
          "prepare every table's keys before taking a slab: a store may move a slab"
              + " while it prepares (table "
              + table
              + " was prepared after a slab was taken)");
    }
    PreparedKeys p = store.prepare(table, keys, count);
    prepared.get(table).add(p);
    return p;
  }

  /**
   * The hot slab of {@code table}, in the memory of the store's compute backend: the row at slot
   * {@code s} starts at {@code s * rowWidth}. Valid until {@link #close}. Ends the prepare phase.
   */
  public Floats slab(int table) {
    checkTable(table);
    if (phase == Phase.CLOSED) {
      throw closed();
    }
    phase = Phase.TRAINING;
    return store.slab(table);
  }

  /**
   * The distinct rows of {@code p} were updated by the trainer: they are published with the next
   * drain, and written back when evicted.
   *
   * @throws IllegalArgumentException if {@code p} is not what this batch prepared for {@code table}
   */
  public void markUpdated(int table, PreparedKeys p) {
    checkTable(table);
    if (phase == Phase.CLOSED) {
      throw closed();
    }
    if (p == null || !preparedHere(table, p)) {
      throw new IllegalArgumentException(
          "these keys were not prepared for table " + table + " in this batch");
    }
    store.markUpdated(table, p);
  }

  /** Unpins the batch's rows; the store can begin another batch. Idempotent. */
  @Override
  public void close() {
    if (phase != Phase.CLOSED) {
      phase = Phase.CLOSED;
      store.release();
    }
  }

  private boolean preparedHere(int table, PreparedKeys p) {
    for (PreparedKeys q : prepared.get(table)) {
      if (q == p) {
        return true;
      }
    }
    return false;
  }

  private void checkTable(int table) {
    if (table < 0 || table >= tables) {
      throw new IndexOutOfBoundsException(
          "table " + table + " of a store with " + tables + " tables");
    }
  }

  private static IllegalStateException closed() {
    return new IllegalStateException("this batch is closed; begin another");
  }
}
