package io.streamrec.job.deadletter;

import io.streamrec.common.Sha256;
import io.streamrec.model.units.EventPart;
import io.streamrec.schemas.DeadLetter;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Builds the {@link DeadLetter} records every stage of the job sends to the dead-letter topic. A
 * dead letter always fits a Kafka record, whatever came in: it keeps at most a configured prefix of
 * the record's bytes (with their full length and SHA-256, so records cut alike stay apart), a
 * detail and a key of bounded length, and says where the record was read (topic, partition,
 * offset).
 */
public final class DeadLetters {
  /** Characters of a detail kept: it is written by the job, but may quote a producer's value. */
  static final int MAX_DETAIL_CHARS = 2_000;

  /** Characters of a record's key kept: a producer may send any key. */
  static final int MAX_KEY_CHARS = 1_000;

  private DeadLetters() {}

  /**
   * Where a dead record was read: its topic, partition and offset (-1 where unknown), key and time.
   */
  public record Origin(String topic, int partition, long offset, String key, long timestampMs) {
    /** Where {@code part} was read, on {@code topic}: its request id is its key. */
    public static Origin of(String topic, EventPart part) {
      return new Origin(
          topic, part.sourcePartition(), part.sourceOffset(), part.requestId(), part.timestampMs());
    }
  }

  /**
   * A dead letter for {@code payload}, the record's bytes as they came (null: none), keeping at
   * most {@code maxPayloadBytes} of them.
   */
  public static DeadLetter of(
      String reason, Origin origin, String detail, byte[] payload, int maxPayloadBytes) {
    byte[] bytes = payload == null ? new byte[0] : payload;
    byte[] kept = bytes.length <= maxPayloadBytes ? bytes : Arrays.copyOf(bytes, maxPayloadBytes);
    return DeadLetter.newBuilder()
        .setReason(reason)
        .setSourceTopic(origin.topic())
        .setSourcePartition(origin.partition())
        .setSourceOffset(origin.offset())
        .setDetail(cut(detail, MAX_DETAIL_CHARS))
        .setKey(origin.key() == null ? null : cut(origin.key(), MAX_KEY_CHARS))
        .setTimestampMs(origin.timestampMs())
        .setPayload(ByteBuffer.wrap(kept))
        .setPayloadBytes(bytes.length)
        .setPayloadSha256(Sha256.hex(bytes))
        .build();
  }

  /** {@code d} with at most {@code maxPayloadBytes} of its payload, its length and hash kept. */
  public static DeadLetter fit(DeadLetter d, int maxPayloadBytes) {
    ByteBuffer p = d.getPayload();
    boolean fits =
        p.remaining() <= maxPayloadBytes
            && d.getDetail().length() <= MAX_DETAIL_CHARS
            && (d.getKey() == null || d.getKey().length() <= MAX_KEY_CHARS);
    if (fits) {
      return d;
    }
    byte[] bytes = new byte[p.remaining()];
    p.duplicate().get(bytes);
    return DeadLetter.newBuilder(d)
        .setPayload(ByteBuffer.wrap(Arrays.copyOf(bytes, Math.min(bytes.length, maxPayloadBytes))))
        .setPayloadBytes(d.getPayloadBytes() >= 0 ? d.getPayloadBytes() : bytes.length)
        .setPayloadSha256(d.getPayloadSha256() != null ? d.getPayloadSha256() : Sha256.hex(bytes))
        .setDetail(cut(d.getDetail(), MAX_DETAIL_CHARS))
        .setKey(d.getKey() == null ? null : cut(d.getKey(), MAX_KEY_CHARS))
        .build();
  }

  /** The key of a Kafka record as text (null for none). */
  public static String key(byte[] key) {
    if (key == null) {
      return null;
    }
    int n = Math.min(key.length, 4 * MAX_KEY_CHARS);
    return new String(key, 0, n, StandardCharsets.UTF_8);
  }

  /** {@code s}, or its start and its length within {@code max} characters. */
  private static String cut(String s, int max) {
    return s.length() <= max ? s : s.substring(0, max - 24) + "… (" + s.length() + " chars)";
  }
}
