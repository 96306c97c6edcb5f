package io.streamrec.job.kafka;

import io.streamrec.common.StreamrecException;

/**
 * Kafka could not be used as configured: the broker refused the client's login or an operation, or
 * did not answer. The message says which, naming the address and the settings to check; no secret.
 */
public class KafkaAccessException extends StreamrecException {
  private static final long serialVersionUID = 1L;

  public KafkaAccessException(String message, Throwable cause) {
    super(message, cause);
  }
}
