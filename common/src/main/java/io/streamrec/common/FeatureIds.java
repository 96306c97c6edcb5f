package io.streamrec.common;

import java.nio.charset.StandardCharsets;

/**
 * Turns a categorical feature value into its 64-bit id: a stable hash of the feature name and the
 * value, so that two features sharing a value ("42" as a user and as an item) get distinct ids. No
 * buckets: collisions are those of a 64-bit hash (about one in 10^19 per pair).
 *
 * <p>The hash is FNV-1a over the UTF-8 bytes followed by the SplitMix64 finaliser; it is part of
 * the model-update protocol (ids on the topic are these), so it must never change.
 */
public final class FeatureIds {
  private static final long FNV_OFFSET = 0xcbf29ce484222325L;
  private static final long FNV_PRIME = 0x100000001b3L;

  /** Separates the feature name from the value inside the hashed bytes. */
  private static final byte SEPARATOR = 0x1f;

  private FeatureIds() {}

  public static long of(String feature, String value) {
    long h = FNV_OFFSET;
    h = mix(h, feature.getBytes(StandardCharsets.UTF_8));
    h ^= SEPARATOR;
    h *= FNV_PRIME;
    h = mix(h, value.getBytes(StandardCharsets.UTF_8));
    return finish(h);
  }

  /**
   * The hash state after {@code feature} and the separator: {@link #of(long, byte[], int, int)}
   * goes on from it, so a reader hashing many values of one feature hashes its name once.
   */
  public static long seed(String feature) {
    long h = mix(FNV_OFFSET, feature.getBytes(StandardCharsets.UTF_8));
    h ^= SEPARATOR;
    return h * FNV_PRIME;
  }

  /**
   * The id of the value whose UTF-8 bytes are {@code bytes[off, off + len)}, for the feature whose
   * {@link #seed} is {@code seed}: the same as {@code of(feature, value)}. The bytes must be what
   * {@code value.getBytes(UTF_8)} gives (valid UTF-8).
   */
  public static long of(long seed, byte[] bytes, int off, int len) {
    long h = seed;
    for (int i = off; i < off + len; i++) {
      h ^= (bytes[i] & 0xff);
      h *= FNV_PRIME;
    }
    return finish(h);
  }

  private static long mix(long h, byte[] bytes) {
    for (byte b : bytes) {
      h ^= (b & 0xff);
      h *= FNV_PRIME;
    }
    return h;
  }

  /** SplitMix64's finaliser: spreads FNV's weak low bits over the whole word. */
  public static long finish(long z) {
    z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
    z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
    return z ^ (z >>> 31);
  }
}
