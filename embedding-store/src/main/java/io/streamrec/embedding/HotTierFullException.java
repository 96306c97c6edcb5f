package io.streamrec.embedding;

/**
 * A minibatch needs more rows hot at once than a table's hot tier holds: every row it could evict
 * is pinned by the same batch. Raise the table's hot capacity or make batches smaller.
 */
public class HotTierFullException extends StoreException {
  private static final long serialVersionUID = 1L;

  public HotTierFullException(String message) {
    super(message);
  }
}
