package io.streamrec.gpu;

import io.streamrec.common.StreamrecException;

/** The requested backend cannot run here (no device, no driver, no kernels). */
public class BackendUnavailableException extends StreamrecException {
  private static final long serialVersionUID = 1L;

  public BackendUnavailableException(String message) {
    super(message);
  }

  public BackendUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }
}
