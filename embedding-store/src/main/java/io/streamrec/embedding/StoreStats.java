package io.streamrec.embedding;

/**
 * Counters of an {@link EmbeddingStore}, summed over its tables.
 *
 * @param lookups distinct keys prepared (one per key per {@link EmbeddingStore#prepare})
 * @param hits lookups whose row was in the hot tier
 * @param rowsHot rows in the hot tier now
 * @param rowsCold rows only in the cold tier now (so rows stored = rowsHot + rowsCold)
 * @param admitted rows created (ids that passed the admission filter)
 * @param evicted rows moved out of the hot tier to make room
 * @param expired rows deleted for their TTL
 */
public record StoreStats(
    long lookups,
    long hits,
    long rowsHot,
    long rowsCold,
    long admitted,
    long evicted,
    long expired) {

  /** Rows the store holds, every tier: what a reader of the published model holds. */
  public long rows() {
    return rowsHot + rowsCold;
  }

  public double hitRate() {
    return lookups == 0 ? 0.0 : (double) hits / lookups;
  }
}
