package io.streamrec.model.units;

import io.streamrec.common.StreamrecException;

/** Bytes that are not a {@link CompactUnit} of a format this build reads. */
public final class MalformedUnitException extends StreamrecException {
  private static final long serialVersionUID = 1L;

  public MalformedUnitException(String message) {
    super("not a compact request unit: " + message);
  }
}
