package io.streamrec.model;

/** Read access to a published model's parameters, as a serving replica holds them. */
public interface ParameterView {
  /**
   * Copies the values of the row of {@code id} in {@code table} into {@code out} from {@code
   * offset}; returns false, writing nothing, when the model has no such row.
   */
  boolean readRow(String table, long id, float[] out, int offset);

  /** A dense block's values, or null when the model has none of that name yet. */
  float[] dense(String block);
}
