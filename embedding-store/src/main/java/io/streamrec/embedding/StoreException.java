package io.streamrec.embedding;

import io.streamrec.common.StreamrecException;

/**
 * The embedding store could not do its work: the cold tier failed, or a snapshot could not be
 * written or read. The store's state after it is undefined; restore from the last snapshot.
 */
public class StoreException extends StreamrecException {
  private static final long serialVersionUID = 1L;

  public StoreException(String message) {
    super(message);
  }

  public StoreException(String message, Throwable cause) {
    super(message, cause);
  }
}
