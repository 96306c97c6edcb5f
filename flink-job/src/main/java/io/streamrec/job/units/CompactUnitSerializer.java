package io.streamrec.job.units;

import io.streamrec.model.units.CompactUnit;
import io.streamrec.model.units.CompactUnitCodec;
import io.streamrec.model.units.MalformedUnitException;
import java.io.IOException;
import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.base.TypeSerializerSingleton;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

/**
 * Flink's serializer of {@link CompactUnit}s, between the operators and in the trainer's
 * checkpoints: a unit is its {@link CompactUnitCodec} bytes behind their length. The codec's own
 * format byte versions the bytes, so a unit written by an earlier release of the codec still reads
 * (see {@link Snapshot}). Units are immutable: {@link #copy} hands back the same object.
 */
public final class CompactUnitSerializer extends TypeSerializerSingleton<CompactUnit> {
  private static final long serialVersionUID = 1L;

  public static final CompactUnitSerializer INSTANCE = new CompactUnitSerializer();

  /** No unit's bytes are longer than this: a larger length prefix is corrupt input. */
  static final int MAX_UNIT_BYTES = 256 << 20;

  private CompactUnitSerializer() {}

  @Override
  public boolean isImmutableType() {
    return true;
  }

  @Override
  public CompactUnit createInstance() {
    return null;
  }

  @Override
  public CompactUnit copy(CompactUnit from) {
    return from;
  }

  @Override
  public CompactUnit copy(CompactUnit from, CompactUnit reuse) {
    return from;
  }

  @Override
  public int getLength() {
    return -1;
  }

  @Override
  public void serialize(CompactUnit unit, DataOutputView out) throws IOException {
    byte[] bytes = CompactUnitCodec.encode(unit);
    out.writeInt(bytes.length);
    out.write(bytes);
  }

  @Override
  public CompactUnit deserialize(DataInputView in) throws IOException {
    int n = in.readInt();
    if (n < 0 || n > MAX_UNIT_BYTES) {
      throw new IOException("corrupt unit stream: a unit of " + n + " bytes");
    }
    byte[] bytes = new byte[n];
    in.readFully(bytes);
    try {
      return CompactUnitCodec.decode(bytes);
    } catch (MalformedUnitException e) {
      throw new IOException(e.getMessage(), e);
    }
  }

  @Override
  public CompactUnit deserialize(CompactUnit reuse, DataInputView in) throws IOException {
    return deserialize(in);
  }

  @Override
  public void copy(DataInputView source, DataOutputView target) throws IOException {
    int n = source.readInt();
    if (n < 0 || n > MAX_UNIT_BYTES) {
      throw new IOException("corrupt unit stream: a unit of " + n + " bytes");
    }
    target.writeInt(n);
    target.write(source, n);
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

  /** The serializer as {@link TypeSerializer}, for Flink APIs that take one. */
  public static TypeSerializer<CompactUnit> get() {
    return INSTANCE;
  }
}
