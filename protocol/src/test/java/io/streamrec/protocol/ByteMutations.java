package io.streamrec.protocol;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Corrupts valid records the ways bytes go wrong, for fuzz tests of the decoders of what a topic
 * holds: a bit flipped, a byte overwritten with an extreme value, the record cut short, a byte
 * inserted or deleted, a varint length of about 2^31 or more put in.
 */
public final class ByteMutations {
  private ByteMutations() {}

  /**
   * {@code original} with one to three corruptions drawn from {@code rnd}; never changed itself.
   */
  public static byte[] mutate(byte[] original, SplittableRandom rnd) {
    byte[] v = original.clone();
    int edits = 1 + rnd.nextInt(3);
    for (int e = 0; e < edits && v.length > 0; e++) {
      int at = rnd.nextInt(v.length);
      switch (rnd.nextInt(6)) {
        case 0 -> v[at] ^= (byte) (1 << rnd.nextInt(8));
        case 1 -> v[at] = (byte) (rnd.nextBoolean() ? 0x7f : 0xff);
        case 2 -> v = Arrays.copyOf(v, at);
        case 3 -> v = insert(v, at, new byte[] {(byte) rnd.nextInt(256)});
        case 4 -> {
          byte[] w = new byte[v.length - 1];
          System.arraycopy(v, 0, w, 0, at);
          System.arraycopy(v, at + 1, w, at, v.length - at - 1);
          v = w;
        }
        default ->
            v =
                insert(
                    v, at, new byte[] {(byte) 0xfe, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x0f});
      }
    }
    return v;
  }

  private static byte[] insert(byte[] v, int at, byte[] bytes) {
    byte[] w = new byte[v.length + bytes.length];
    System.arraycopy(v, 0, w, 0, at);
    System.arraycopy(bytes, 0, w, at, bytes.length);
    System.arraycopy(v, at, w, at + bytes.length, v.length - at);
    return w;
  }
}
