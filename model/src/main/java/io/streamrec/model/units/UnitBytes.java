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
