package io.streamrec.model;

import io.streamrec.gpu.ComputeBackend;
import io.streamrec.gpu.Floats;

/**
 * One growable float buffer in a backend's memory, reused from batch to batch: it is reallocated
 * only when a batch needs more than it holds (with headroom), so steady-state training allocates
 * nothing. Each buffer is a named field of the workspace that owns it. Not thread-safe.
 */
final class ScratchFloats implements AutoCloseable {
  /**
   * Grow to this multiple of what is asked, so slowly growing batches do not reallocate each time.
   */
  static final double GROWTH = 1.5;

  private final ComputeBackend backend;
  private Floats buffer;

  ScratchFloats(ComputeBackend backend) {
    this.backend = backend;
  }

  /** The buffer, at least {@code n} long; its contents are not defined after a growth. */
  Floats get(int n) {
    if (buffer == null || buffer.length() < n) {
      if (buffer != null) {
        buffer.close();
      }
      buffer = backend.allocFloats(grownLength(n));
    }
    return buffer;
  }

  /** The buffer as it is now (what the last {@link #get} returned). */
  Floats current() {
    if (buffer == null) {
      throw new IllegalStateException("scratch buffer read before it was written");
    }
    return buffer;
  }

  /** The buffer holding {@code src[0, n)}. */
  Floats upload(float[] src, int n) {
    Floats f = get(n);
    backend.upload(src, 0, f, 0, n);
    return f;
  }

  /** The buffer with its first {@code n} values zero. */
  Floats zeros(int n) {
    Floats f = get(n);
    backend.fill(f, 0, n, 0f);
    return f;
  }

  static int grownLength(int n) {
    return Math.max(1, (int) Math.min(Integer.MAX_VALUE, (long) (n * GROWTH)));
  }

  @Override
  public void close() {
    if (buffer != null) {
      buffer.close();
      buffer = null;
    }
  }
}
