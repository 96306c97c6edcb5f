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
