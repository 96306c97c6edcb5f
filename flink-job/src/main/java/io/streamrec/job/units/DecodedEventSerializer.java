package io.streamrec.job.units;

import io.streamrec.model.units.EventPartCodec;
import io.streamrec.model.units.MalformedUnitException;
import io.streamrec.schemas.AvroCodec;
import io.streamrec.schemas.DeadLetter;
import java.util.Arrays;
import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;

/**
 * Flink's serializer of {@link DecodedEvent}s: a tag byte (1 an event part, 2 a dead letter), then
 * the part's {@link EventPartCodec} bytes or the dead letter's single-object Avro message.
 */
public final class DecodedEventSerializer extends CodecSerializer<DecodedEvent> {
  private static final long serialVersionUID = 1L;

  public static final DecodedEventSerializer INSTANCE = new DecodedEventSerializer();

  private static final byte PART = 1;
  private static final byte DEAD_LETTER = 2;

  private DecodedEventSerializer() {}

  @Override
  byte[] encode(DecodedEvent value) {
    byte[] body =
        value.part() != null
            ? EventPartCodec.encode(value.part())
            : AvroCodec.encode(value.deadLetter());
    byte[] out = new byte[body.length + 1];
    out[0] = value.part() != null ? PART : DEAD_LETTER;
    System.arraycopy(body, 0, out, 1, body.length);
    return out;
  }

  @Override
  DecodedEvent decode(byte[] bytes) {
    if (bytes.length == 0) {
      throw new MalformedUnitException("an empty decoded event");
    }
    if (bytes[0] == PART) {
      return DecodedEvent.of(EventPartCodec.decode(bytes, 1, bytes.length - 1));
    }
    if (bytes[0] == DEAD_LETTER) {
      return DecodedEvent.dead(
          AvroCodec.decode(Arrays.copyOfRange(bytes, 1, bytes.length), DeadLetter.class));
    }
    throw new MalformedUnitException("a decoded event tagged " + bytes[0]);
  }

  @Override
  public TypeSerializerSnapshot<DecodedEvent> snapshotConfiguration() {
    return new Snapshot();
  }

  /** Version 1. */
  public static final class Snapshot extends SimpleTypeSerializerSnapshot<DecodedEvent> {
    public Snapshot() {
      super(() -> INSTANCE);
    }
  }

  private Object readResolve() {
    return INSTANCE;
  }
}
