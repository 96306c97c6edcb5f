package io.streamrec.job.units;

import io.streamrec.model.units.CompactUnit;
import io.streamrec.model.units.EventPart;
import org.apache.flink.api.common.serialization.SerializerConfig;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.TypeSerializer;

/** Flink's type information of a type serialized by its {@link CodecSerializer}. */
public final class CodecTypeInfo<T> extends TypeInformation<T> {
  private static final long serialVersionUID = 1L;

  public static final CodecTypeInfo<CompactUnit> COMPACT_UNIT =
      new CodecTypeInfo<>(CompactUnit.class, CompactUnitSerializer.INSTANCE);

  public static final CodecTypeInfo<EventPart> EVENT_PART =
      new CodecTypeInfo<>(EventPart.class, EventPartSerializer.INSTANCE);

  public static final CodecTypeInfo<DecodedEvent> DECODED_EVENT =
      new CodecTypeInfo<>(DecodedEvent.class, DecodedEventSerializer.INSTANCE);

  private final Class<T> type;
  private final CodecSerializer<T> serializer;

  private CodecTypeInfo(Class<T> type, CodecSerializer<T> serializer) {
    this.type = type;
    this.serializer = serializer;
  }

  @Override
  public boolean isBasicType() {
    return false;
  }

  @Override
  public boolean isTupleType() {
    return false;
  }

  @Override
  public int getArity() {
    return 1;
  }

  @Override
  public int getTotalFields() {
    return 1;
  }

  @Override
  public Class<T> getTypeClass() {
    return type;
  }

  @Override
  public boolean isKeyType() {
    return false;
  }

  @Override
  public TypeSerializer<T> createSerializer(SerializerConfig config) {
    return serializer;
  }

  @Override
  public String toString() {
    return type.getSimpleName();
  }

  @Override
  public boolean equals(Object obj) {
    return obj instanceof CodecTypeInfo<?> o && o.type == type;
  }

  @Override
  public int hashCode() {
    return type.hashCode();
  }

  @Override
  public boolean canEqual(Object obj) {
    return obj instanceof CodecTypeInfo;
  }
}
