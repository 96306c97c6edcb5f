package io.streamrec.model;

/** Receives one publish of the model: changed rows, tombstones of expired rows, dense blocks. */
public interface DeltaSink {
  /** A row's current values: {@code dim} floats of {@code values} from {@code offset}. */
  void row(String table, long id, float[] values, int offset, int dim);

  /** The row of {@code id} expired and is gone from the model. */
  void tombstone(String table, long id);

  /** A dense block's current values. */
  void dense(String block, float[] values);
}
