package io.streamrec.protocol;

import io.streamrec.common.StreamrecException;
import io.streamrec.schemas.AvroCodec;
import io.streamrec.schemas.DeltaKind;
import io.streamrec.schemas.ModelDelta;
import io.streamrec.schemas.ModelSpec;
import io.streamrec.schemas.VersionMarker;
import java.nio.charset.StandardCharsets;

/**
 * The one decoder of the model-updates topic: every reader (the serving replica, {@code streamrec
 * tail}, the tests) turns a record's key and value into a {@link ModelUpdate} here, so the rules of
 * docs/model-updates.md are read in one place: keys name the kind, a null value is a tombstone and
 * only rows have one, rows arrive in any {@code RowEncoding} and leave as float32, a value's kind
 * and table must agree with its key.
 */
public final class ModelUpdateDecoder {
  private ModelUpdateDecoder() {}

  /**
   * Decodes one record.
   *
   * @param key the record's key (UTF-8), not null
   * @param value its value, null for a tombstone
   * @throws MalformedModelUpdateException for a record the protocol does not allow: an unknown key,
   *     a null value under a key that is not a row's, an undecodable value, a value that disagrees
   *     with its key
   */
  public static ModelUpdate decode(byte[] key, byte[] value) {
    if (key == null) {
      throw new MalformedModelUpdateException("", "a record without a key");
    }
    String k = new String(key, StandardCharsets.UTF_8);
    try {
      if (ModelUpdateKeys.isRow(k)) {
        return row(k, value);
      }
      if (value == null) {
        throw new MalformedModelUpdateException(k, "a null value (only rows have tombstones)");
      }
      if (k.startsWith(ModelUpdateKeys.DENSE_PREFIX)) {
        ModelDelta d = AvroCodec.decode(value, ModelDelta.class);
        String block = k.substring(ModelUpdateKeys.DENSE_PREFIX.length());
        if (d.getKind() != DeltaKind.DENSE || !block.equals(d.getTable())) {
          throw new MalformedModelUpdateException(
              k, "a " + d.getKind() + " delta of '" + d.getTable() + "' under a dense block's key");
        }
        return new ModelUpdate.DenseBlock(k, block, d.getModel(), d.getVersion(), RowValues.get(d));
      }
      if (k.equals(ModelUpdateKeys.SPEC)) {
        ModelSpec s = AvroCodec.decode(value, ModelSpec.class);
        return new ModelUpdate.Spec(k, s.getFormat(), s.getJson(), s.getModel(), s.getVersion());
      }
      if (k.equals(ModelUpdateKeys.VERSION)) {
        return new ModelUpdate.Version(k, AvroCodec.decode(value, VersionMarker.class));
      }
      throw new MalformedModelUpdateException(k, "an unknown key");
    } catch (MalformedModelUpdateException e) {
      throw e;
    } catch (StreamrecException e) {
      throw new MalformedModelUpdateException(k, e.getMessage(), e);
    }
  }

  private static ModelUpdate row(String k, byte[] value) {
    String table;
    long id;
    try {
      table = ModelUpdateKeys.rowTable(k);
      id = ModelUpdateKeys.rowId(k);
    } catch (RuntimeException e) {
      throw new MalformedModelUpdateException(
          k, "a row key that is not row/<table>/<unsigned id>", e);
    }
    if (table.isEmpty()) {
      throw new MalformedModelUpdateException(k, "a row key without a table");
    }
    if (value == null) {
      return new ModelUpdate.Tombstone(k, table, id);
    }
    ModelDelta d = AvroCodec.decode(value, ModelDelta.class);
    if (d.getKind() != DeltaKind.ROW || !table.equals(d.getTable()) || id != d.getId()) {
      throw new MalformedModelUpdateException(
          k,
          "a "
              + d.getKind()
              + " delta of "
              + d.getTable()
              + "/"
              + Long.toUnsignedString(d.getId())
              + " under another row's key");
    }
    return new ModelUpdate.Row(
        k, table, id, d.getModel(), d.getVersion(), d.getEncoding(), RowValues.get(d));
  }
}
