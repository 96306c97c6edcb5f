package io.streamrec.gpu;

import java.util.Objects;

/**
 * Blocks of fields in the rows of a buffer: row {@code r} holds {@code fields} blocks of {@code
 * dim} values side by side (the width is the operation's), the first at column {@code col}, rows
 * {@code stride} apart. The request-only model's feature embeddings are laid out so in the towers'
 * inputs, one block per categorical feature, which is where {@link ComputeBackend#fieldDots} reads
 * them; the gradients of an operation on field blocks have the same layout, in another buffer
 * ({@link #of}).
 */
public record FieldBlocks(Floats data, int stride, int col, int fields) {
  public FieldBlocks {
    Objects.requireNonNull(data, "data");
    if (stride < 0 || col < 0 || fields < 0) {
      throw new IllegalArgumentException(
          "stride, col and fields must be >= 0; got " + stride + ", " + col + ", " + fields);
    }
  }

  /** The same layout in {@code other} (e.g. the gradients of these blocks). */
  public FieldBlocks of(Floats other) {
    return new FieldBlocks(other, stride, col, fields);
  }
}
