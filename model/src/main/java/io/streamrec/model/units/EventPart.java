package io.streamrec.model.units;

/**
 * One event — a request, or one of its impressions — with its values already hashed, as the decode
 * stage makes it and the assembler joins it: the half of a {@link CompactUnit} one event brings. A
 * request part has one bag per request feature of the {@link UnitLayout}, its request dense values;
 * an impression part one bag per impression feature, its dense values and labels. The event's bytes
 * as they were read travel along, so that an event the assembler cannot use (late, orphan, over a
 * limit) reaches the dead-letter topic exactly as it came.
 *
 * <p>Immutable by convention: the arrays are not copied, and nobody writes them after the encoder.
 */
public final class EventPart {
  private final long layoutFingerprint;
  private final String requestId;
  private final String impressionId;
  private final long timestampMs;
  private final int[] bagEnds;
  private final long[] ids;
  private final long[] wideIds;
  private final float[] dense;
  private final float[] labels;
  private final byte[] raw;
  private final int sourcePartition;
  private final long sourceOffset;

  public EventPart(
      long layoutFingerprint,
      String requestId,
      String impressionId,
      long timestampMs,
      int[] bagEnds,
      long[] ids,
      long[] wideIds,
      float[] dense,
      float[] labels,
      byte[] raw) {
    this(
        layoutFingerprint,
        requestId,
        impressionId,
        timestampMs,
        bagEnds,
        ids,
        wideIds,
        dense,
        labels,
        raw,
        -1,
        -1);
  }

  /** With where the event was read: its partition and offset (-1 where unknown). */
  public EventPart(
      long layoutFingerprint,
      String requestId,
      String impressionId,
      long timestampMs,
      int[] bagEnds,
      long[] ids,
      long[] wideIds,
      float[] dense,
      float[] labels,
      byte[] raw,
      int sourcePartition,
      long sourceOffset) {
    this.layoutFingerprint = layoutFingerprint;
    this.requestId = requestId;
    this.impressionId = impressionId;
    this.timestampMs = timestampMs;
    this.bagEnds = bagEnds;
    this.ids = ids;
    this.wideIds = wideIds;
    this.dense = dense;
    this.labels = labels;
    this.raw = raw;
    this.sourcePartition = sourcePartition;
    this.sourceOffset = sourceOffset;
  }

  /** This part, read at {@code offset} of {@code partition} of its topic. */
  public EventPart readAt(int partition, long offset) {
    return new EventPart(
        layoutFingerprint,
        requestId,
        impressionId,
        timestampMs,
        bagEnds,
        ids,
        wideIds,
        dense,
        labels,
        raw,
        partition,
        offset);
  }

  /** The partition of its topic the event was read from; -1 where unknown. */
  public int sourcePartition() {
    return sourcePartition;
  }

  /** The offset the event was read at; -1 where unknown. */
  public long sourceOffset() {
    return sourceOffset;
  }

  /**
   * About the bytes this part takes in memory or in state: what bounds how much one open unit may
   * keep.
   */
  public long sizeBytes() {
    return 64L
        + 2L * (requestId.length() + (impressionId == null ? 0 : impressionId.length()))
        + 4L * bagEnds.length
        + 16L * ids.length
        + 4L * (dense.length + (labels == null ? 0 : labels.length))
        + (raw == null ? 0 : raw.length);
  }

  /**
   * Whether {@code o} carries the same event: the same ids, time, values and labels (a repeat, not
   * a conflicting second version).
   */
  public boolean sameContent(EventPart o) {
    return timestampMs == o.timestampMs
        && requestId.equals(o.requestId)
        && java.util.Objects.equals(impressionId, o.impressionId)
        && java.util.Arrays.equals(bagEnds, o.bagEnds)
        && java.util.Arrays.equals(ids, o.ids)
        && java.util.Arrays.equals(wideIds, o.wideIds)
        && java.util.Arrays.equals(dense, o.dense)
        && java.util.Arrays.equals(labels, o.labels);
  }

  public long layoutFingerprint() {
    return layoutFingerprint;
  }

  public String requestId() {
    return requestId;
  }

  /** The impression's id; null for a request. */
  public String impressionId() {
    return impressionId;
  }

  public boolean isRequest() {
    return impressionId == null;
  }

  public long timestampMs() {
    return timestampMs;
  }

  public int bags() {
    return bagEnds.length;
  }

  public int bagEnd(int b) {
    return bagEnds[b];
  }

  int[] bagEnds() {
    return bagEnds;
  }

  public long[] ids() {
    return ids;
  }

  public long[] wideIds() {
    return wideIds;
  }

  /** Dense values (squashed) of this event's side, in the layout's order. */
  public float[] dense() {
    return dense;
  }

  /** Labels in the layout's order; null for a request. */
  public float[] labels() {
    return labels;
  }

  /** The event's bytes as they were read (a single-object Avro message). */
  public byte[] raw() {
    return raw;
  }
}
