package io.streamrec.embedding;

/** Counters of an {@link EmbeddingStore}, summed over its tables. */
public record StoreStats(
    long lookups, long hits, long rowsHot, long rowsCold, long admitted, long evicted, long expired) {

  public double hitRate() {
    return lookups == 0 ? 0.0 : (double) hits / lookups;
  }
}
