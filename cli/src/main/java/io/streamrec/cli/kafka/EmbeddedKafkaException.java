package io.streamrec.cli.kafka;

import io.streamrec.common.StreamrecException;

/** The embedded broker could not start; the message says why and what to change. */
public class EmbeddedKafkaException extends StreamrecException {
  private static final long serialVersionUID = 1L;

  public EmbeddedKafkaException(String message) {
    super(message);
  }

  public EmbeddedKafkaException(String message, Throwable cause) {
    super(message, cause);
  }
}
