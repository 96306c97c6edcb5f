package io.streamrec.model.units;

import java.util.Arrays;

/**
 * The little-endian writer and the checked reader the binary forms of units and event parts share:
 * fixed-width numbers, unsigned LEB128 counts, rows of floats. The reader checks every count
 * against the bytes left, so corrupt input fails with a {@link MalformedUnitException}, never an
 * index error or a huge allocation.
 */
final class UnitBytes {
  /** No unit or part has more bags, ids or values than this: a larger count is corrupt input. */
  static final int MAX_COUNT = 1 << 24;

  private UnitBytes() {}

  static final class Writer {
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

    /**
     * Bags of ids: the bag count, each bag's length, the ids, then the wide ids as exceptions
     * (index and id) where they differ from the ids.
     */
    void idBags(int[] bagEnds, long[] ids, long[] wide) {
      var(bagEnds.length);
      int prev = 0;
      for (int end : bagEnds) {
        var(end - prev);
        prev = end;
      }
      for (long id : ids) {
        i64(id);
      }
      var(exceptions(ids, wide));
      for (int k = 0; k < ids.length; k++) {
        if (wide[k] != ids[k]) {
          var(k);
          i64(wide[k]);
        }
      }
    }

    /** At most the bytes {@link #idBags} writes. */
    static int idBagsSize(int[] bagEnds, long[] ids, long[] wide) {
      return 10 + 5 * bagEnds.length + 8 * ids.length + 13 * exceptions(ids, wide);
    }

    private static int exceptions(long[] ids, long[] wide) {
      int n = 0;
      for (int k = 0; k < ids.length; k++) {
        n += wide[k] != ids[k] ? 1 : 0;
      }
      return n;
    }

    byte[] done() {
      return pos == b.length ? b : Arrays.copyOf(b, pos);
    }
  }

  static final class Reader {
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
      long v = varint(what);
      if (v > MAX_COUNT) {
        throw new MalformedUnitException(what + " " + v + " is over the limit of " + MAX_COUNT);
      }
      if (bytesPerItem > 0) {
        need(v * bytesPerItem, what);
      }
      return (int) v;
    }

    /**
     * A varint length of bytes that follow, written plus {@code plus} (1 where 0 means none): the
     * bytes must all be there, which bounds it, so it is not held to {@link #MAX_COUNT}; an event
     * may be as large as source.max-record-bytes lets it.
     */
    int byteLength(String what, int plus) {
      long v = varint(what);
      if (v > Integer.MAX_VALUE) {
        throw new MalformedUnitException(what + " " + v + " is over the limit of a Java array");
      }
      need(Math.max(v - plus, 0), what);
      return (int) v;
    }

    private long varint(String what) {
      long v = 0;
      for (int shift = 0; ; shift += 7) {
        if (shift > 28) {
          throw new MalformedUnitException(what + ": a varint longer than 5 bytes");
        }
        int x = u8(what);
        v |= (long) (x & 0x7f) << shift;
        if ((x & 0x80) == 0) {
          return v;
        }
      }
    }

    /** What {@link Writer#idBags} wrote; {@code owner} names the thing in errors ("unit"). */
    IdBags idBags(String owner) {
      int nb = count("bags", 1);
      int[] bagEnds = new int[nb];
      int end = 0;
      for (int b = 0; b < nb; b++) {
        end += count("bag length", 8);
        if (end > MAX_COUNT) {
          throw new MalformedUnitException("more than " + MAX_COUNT + " ids");
        }
        bagEnds[b] = end;
      }
      need(8L * end, "ids");
      long[] ids = new long[end];
      for (int k = 0; k < end; k++) {
        ids[k] = i64("id");
      }
      long[] wide = Arrays.copyOf(ids, end);
      int ne = count("wide exceptions", 9);
      for (int e = 0; e < ne; e++) {
        int k = count("wide id index", 0);
        if (k >= end) {
          throw new MalformedUnitException(
              "wide id index " + k + " beyond the " + owner + "'s " + end + " ids");
        }
        wide[k] = i64("wide id");
      }
      return new IdBags(bagEnds, ids, wide);
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

  /** Bags of ids as read: each bag's end in {@code ids}, the ids, the wide ids. */
  record IdBags(int[] bagEnds, long[] ids, long[] wide) {}
}
