package io.streamrec.job.deadletter;

import io.streamrec.schemas.AvroCodec;
import io.streamrec.schemas.DeadLetter;
import java.nio.ByteBuffer;
import org.apache.avro.specific.SpecificRecord;

/** Builds the {@link DeadLetter} records every stage of the job sends to the dead-letter topic. */
public final class DeadLetters {
  private DeadLetters() {}

  /** A dead letter for raw bytes that could not be read (the bytes are kept as they came). */
  public static DeadLetter ofBytes(
      String reason,
      String sourceTopic,
      String detail,
      String key,
      long timestampMs,
      byte[] payload) {
    return DeadLetter.newBuilder()
        .setReason(reason)
        .setSourceTopic(sourceTopic)
        .setDetail(detail)
        .setKey(key)
        .setTimestampMs(timestampMs)
        .setPayload(ByteBuffer.wrap(payload == null ? new byte[0] : payload))
        .build();
  }

  /** A dead letter for a parsed event (kept as its single-object Avro encoding). */
  public static DeadLetter ofRecord(
      String reason,
      String sourceTopic,
      String detail,
      String key,
      long timestampMs,
      SpecificRecord event) {
    return ofBytes(reason, sourceTopic, detail, key, timestampMs, AvroCodec.encode(event));
  }
}
