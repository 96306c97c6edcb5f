package io.streamrec.embedding;

/**
 * A snapshot of other tables than the store is configured with (another width, capacity, admission,
 * expiry or initial scale): it restores only into the tables it was saved from, slot for slot, so
 * reading it again cannot succeed.
 */
public final class StoreLayoutException extends StoreException {
  private static final long serialVersionUID = 1L;

  public StoreLayoutException(String message) {
    super(message);
  }
}
