package io.streamrec.job.units;

import java.io.IOException;
import org.apache.flink.api.common.typeutils.base.TypeSerializerSingleton;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

/**
 * A serializer of an immutable type that has a checked binary codec of its own: a value is its
 * codec bytes behind their length. The codec's format byte versions the bytes, so what an earlier
 * release wrote still reads and a restore needs no migration. {@link #copy} hands back the same
 * object.
 */
abstract class CodecSerializer<T> extends TypeSerializerSingleton<T> {
  private static final long serialVersionUID = 1L;

  /** No value's bytes are longer than this: a larger length prefix is corrupt input. */
  static final int MAX_BYTES = 256 << 20;

  abstract byte[] encode(T value);

  /** The value of {@code bytes}; throws a runtime exception naming what is wrong with them. */
  abstract T decode(byte[] bytes);

  @Override
  public final boolean isImmutableType() {
    return true;
  }

  @Override
  public final T createInstance() {
    return null;
  }

  @Override
  public final T copy(T from) {
    return from;
  }

  @Override
  public final T copy(T from, T reuse) {
    return from;
  }

  @Override
  public final int getLength() {
    return -1;
  }

  @Override
  public final void serialize(T value, DataOutputView out) throws IOException {
    byte[] bytes = encode(value);
    out.writeInt(bytes.length);
    out.write(bytes);
  }

  @Override
  public final T deserialize(DataInputView in) throws IOException {
    byte[] bytes = new byte[length(in)];
    in.readFully(bytes);
    try {
      return decode(bytes);
    } catch (RuntimeException e) {
      throw new IOException(e.getMessage(), e);
    }
  }

  @Override
  public final T deserialize(T reuse, DataInputView in) throws IOException {
    return deserialize(in);
  }

  @Override
  public final void copy(DataInputView source, DataOutputView target) throws IOException {
    int n = length(source);
    target.writeInt(n);
    target.write(source, n);
  }

  private static int length(DataInputView in) throws IOException {
    int n = in.readInt();
    if (n < 0 || n > MAX_BYTES) {
      throw new IOException("corrupt stream: a value of " + n + " bytes");
    }
    return n;
  }
}
