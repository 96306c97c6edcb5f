package io.streamrec.job.trainer;

import io.streamrec.common.StreamrecException;

/**
 * The checkpoint being restored is of a model configured otherwise than this job's (another
 * optimizer for the wide rows, other table widths or capacities, another number of dense
 * parameters): restoring it again cannot succeed, so the job stops rather than restart. The message
 * says what differs and the ways on.
 */
public final class CheckpointMismatchException extends StreamrecException {
  private static final long serialVersionUID = 1L;

  public CheckpointMismatchException(String message, Throwable cause) {
    super(message, cause);
  }
}
