package io.streamrec.job.trainer;

import io.streamrec.common.StreamrecException;

/**
 * The model-updates topic holds another model than the one this trainer would publish: starting
 * over it needs {@code trainer.replace-model}. The message names both lineages and the ways on.
 */
public final class ModelLineageException extends StreamrecException {
  private static final long serialVersionUID = 1L;

  public ModelLineageException(String message) {
    super(message);
  }
}
