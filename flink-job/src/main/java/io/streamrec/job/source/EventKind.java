package io.streamrec.job.source;

/** The two input streams. */
public enum EventKind {
  REQUEST,
  IMPRESSION
}
