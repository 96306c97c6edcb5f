package io.streamrec.protocol;

import io.streamrec.schemas.RowEncoding;
import io.streamrec.schemas.VersionMarker;

/**
 * One record of the model-updates topic, decoded by {@link ModelUpdateDecoder}: the five kinds the
 * protocol has (docs/model-updates.md §3). A reader switches over them:
 *
 * <pre>{@code
 * switch (ModelUpdateDecoder.decode(key, value)) {
 *   case ModelUpdate.Row r -> ...;
 *   case ModelUpdate.Tombstone t -> ...;
 *   case ModelUpdate.DenseBlock d -> ...;
 *   case ModelUpdate.Spec s -> ...;
 *   case ModelUpdate.Version v -> ...;
 * }
 * }</pre>
 */
public sealed interface ModelUpdate {
  /** The record's key as it is on the topic. */
  String key();

  /**
   * An embedding row's current values, widened to float32 whatever its encoding.
   *
   * @param version the version whose publish carried it
   */
  record Row(
      String key,
      String table,
      long id,
      long model,
      long version,
      RowEncoding encoding,
      float[] values)
      implements ModelUpdate {}

  /** The row of {@code id} expired and is gone from the model (a null value under its row key). */
  record Tombstone(String key, String table, long id) implements ModelUpdate {}

  /** A dense block's current values (float32), of the lineage {@code model}. */
  record DenseBlock(String key, String block, long model, long version, float[] values)
      implements ModelUpdate {}

  /**
   * The configuration of the lineage {@code model}: {@code json} in the layout {@code format}
   * names, as published with {@code version} (0 for both when written before lineages).
   */
  record Spec(String key, String format, String json, long model, long version)
      implements ModelUpdate {}

  /** The marker that closes a version: its records before it on the topic make it whole. */
  record Version(String key, VersionMarker marker) implements ModelUpdate {
    public long version() {
      return marker.getVersion();
    }

    /** The lineage the version belongs to (0: written before lineages). */
    public long model() {
      return marker.getModel();
    }
  }
}
