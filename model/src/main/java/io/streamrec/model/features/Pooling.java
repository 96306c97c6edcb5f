package io.streamrec.model.features;

/** How the rows of a multi-valued categorical feature combine into one vector. */
public enum Pooling {
  SUM,
  MEAN
}
