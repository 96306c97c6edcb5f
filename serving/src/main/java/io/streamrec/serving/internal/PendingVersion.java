package io.streamrec.serving.internal;

import io.streamrec.protocol.ModelUpdate;
import io.streamrec.schemas.VersionMarker;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The records of the version in flight, held back until the marker that closes it: the latest row
 * or tombstone per key and the latest value per dense block, each with the lineage it was written
 * by, so that a version applies whole or not at all and only with the entries of the marker's
 * lineage (docs/model-updates.md §6).
 */
public final class PendingVersion {
  /** A row's new values of lineage {@code model}, or (values null) its removal. */
  record RowChange(String table, long id, long model, float[] values) {}

  /** A dense block's values of lineage {@code model}. */
  record DenseChange(long model, float[] values) {}

  /**
   * What applying a version did with its entries.
   *
   * @param refused rows dropped for a width not their table's
   * @param foreign rows and dense blocks dropped for a lineage not the marker's
   */
  public record Applied(int refused, int refusedBlocks, int foreign) {}

  private final Map<String, RowChange> rows = new LinkedHashMap<>();
  private final Map<String, DenseChange> dense = new LinkedHashMap<>();

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
    rows.put(r.key(), new RowChange(r.table(), r.id(), r.model(), r.values()));
  }

  public void add(ModelUpdate.Tombstone t) {
    rows.put(t.key(), new RowChange(t.table(), t.id(), 0, null));
  }

  public void add(ModelUpdate.DenseBlock d) {
    dense.put(d.block(), new DenseChange(d.model(), d.values()));
  }

  /**
   * Applies what is pending of the marker's lineage (and every tombstone) and the marker to {@code
   * model}, then forgets it all; entries of another lineage are dropped and counted.
   */
  public Applied applyTo(ReplicaModel model, VersionMarker marker) {
    Applied a = model.apply(this, marker);
    clear();
    return a;
  }

  /**
   * Rows {@code model} would hold once what is pending is applied to it with {@code marker};
   * nothing is applied.
   */
  public long rowsAfter(ReplicaModel model, VersionMarker marker) {
    return model.rowsAfter(this, marker);
  }

  public void clear() {
    rows.clear();
    dense.clear();
  }

  /** Entries held. */
  public int size() {
    return rows.size() + dense.size();
  }

  Collection<RowChange> rows() {
    return rows.values();
  }

  Map<String, DenseChange> dense() {
    return dense;
  }
}
