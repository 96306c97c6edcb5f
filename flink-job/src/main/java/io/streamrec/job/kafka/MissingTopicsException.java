package io.streamrec.job.kafka;

import io.streamrec.common.StreamrecException;
import java.util.List;

/** Topics the job needs do not exist; the message names each and the command that creates it. */
public class MissingTopicsException extends StreamrecException {
  private static final long serialVersionUID = 1L;

  private final List<String> topics;

  public MissingTopicsException(List<String> topics, String message) {
    super(message);
    this.topics = List.copyOf(topics);
  }

  /** The names of the missing topics. */
  public List<String> topics() {
    return topics;
  }
}
