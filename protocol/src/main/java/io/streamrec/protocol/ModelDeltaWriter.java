package io.streamrec.protocol;

import io.streamrec.schemas.ModelDelta;
import io.streamrec.schemas.RowEncoding;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import org.apache.avro.SchemaNormalization;

/**
 * Writes {@link ModelDelta} single-object messages and their keys straight into bytes, without
 * building the Avro record: the trainer publishes every changed row, and this is the per-row cost
 * of a publish. The bytes are exactly those {@code AvroCodec.encode} makes of the same delta (the
 * single-object header {@code C3 01}, the schema's 8-byte fingerprint, then the record's Avro
 * binary form), which {@code ModelDeltaWriterTest} checks; every reader decodes them as before.
 *
 * <p>Not thread-safe: it reuses a buffer. One per encoder (and lineage).
 */
final class ModelDeltaWriter {
  private static final byte[] HEADER = header();
  private static final int KIND_ROW = 0;
  private static final int KIND_DENSE = 1;

  private final long model;
  private byte[] buf = new byte[256];
  private int pos;
  private final Map<String, byte[]> utf8 = new HashMap<>();
  private final Map<String, byte[]> rowKeyPrefix = new HashMap<>();

  /** A writer of entries of the model lineage {@code model}. */
  ModelDeltaWriter(long model) {
    this.model = model;
  }

  private static byte[] header() {
    long fp = SchemaNormalization.parsingFingerprint64(ModelDelta.getClassSchema());
    byte[] h = new byte[10];
    h[0] = (byte) 0xC3;
    h[1] = 0x01;
    for (int i = 0; i < 8; i++) {
      h[2 + i] = (byte) (fp >>> (8 * i));
    }
    return h;
  }

  /**
   * The value of a row: {@code dim} values of {@code values} from {@code offset}, in {@code
   * encoding}.
   */
  byte[] row(
      long version,
      String table,
      long id,
      RowEncoding encoding,
      float[] values,
      int offset,
      int dim) {
    start();
    varLong(version);
    varLong(KIND_ROW);
    string(table);
    varLong(id);
    if (encoding == RowEncoding.FLOAT32) {
      floats(values, offset, dim);
      varLong(encoding.ordinal());
      varLong(0); // packed: empty
    } else {
      varLong(0); // values: empty
      varLong(encoding.ordinal());
      varLong(2L * dim);
      room(2 * dim);
      for (int j = 0; j < dim; j++) {
        float x = values[offset + j];
        short h =
            encoding == RowEncoding.FLOAT16 ? HalfFloats.toFloat16(x) : HalfFloats.toBfloat16(x);
        buf[pos++] = (byte) h;
        buf[pos++] = (byte) (h >>> 8);
      }
    }
    varLong(model);
    return Arrays.copyOf(buf, pos);
  }

  /** The value of a dense block, always float32. */
  byte[] dense(long version, String block, float[] values) {
    start();
    varLong(version);
    varLong(KIND_DENSE);
    string(block);
    varLong(0);
    floats(values, 0, values.length);
    varLong(RowEncoding.FLOAT32.ordinal());
    varLong(0);
    varLong(model);
    return Arrays.copyOf(buf, pos);
  }

  /** The key {@code row/<table>/<unsigned id>}, as {@link ModelUpdateKeys#row} makes it. */
  byte[] rowKey(String table, long id) {
    byte[] prefix =
        rowKeyPrefix.computeIfAbsent(
            table, t -> (ModelUpdateKeys.ROW_PREFIX + t + "/").getBytes(StandardCharsets.UTF_8));
    String digits = Long.toUnsignedString(id);
    byte[] key = new byte[prefix.length + digits.length()];
    System.arraycopy(prefix, 0, key, 0, prefix.length);
    for (int i = 0; i < digits.length(); i++) {
      key[prefix.length + i] = (byte) digits.charAt(i);
    }
    return key;
  }

  private void start() {
    pos = 0;
    room(HEADER.length);
    System.arraycopy(HEADER, 0, buf, 0, HEADER.length);
    pos = HEADER.length;
  }

  private void room(int n) {
    if (pos + n > buf.length) {
      buf = Arrays.copyOf(buf, Math.max(pos + n, 2 * buf.length));
    }
  }

  private void varLong(long v) {
    room(10);
    long z = (v << 1) ^ (v >> 63);
    while ((z & ~0x7FL) != 0) {
      buf[pos++] = (byte) ((z & 0x7F) | 0x80);
      z >>>= 7;
    }
    buf[pos++] = (byte) z;
  }

  private void string(String s) {
    byte[] b = utf8.computeIfAbsent(s, x -> x.getBytes(StandardCharsets.UTF_8));
    varLong(b.length);
    room(b.length);
    System.arraycopy(b, 0, buf, pos, b.length);
    pos += b.length;
  }

  /**
   * An Avro array of floats: one block of {@code n}, then the end (an empty array is just the end).
   */
  private void floats(float[] v, int off, int n) {
    if (n > 0) {
      varLong(n);
      room(4 * n);
      for (int j = 0; j < n; j++) {
        int bits = Float.floatToRawIntBits(v[off + j]);
        buf[pos++] = (byte) bits;
        buf[pos++] = (byte) (bits >>> 8);
        buf[pos++] = (byte) (bits >>> 16);
        buf[pos++] = (byte) (bits >>> 24);
      }
    }
    varLong(0);
  }
}
