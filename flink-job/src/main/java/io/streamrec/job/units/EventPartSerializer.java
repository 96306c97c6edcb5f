package io.streamrec.job.units;

import io.streamrec.model.units.EventPart;
import io.streamrec.model.units.EventPartCodec;
import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;

/**
 * Flink's serializer of {@link EventPart}s, from the decode stage to the assembler and in the
 * assembler's checkpoints: a part is its {@link EventPartCodec} bytes behind their length.
 */
public final class EventPartSerializer extends CodecSerializer<EventPart> {
  private static final long serialVersionUID = 1L;

  public static final EventPartSerializer INSTANCE = new EventPartSerializer();

  private EventPartSerializer() {}

  @Override
  byte[] encode(EventPart value) {
    return EventPartCodec.encode(value);
  }

  @Override
  EventPart decode(byte[] bytes) {
    return EventPartCodec.decode(bytes);
  }

  @Override
  public TypeSerializerSnapshot<EventPart> snapshotConfiguration() {
    return new Snapshot();
  }

  /** Version 1: a part is its codec bytes behind an int length. */
  public static final class Snapshot extends SimpleTypeSerializerSnapshot<EventPart> {
    public Snapshot() {
      super(() -> INSTANCE);
    }
  }

  private Object readResolve() {
    return INSTANCE;
  }
}
