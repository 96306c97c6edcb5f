package io.streamrec.model;

/**
 * Trainer state of a format newer than any this release reads: a checkpoint or handoff written by a
 * newer release, restored by an older one (a rollback). Not a matter of configuration: the release
 * that wrote it, or a newer one, restores it.
 */
public final class NewerStateFormatException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  NewerStateFormatException(int format, int newest) {
    super(
        "trainer state has format "
            + format
            + ", written by a newer release of streamrec; this release reads formats 1 to "
            + newest);
  }
}
