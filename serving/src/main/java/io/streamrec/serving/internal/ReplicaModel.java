package io.streamrec.serving.internal;

import io.streamrec.model.ModelConfig;
import io.streamrec.model.ModelScorer;
import io.streamrec.model.ParameterView;
import io.streamrec.schemas.RequestUnit;
import io.streamrec.schemas.VersionMarker;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One model a replica holds: rows by table and id, dense blocks, the spec, and the version they
 * make up. It changes only by whole versions ({@link #apply}); the replica decides when readers see
 * it. Not thread-safe: the replica guards it with its lock.
 */
public final class ReplicaModel implements ParameterView {
  private final Map<String, RowTable> rows = new HashMap<>();
  private final Map<String, float[]> dense = new HashMap<>();
  private ModelConfig config;
  private ThreadLocal<ModelScorer> scorers;
  private long version;
  private VersionMarker marker;

  /** The model's configuration, from the topic's spec record; scoring needs it. */
  public void setConfig(ModelConfig c) {
    config = c;
    scorers = ThreadLocal.withInitial(() -> new ModelScorer(c));
  }

  /**
   * Applies a version's pending records; returns the rows refused for a width not their table's.
   */
  int apply(PendingVersion pending, VersionMarker m) {
    int refused = 0;
    for (PendingVersion.RowChange c : pending.rows()) {
      if (c.values() == null) {
        RowTable t = rows.get(c.table());
        if (t != null) {
          t.remove(c.id());
        }
      } else {
        float[] v = c.values();
        RowTable t = rows.computeIfAbsent(c.table(), x -> new RowTable(v.length));
        if (v.length == t.width()) {
          t.put(c.id(), v);
        } else {
          refused++;
        }
      }
    }
    dense.putAll(pending.dense());
    version = m.getVersion();
    marker = m;
    return refused;
  }

  /** True once a spec was read: the model can score. */
  public boolean canScore() {
    return scorers != null;
  }

  /** Click probabilities of every impression of {@code units}, by this model. */
  public float[] score(List<RequestUnit> units) {
    return scorers.get().score(units, this);
  }

  public ModelConfig config() {
    return config;
  }

  public long version() {
    return version;
  }

  public VersionMarker marker() {
    return marker;
  }

  public long rowCount() {
    long n = 0;
    for (RowTable t : rows.values()) {
      n += t.size();
    }
    return n;
  }

  /** A copy of a row's values, or null. */
  public float[] row(String table, long id) {
    RowTable t = rows.get(table);
    return t == null ? null : t.get(id);
  }

  @Override
  public boolean readRow(String table, long id, float[] out, int offset) {
    RowTable t = rows.get(table);
    return t != null && t.read(id, out, offset);
  }

  @Override
  public float[] dense(String block) {
    return dense.get(block);
  }
}
