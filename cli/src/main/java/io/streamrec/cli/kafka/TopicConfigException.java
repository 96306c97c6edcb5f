package io.streamrec.cli.kafka;

import io.streamrec.common.StreamrecException;

/**
 * A topic streamrec needs exists but is configured in a way that would lose or reorder data, or the
 * topics could not be checked or created at all. The message names the topic, what was found and
 * how to fix it.
 */
public class TopicConfigException extends StreamrecException {
  private static final long serialVersionUID = 1L;

  public TopicConfigException(String message) {
    super(message);
  }

  public TopicConfigException(String message, Throwable cause) {
    super(message, cause);
  }
}
