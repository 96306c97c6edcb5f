package io.streamrec.embedding;

import io.streamrec.common.FeatureIds;

/**
 * Initial values of a row, a pure function of (table, id): the same id starts from the same values
 * in every run, replay and replica, which keeps training deterministic.
 */
public final class RowInitializer {
  private RowInitializer() {}

  public static void init(TableConfig table, long id, float[] out, int offset) {
    long state = FeatureIds.finish(id ^ (table.name().hashCode() * 0x9E3779B97F4A7C15L));
    for (int j = 0; j < table.dim(); j++) {
      state = FeatureIds.finish(state + 0x9E3779B97F4A7C15L);
      // 24 random bits -> [-1, 1)
      float u = ((state >>> 40) / (float) (1 << 24)) * 2f - 1f;
      out[offset + j] = u * table.initScale();
    }
    for (int j = table.dim(); j < table.rowWidth(); j++) {
      out[offset + j] = 0f;
    }
  }
}
