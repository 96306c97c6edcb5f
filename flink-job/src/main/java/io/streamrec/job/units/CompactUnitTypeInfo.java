package io.streamrec.job.units;

import io.streamrec.model.units.CompactUnit;
import org.apache.flink.api.common.serialization.SerializerConfig;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.TypeSerializer;

/** Flink's type information of {@link CompactUnit}: serialized by {@link CompactUnitSerializer}. */
public final class CompactUnitTypeInfo extends TypeInformation<CompactUnit> {
  private static final long serialVersionUID = 1L;

  public static final CompactUnitTypeInfo INSTANCE = new CompactUnitTypeInfo();

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
  public Class<CompactUnit> getTypeClass() {
    return CompactUnit.class;
  }

  @Override
  public boolean isKeyType() {
    return false;
  }

  @Override
  public TypeSerializer<CompactUnit> createSerializer(SerializerConfig config) {
    return CompactUnitSerializer.INSTANCE;
  }

  @Override
  public String toString() {
    return "CompactUnit";
  }

  @Override
  public boolean equals(Object obj) {
    return obj instanceof CompactUnitTypeInfo;
  }

  @Override
  public int hashCode() {
    return CompactUnitTypeInfo.class.hashCode();
  }

  @Override
  public boolean canEqual(Object obj) {
    return obj instanceof CompactUnitTypeInfo;
  }
}
