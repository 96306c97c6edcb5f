package io.streamrec.protocol;

import java.nio.charset.StandardCharsets;

/**
 * Record keys on the compacted model-updates topic. The latest value under each key is the model:
 * {@code row/<table>/<id>} for an embedding row (a null value is its tombstone), {@code
 * dense/<block>} for a dense block, and {@code version} for the newest version marker and {@code
 * spec} for the model spec.
 */
public final class ModelUpdateKeys {
  public static final String VERSION = "version";
  public static final String SPEC = "spec";
  public static final String ROW_PREFIX = "row/";
  public static final String DENSE_PREFIX = "dense/";
  private static final String ROW = ROW_PREFIX;
  private static final String DENSE = DENSE_PREFIX;

  private ModelUpdateKeys() {}

  public static byte[] row(String table, long id) {
    return (ROW + table + "/" + Long.toUnsignedString(id)).getBytes(StandardCharsets.UTF_8);
  }

  public static byte[] dense(String block) {
    return (DENSE + block).getBytes(StandardCharsets.UTF_8);
  }

  public static byte[] spec() {
    return SPEC.getBytes(StandardCharsets.UTF_8);
  }

  public static byte[] version() {
    return VERSION.getBytes(StandardCharsets.UTF_8);
  }

  /** True for a row key; {@link #rowTable} and {@link #rowId} then parse it. */
  public static boolean isRow(String key) {
    return key.startsWith(ROW);
  }

  public static String rowTable(String key) {
    int slash = key.lastIndexOf('/');
    return key.substring(ROW.length(), slash);
  }

  /**
   * The id of a row key, whose text must be exactly the one {@link #row} writes ({@code
   * Long.toUnsignedString}): Kafka compacts by the key's bytes, so another spelling of the same id
   * ({@code 042}, {@code +42}, other scripts' digits) would be another record that a later value or
   * tombstone of the row never replaces.
   *
   * @throws NumberFormatException for any other text
   */
  public static long rowId(String key) {
    String text = key.substring(key.lastIndexOf('/') + 1);
    long id = Long.parseUnsignedLong(text);
    if (!Long.toUnsignedString(id).equals(text)) {
      throw new NumberFormatException(
          "'" + text + "' is not the id's own decimal (" + Long.toUnsignedString(id) + ")");
    }
    return id;
  }
}
