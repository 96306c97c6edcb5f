package io.streamrec.model;

import io.streamrec.gpu.ComputeBackend;
import io.streamrec.gpu.Ints;

/** One growable int buffer in a backend's memory; see {@link ScratchFloats}. Not thread-safe. */
final class ScratchInts implements AutoCloseable {
  private final ComputeBackend backend;
  private Ints buffer;

  ScratchInts(ComputeBackend backend) {
    this.backend = backend;
  }

  /** The buffer, at least {@code n} long; its contents are not defined after a growth. */
  Ints get(int n) {
    if (buffer == null || buffer.length() < n) {
      if (buffer != null) {
        buffer.close();
      }
      buffer = backend.allocInts(ScratchFloats.grownLength(n));
    }
    return buffer;
  }

  /** The buffer as it is now (what the last {@link #get} returned). */
  Ints current() {
    if (buffer == null) {
      throw new IllegalStateException("scratch buffer read before it was written");
    }
    return buffer;
  }

  /** The buffer holding {@code src[0, n)}. */
  Ints upload(int[] src, int n) {
    Ints i = get(n);
    backend.upload(src, 0, i, 0, n);
    return i;
  }

  @Override
  public void close() {
    if (buffer != null) {
      buffer.close();
      buffer = null;
    }
  }
}
