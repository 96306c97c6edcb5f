package io.streamrec.protocol;

import io.streamrec.common.StreamrecException;

/** A model-updates record the protocol does not allow; a reader counts and skips it. */
public final class MalformedModelUpdateException extends StreamrecException {
  private static final long serialVersionUID = 1L;

  private final String key;

  public MalformedModelUpdateException(String key, String problem) {
    super("model-updates record under key '" + key + "': " + problem);
    this.key = key;
  }

  public MalformedModelUpdateException(String key, String problem, Throwable cause) {
    super("model-updates record under key '" + key + "': " + problem, cause);
    this.key = key;
  }

  /** The record's key. */
  public String key() {
    return key;
  }
}
