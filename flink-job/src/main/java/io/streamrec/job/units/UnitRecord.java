package io.streamrec.job.units;

/**
 * One record of the request-units topic as the source reads it, not yet decoded (a Flink POJO):
 * decoding, with its checks and dead letters, happens in {@link UnitDecoder}.
 */
public final class UnitRecord {
  public String topic;
  public byte[] key;
  public byte[] value;
  public long timestampMs;

  public UnitRecord() {}

  public UnitRecord(String topic, byte[] key, byte[] value, long timestampMs) {
    this.topic = topic;
    this.key = key;
    this.value = value;
    this.timestampMs = timestampMs;
  }
}
