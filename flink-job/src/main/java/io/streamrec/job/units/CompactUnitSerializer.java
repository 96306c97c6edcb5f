package io.streamrec.job.units;

import io.streamrec.model.units.CompactUnit;
import io.streamrec.model.units.CompactUnitCodec;
import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;

/**
 * Flink's serializer of {@link CompactUnit}s, between the operators and in the trainer's
 * checkpoints: a unit is its {@link CompactUnitCodec} bytes behind their length.
 */
public final class CompactUnitSerializer extends CodecSerializer<CompactUnit> {
  private static final long serialVersionUID = 1L;

  public static final CompactUnitSerializer INSTANCE = new CompactUnitSerializer();

  private CompactUnitSerializer() {}

  @Override
  byte[] encode(CompactUnit value) {
    return CompactUnitCodec.encode(value);
  }

  @Override
  CompactUnit decode(byte[] bytes) {
    return CompactUnitCodec.decode(bytes);
  }

  @Override
  public TypeSerializerSnapshot<CompactUnit> snapshotConfiguration() {
    return new Snapshot();
  }

  /**
   * The serializer's snapshot in a checkpoint. Version 1: a unit is its codec bytes behind an int
   * length; the codec reads every format it has written, so a restore never needs a migration.
   */
  public static final class Snapshot extends SimpleTypeSerializerSnapshot<CompactUnit> {
    public Snapshot() {
      super(() -> INSTANCE);
    }
  }

  /** Keeps the singleton a singleton through Java serialization of the job graph. */
  private Object readResolve() {
    return INSTANCE;
  }
}
