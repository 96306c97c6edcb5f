package io.streamrec.serving.internal;

import io.streamrec.protocol.ModelUpdate;
import io.streamrec.schemas.VersionMarker;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The records of the version in flight, held back until the marker that closes it: the latest row
 * or tombstone per key and the latest value per dense block, so that a version applies whole or not
 * at all (docs/model-updates.md §6).
 */
public final class PendingVersion {
  /** A row's new values, or (values null) its removal. */
  record RowChange(String table, long id, float[] values) {}

  private final Map<String, RowChange> rows = new LinkedHashMap<>();
  private final Map<String, float[]> dense = new LinkedHashMap<>();

  /**
   * Holds {@code u} if it is an entry of a version (a row, a tombstone, a dense block) and says
   * whether it was.
   */
  public boolean addEntry(ModelUpdate u) {
    if (u instanceof ModelUpdate.Row r) {
      add(r);
    } else if (u instanceof ModelUpdate.Tombstone t) {
      add(t);
    } else if (u instanceof ModelUpdate.DenseBlock d) {
      add(d);
    } else {
      return false;
    }
    return true;
  }

  public void add(ModelUpdate.Row r) {
    rows.put(r.key(), new RowChange(r.table(), r.id(), r.values()));
  }

  public void add(ModelUpdate.Tombstone t) {
    rows.put(t.key(), new RowChange(t.table(), t.id(), null));
  }

  public void add(ModelUpdate.DenseBlock d) {
    dense.put(d.block(), d.values());
  }

  /**
   * Applies what is pending and the marker to {@code model}, then forgets it; returns the rows
   * refused for a width not their table's.
   */
  public int applyTo(ReplicaModel model, VersionMarker marker) {
    int refused = model.apply(this, marker);
    clear();
    return refused;
  }

  public void clear() {
    rows.clear();
    dense.clear();
  }

  Collection<RowChange> rows() {
    return rows.values();
  }

  Map<String, float[]> dense() {
    return dense;
  }
}
