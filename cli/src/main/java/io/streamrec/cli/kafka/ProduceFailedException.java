package io.streamrec.cli.kafka;

import io.streamrec.common.StreamrecException;

/**
 * Records could not be written to a topic. {@link #topic()} names it; the cause is the first error
 * the producer reported for it.
 */
public class ProduceFailedException extends StreamrecException {
  private static final long serialVersionUID = 1L;
  private final String topic;
  private final long failedRecords;

  public ProduceFailedException(String topic, long failedRecords, Throwable cause) {
    super(
        failedRecords
            + (failedRecords == 1 ? " record" : " records")
            + " could not be written to topic '"
            + topic
            + "': "
            + cause,
        cause);
    this.topic = topic;
    this.failedRecords = failedRecords;
  }

  private ProduceFailedException(ProduceFailedException e, String more) {
    super(e.getMessage() + more, e.getCause());
    this.topic = e.topic;
    this.failedRecords = e.failedRecords;
    for (Throwable s : e.getSuppressed()) {
      addSuppressed(s);
    }
  }

  /** The same failure, with {@code more} added to its message. */
  public ProduceFailedException with(String more) {
    return new ProduceFailedException(this, more);
  }

  public String topic() {
    return topic;
  }

  /** How many sends to {@link #topic()} had failed when this was thrown. */
  public long failedRecords() {
    return failedRecords;
  }
}
