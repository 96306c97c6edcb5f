package io.streamrec.protocol;

import java.security.SecureRandom;

/**
 * Model lineages: a model trained from scratch gets a random non-zero 63-bit id, carried by its
 * spec, every entry and every version marker, and kept across restores. A reader serves entries of
 * one lineage only (docs/model-updates.md §8). 0 stands for records written before lineages.
 */
public final class ModelLineage {
  /** The lineage of records written before lineages existed. */
  public static final long NONE = 0;

  private static final SecureRandom RANDOM = new SecureRandom();

  private ModelLineage() {}

  /** A fresh lineage id: positive, never {@link #NONE}. */
  public static long newId() {
    long id;
    do {
      id = RANDOM.nextLong() & Long.MAX_VALUE;
    } while (id == NONE);
    return id;
  }

  /** The id as people see it: 16 hex digits. */
  public static String format(long id) {
    return String.format("%016x", id);
  }

  /** Parses {@link #format}'s form. */
  public static long parse(String s) {
    return Long.parseUnsignedLong(s, 16);
  }
}
