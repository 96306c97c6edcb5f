package io.streamrec.common;

/**
 * Root of streamrec's unchecked exceptions. Callers decide what to do from the subtype, never from
 * the message.
 */
public class StreamrecException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public StreamrecException(String message) {
    super(message);
  }

  public StreamrecException(String message, Throwable cause) {
    super(message, cause);
  }
}
