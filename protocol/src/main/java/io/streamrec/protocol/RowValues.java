package io.streamrec.protocol;

import io.streamrec.schemas.DeadLetterReasons;
import io.streamrec.schemas.MalformedRecordException;
import io.streamrec.schemas.ModelDelta;
import io.streamrec.schemas.RowEncoding;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

/**
 * Puts a row's values into a {@link ModelDelta} in one of the {@link RowEncoding}s, and reads them
 * back: FLOAT32 in the {@code values} array, FLOAT16 or BFLOAT16 as two little-endian bytes per
 * value in {@code packed} (half the size on the wire and in the broker). See docs/model-updates.md.
 */
public final class RowValues {
  private static final ByteBuffer EMPTY = ByteBuffer.allocate(0);

  private RowValues() {}

  /**
   * Sets {@code dim} values of {@code values} from {@code offset} on {@code delta} in {@code
   * encoding}.
   */
  public static ModelDelta.Builder set(
      ModelDelta.Builder delta, RowEncoding encoding, float[] values, int offset, int dim) {
    delta.setEncoding(encoding);
    if (encoding == RowEncoding.FLOAT32) {
      Float[] boxed = new Float[dim];
      for (int j = 0; j < dim; j++) {
        boxed[j] = values[offset + j];
      }
      return delta.setValues(List.of(boxed)).setPacked(EMPTY);
    }
    ByteBuffer packed = ByteBuffer.allocate(2 * dim).order(ByteOrder.LITTLE_ENDIAN);
    for (int j = 0; j < dim; j++) {
      float x = values[offset + j];
      packed.putShort(
          encoding == RowEncoding.FLOAT16 ? HalfFloats.toFloat16(x) : HalfFloats.toBfloat16(x));
    }
    packed.flip();
    return delta.setValues(List.of()).setPacked(packed);
  }

  /** The values a delta carries, as float32, whatever its encoding. */
  public static float[] get(ModelDelta delta) {
    RowEncoding encoding = delta.getEncoding() == null ? RowEncoding.FLOAT32 : delta.getEncoding();
    if (encoding == RowEncoding.FLOAT32) {
      if (delta.getPacked() != null && delta.getPacked().hasRemaining()) {
        throw new MalformedRecordException(
            DeadLetterReasons.MALFORMED,
            "a FLOAT32 delta must carry its values in 'values' only, but 'packed' holds "
                + delta.getPacked().remaining()
                + " bytes");
      }
      List<Float> v = delta.getValues();
      float[] out = new float[v.size()];
      for (int i = 0; i < out.length; i++) {
        out[i] = v.get(i);
      }
      return out;
    }
    if (!delta.getValues().isEmpty()) {
      throw new MalformedRecordException(
          DeadLetterReasons.MALFORMED,
          "a "
              + encoding
              + " delta must carry its values in 'packed' only, but 'values' holds "
              + delta.getValues().size());
    }
    ByteBuffer packed = delta.getPacked().duplicate().order(ByteOrder.LITTLE_ENDIAN);
    if (packed.remaining() % 2 != 0) {
      throw new MalformedRecordException(
          DeadLetterReasons.MALFORMED,
          "a "
              + encoding
              + " delta's 'packed' holds "
              + packed.remaining()
              + " bytes, not a whole number of 16-bit values");
    }
    float[] out = new float[packed.remaining() / 2];
    for (int i = 0; i < out.length; i++) {
      short h = packed.getShort();
      out[i] =
          encoding == RowEncoding.FLOAT16 ? HalfFloats.fromFloat16(h) : HalfFloats.fromBfloat16(h);
    }
    return out;
  }
}
