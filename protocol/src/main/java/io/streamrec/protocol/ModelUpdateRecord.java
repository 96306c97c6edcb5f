package io.streamrec.protocol;

import java.util.Arrays;
import java.util.Objects;

/**
 * One record for the model-updates topic, already encoded: its key, its value (null for a
 * tombstone) and its timestamp (the event time the publish covers). A Flink POJO.
 */
public final class ModelUpdateRecord {
  public byte[] key;
  public byte[] value;
  public long timestampMs;

  public ModelUpdateRecord() {}

  public ModelUpdateRecord(byte[] key, byte[] value, long timestampMs) {
    this.key = key;
    this.value = value;
    this.timestampMs = timestampMs;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ModelUpdateRecord r
        && timestampMs == r.timestampMs
        && Arrays.equals(key, r.key)
        && Arrays.equals(value, r.value);
  }

  @Override
  public int hashCode() {
    return Objects.hash(Arrays.hashCode(key), Arrays.hashCode(value), timestampMs);
  }
}
