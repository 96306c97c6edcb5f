package io.streamrec.schemas;

import io.streamrec.common.StreamrecException;

/**
 * Bytes or text that cannot be read as a streamrec record. {@link #reason()} is the dead-letter
 * reason.
 */
public class MalformedRecordException extends StreamrecException {
  private static final long serialVersionUID = 1L;
  private final String reason;

  public MalformedRecordException(String reason, String message) {
    super(message);
    this.reason = reason;
  }

  public MalformedRecordException(String reason, String message, Throwable cause) {
    super(message, cause);
    this.reason = reason;
  }

  /** One of the {@link DeadLetterReasons}. */
  public String reason() {
    return reason;
  }
}
