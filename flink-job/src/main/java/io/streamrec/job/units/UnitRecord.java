package io.streamrec.job.units;

/**
 * One record of the request-units topic as read, before decoding: where it was read, its key, value
 * and timestamp, and, where the source did not believe its timestamp, why (the record then takes no
 * part in the watermark).
 */
public final class UnitRecord {
  public String topic;
  public int partition = -1;
  public long offset = -1;
  public byte[] key;
  public byte[] value;
  public long timestampMs;

  /** Why its timestamp is implausible; null when it is not. */
  public String implausibleTime;

  public UnitRecord() {}

  public UnitRecord(String topic, byte[] key, byte[] value, long timestampMs) {
    this.topic = topic;
    this.key = key;
    this.value = value;
    this.timestampMs = timestampMs;
  }

  /** The event time the watermarks see: none ({@link Long#MIN_VALUE}) for an implausible one. */
  public long eventTimeMs() {
    return implausibleTime == null ? timestampMs : Long.MIN_VALUE;
  }
}
