package io.streamrec.model.units;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The binary form of a {@link CompactUnit}: what crosses from the assembler to the trainer, what
 * the trainer's checkpoints hold, and the value of each record of the request-units topic
 * (docs/request-units.md). Little-endian; {@code var} is an unsigned LEB128 varint:
 *
 * <pre>
 *   u8   format                 1
 *   i64  layout fingerprint     UnitLayout.fingerprint() of the spec that encoded it
 *   i64  request key            hash of the request id
 *   i64  timestamp ms, i64 closed-at ms
 *   var  n, n bytes             the request id, UTF-8
 *   var  impressions
 *   var  bags, then each bag's length (var)
 *   i64  × Σ lengths            the embedding ids
 *   var  w, then w × (var index, i64 id)   wide ids that differ from the embedding id at that index
 *   var  d, f32 × d             request dense values (squashed)
 *   var  e, f32 × impressions·e impression dense values (squashed), row-major
 *   var  l, f32 × impressions·l labels, row-major
 * </pre>
 *
 * A unit of a few impressions takes 60 bytes plus 8 per id and 4 per value, about a third of the
 * same impressions written one Avro record each with the request's strings repeated.
 *
 * <p>{@link #decode} checks every length against what is left, so truncated or corrupt bytes fail
 * with a {@link MalformedUnitException} naming what is wrong, never an index error or a huge
 * allocation.
 */
public final class CompactUnitCodec {
  /** The one layout this code writes; {@link #decode} refuses others. */
  public static final byte FORMAT = 1;

  /** No unit has more bags, ids or values than this: a larger count is corrupt input. */
  static final int MAX_COUNT = 1 << 24;

  private CompactUnitCodec() {}

  /** The unit's bytes. */
  public static byte[] encode(CompactUnit u) {
    long[] ids = u.ids(), wide = u.wideIds();
    int exceptions = 0;
    for (int k = 0; k < ids.length; k++) {
      if (wide[k] != ids[k]) {
        exceptions++;
      }
    }
    byte[] rid = u.requestId().getBytes(StandardCharsets.UTF_8);
    int[] bagEnds = u.bagEnds();
    int size =
        1
            + 32
            + 5
            + rid.length
            + 5
            + 5
            + 5 * bagEnds.length
            + 8 * ids.length
            + 5
            + 13 * exceptions
            + 15
            + 4 * (u.requestDense().length + u.impressionDense().length + u.labels().length);
    Writer w = new Writer(size);
    w.u8(FORMAT);
    w.i64(u.layoutFingerprint());
    w.i64(u.requestKey());
    w.i64(u.timestampMs());
    w.i64(u.closedAtMs());
    w.var(rid.length);
    w.bytes(rid);
    w.var(u.impressions());
    w.var(bagEnds.length);
    int prev = 0;
    for (int end : bagEnds) {
      w.var(end - prev);
      prev = end;
    }
    for (long id : ids) {
      w.i64(id);
    }
    w.var(exceptions);
    for (int k = 0; k < ids.length; k++) {
      if (wide[k] != ids[k]) {
        w.var(k);
        w.i64(wide[k]);
      }
    }
    int ni = u.impressions();
    w.floats(u.requestDense(), 1);
    w.floats(u.impressionDense(), ni);
    w.floats(u.labels(), ni);
    return w.done();
  }

  /**
   * The unit in {@code bytes[off, off + len)}.
   *
   * @throws MalformedUnitException for bytes that are not a unit of this format
   */
  public static CompactUnit decode(byte[] bytes, int off, int len) {
    Reader r = new Reader(bytes, off, len);
    int format = r.u8("format");
    if (format != FORMAT) {
      throw new MalformedUnitException("unit format " + format + ", this build reads " + FORMAT);
    }
    long fingerprint = r.i64("layout fingerprint");
    long key = r.i64("request key");
    long ts = r.i64("timestamp");
    long closed = r.i64("closed-at time");
    int ridLen = r.count("request id length", 1);
    String rid = new String(bytes, r.take(ridLen, "request id"), ridLen, StandardCharsets.UTF_8);
    int ni = r.count("impressions", 0);
    int nb = r.count("bags", 1);
    int[] bagEnds = new int[nb];
    int end = 0;
    for (int b = 0; b < nb; b++) {
      end += r.count("bag length", 8);
      if (end > MAX_COUNT) {
        throw new MalformedUnitException("more than " + MAX_COUNT + " ids");
      }
      bagEnds[b] = end;
    }
    r.need(8L * end, "ids");
    long[] ids = new long[end];
    for (int k = 0; k < end; k++) {
      ids[k] = r.i64("id");
    }
    long[] wide = Arrays.copyOf(ids, end);
    int ne = r.count("wide exceptions", 9);
    for (int e = 0; e < ne; e++) {
      int k = r.count("wide id index", 0);
      if (k >= end) {
        throw new MalformedUnitException(
            "wide id index " + k + " beyond the unit's " + end + " ids");
      }
      wide[k] = r.i64("wide id");
    }
    float[] reqDense = r.floats(1, "request dense values");
    float[] impDense = r.floats(ni, "impression dense values");
    float[] labels = r.floats(ni, "labels");
    if (r.remaining() != 0) {
      throw new MalformedUnitException(r.remaining() + " bytes after the unit's end");
    }
    return new CompactUnit(
        fingerprint, rid, key, ts, closed, ni, bagEnds, ids, wide, reqDense, impDense, labels);
  }

  public static CompactUnit decode(byte[] bytes) {
    return decode(bytes, 0, bytes.length);
  }

  private static final class Writer {
    private byte[] b;
    private int pos;

    Writer(int size) {
      b = new byte[size];
    }

    private void room(int n) {
      if (pos + n > b.length) {
        b = Arrays.copyOf(b, Math.max(pos + n, 2 * b.length));
      }
    }

    void u8(int v) {
      room(1);
      b[pos++] = (byte) v;
    }

    void i64(long v) {
      room(8);
      for (int i = 0; i < 8; i++) {
        b[pos++] = (byte) (v >>> (8 * i));
      }
    }

    void i32(int v) {
      room(4);
      for (int i = 0; i < 4; i++) {
        b[pos++] = (byte) (v >>> (8 * i));
      }
    }

    void var(int v) {
      room(5);
      while ((v & ~0x7f) != 0) {
        b[pos++] = (byte) ((v & 0x7f) | 0x80);
        v >>>= 7;
      }
      b[pos++] = (byte) v;
    }

    void bytes(byte[] x) {
      room(x.length);
      System.arraycopy(x, 0, b, pos, x.length);
      pos += x.length;
    }

    /** {@code v} as rows of {@code v.length / rows} floats: the row width, then the values. */
    void floats(float[] v, int rows) {
      var(rows == 0 ? 0 : v.length / rows);
      for (float x : v) {
        i32(Float.floatToRawIntBits(x));
      }
    }

    byte[] done() {
      return pos == b.length ? b : Arrays.copyOf(b, pos);
    }
  }

  private static final class Reader {
    private final byte[] b;
    private int pos;
    private final int end;

    Reader(byte[] b, int off, int len) {
      if (off < 0 || len < 0 || off + len > b.length) {
        throw new MalformedUnitException(
            "[" + off + ", " + (off + len) + ") is outside the " + b.length + " bytes given");
      }
      this.b = b;
      this.pos = off;
      this.end = off + len;
    }

    int remaining() {
      return end - pos;
    }

    void need(long n, String what) {
      if (n > end - pos) {
        throw new MalformedUnitException(
            "truncated: " + what + " needs " + n + " bytes, " + (end - pos) + " are left");
      }
    }

    int take(int n, String what) {
      need(n, what);
      int at = pos;
      pos += n;
      return at;
    }

    int u8(String what) {
      need(1, what);
      return b[pos++] & 0xff;
    }

    long i64(String what) {
      need(8, what);
      long v = 0;
      for (int i = 0; i < 8; i++) {
        v |= (b[pos++] & 0xffL) << (8 * i);
      }
      return v;
    }

    int i32(String what) {
      need(4, what);
      int v = 0;
      for (int i = 0; i < 4; i++) {
        v |= (b[pos++] & 0xff) << (8 * i);
      }
      return v;
    }

    /**
     * A varint count, at most {@link #MAX_COUNT}, each of whose items takes at least {@code
     * bytesPerItem} of what is left.
     */
    int count(String what, int bytesPerItem) {
      long v = 0;
      for (int shift = 0; ; shift += 7) {
        if (shift > 28) {
          throw new MalformedUnitException(what + ": a varint longer than 5 bytes");
        }
        int x = u8(what);
        v |= (long) (x & 0x7f) << shift;
        if ((x & 0x80) == 0) {
          break;
        }
      }
      if (v > MAX_COUNT) {
        throw new MalformedUnitException(what + " " + v + " is over the limit of " + MAX_COUNT);
      }
      if (bytesPerItem > 0) {
        need(v * bytesPerItem, what);
      }
      return (int) v;
    }

    float[] floats(int rows, String what) {
      int width = count(what + " per row", 0);
      long n = (long) rows * width;
      if (n > MAX_COUNT) {
        throw new MalformedUnitException(
            what + ": " + n + " values is over the limit of " + MAX_COUNT);
      }
      need(4 * n, what);
      float[] v = new float[(int) n];
      for (int i = 0; i < n; i++) {
        v[i] = Float.intBitsToFloat(i32(what));
      }
      return v;
    }
  }
}
