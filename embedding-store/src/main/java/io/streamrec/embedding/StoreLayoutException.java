package io.streamrec.embedding;

/**
 * A snapshot of other rows than the store is configured with (another table, width, optimizer state
 * or initial scale): its rows cannot serve the configured tables, so reading it again cannot
 * succeed. (Another hot capacity, admission threshold or TTL it does restore into.)
 */
public final class StoreLayoutException extends StoreException {
  private static final long serialVersionUID = 1L;

  public StoreLayoutException(String message) {
    super(message);
  }
}
