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

  public String topic() {
    return topic;
  }

  /** How many sends to {@link #topic()} had failed when this was thrown. */
  public long failedRecords() {
    return failedRecords;
  }
}
