package io.streamrec.model;

import java.util.HashMap;
import java.util.Map;

/**
 * A {@link ParameterView} and {@link DeltaSink} over plain maps: what a replica holds, minus Kafka.
 */
final class MapParameters implements ParameterView, DeltaSink {
  final Map<String, float[]> rows = new HashMap<>();
  final Map<String, float[]> dense = new HashMap<>();
  int tombstones;

  @Override
  public void row(String table, long id, float[] values, int offset, int dim) {
    float[] v = new float[dim];
    System.arraycopy(values, offset, v, 0, dim);
    rows.put(table + "/" + id, v);
  }

  @Override
  public void tombstone(String table, long id) {
    rows.remove(table + "/" + id);
    tombstones++;
  }

  @Override
  public void dense(String block, float[] values) {
    dense.put(block, values.clone());
  }

  @Override
  public boolean readRow(String table, long id, float[] out, int offset) {
    float[] v = rows.get(table + "/" + id);
    if (v == null) {
      return false;
    }
    System.arraycopy(v, 0, out, offset, v.length);
    return true;
  }

  @Override
  public float[] dense(String block) {
    return dense.get(block);
  }
}
