package io.streamrec.model.units;

import java.util.Comparator;

/**
 * A request unit as the trainer reads it: one request and its impressions with every categorical
 * value already hashed to its 64-bit id, dense values already squashed, labels as floats, the
 * request side once. Made by {@link UnitEncoder} in the parallel stages before the trainer, carried
 * between operators and in the request-units topic by {@link CompactUnitCodec}.
 *
 * <p>Layout ({@link UnitLayout}): {@code bagEnds} ends each bag in {@code ids}: first the request's
 * categorical features, one bag each, then for each impression its categorical features, one bag
 * each. {@code wideIds} is parallel to {@code ids}: the id each value has in the wide table (the
 * same as in {@code ids} unless the feature shares another feature's vocabulary). {@code
 * impressionDense} and {@code labels} are row-major, a row per impression.
 *
 * <p>Immutable by convention: the arrays are not copied, and nobody writes them after the encoder.
 */
public final class CompactUnit {
  /** The order the trainer trains in: join-window close time, then the request's key. */
  public static final Comparator<CompactUnit> TRAINING_ORDER =
      Comparator.comparingLong(CompactUnit::closedAtMs)
          .thenComparingLong(CompactUnit::requestKey)
          .thenComparing(CompactUnit::requestId);

  private final long layoutFingerprint;
  private final String requestId;
  private final long requestKey;
  private final long timestampMs;
  private final long closedAtMs;
  private final int impressions;
  private final int[] bagEnds;
  private final long[] ids;
  private final long[] wideIds;
  private final float[] requestDense;
  private final float[] impressionDense;
  private final float[] labels;

  public CompactUnit(
      long layoutFingerprint,
      String requestId,
      long requestKey,
      long timestampMs,
      long closedAtMs,
      int impressions,
      int[] bagEnds,
      long[] ids,
      long[] wideIds,
      float[] requestDense,
      float[] impressionDense,
      float[] labels) {
    this.layoutFingerprint = layoutFingerprint;
    this.requestId = requestId;
    this.requestKey = requestKey;
    this.timestampMs = timestampMs;
    this.closedAtMs = closedAtMs;
    this.impressions = impressions;
    this.bagEnds = bagEnds;
    this.ids = ids;
    this.wideIds = wideIds;
    this.requestDense = requestDense;
    this.impressionDense = impressionDense;
    this.labels = labels;
  }

  /** The {@link UnitLayout#fingerprint()} of the feature spec that encoded this unit. */
  public long layoutFingerprint() {
    return layoutFingerprint;
  }

  public String requestId() {
    return requestId;
  }

  /** A 64-bit hash of the request id: what ties between equal close times are broken by. */
  public long requestKey() {
    return requestKey;
  }

  /** Event time of the request. */
  public long timestampMs() {
    return timestampMs;
  }

  /** Event time at which the unit's join window closed. */
  public long closedAtMs() {
    return closedAtMs;
  }

  public int impressions() {
    return impressions;
  }

  /**
   * End (exclusive) of bag {@code b} in {@link #ids()}; bag {@code b} starts at {@code bagEnd(b -
   * 1)}.
   */
  public int bagEnd(int b) {
    return bagEnds[b];
  }

  public int bagStart(int b) {
    return b == 0 ? 0 : bagEnds[b - 1];
  }

  public int bags() {
    return bagEnds.length;
  }

  /** Embedding ids of every bag, concatenated (read only). */
  public long[] ids() {
    return ids;
  }

  /** Wide ids, parallel to {@link #ids()} (read only). */
  public long[] wideIds() {
    return wideIds;
  }

  public float[] requestDense() {
    return requestDense;
  }

  public float[] impressionDense() {
    return impressionDense;
  }

  public float[] labels() {
    return labels;
  }

  int[] bagEnds() {
    return bagEnds;
  }
}
