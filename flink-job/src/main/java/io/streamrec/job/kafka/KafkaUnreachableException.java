package io.streamrec.job.kafka;

/**
 * Kafka did not answer in time: a wrong address, a listener of another protocol, or a broker that
 * is down. Unlike a refusal, it may pass by itself.
 */
public class KafkaUnreachableException extends KafkaAccessException {
  private static final long serialVersionUID = 1L;

  public KafkaUnreachableException(String message, Throwable cause) {
    super(message, cause);
  }
}
