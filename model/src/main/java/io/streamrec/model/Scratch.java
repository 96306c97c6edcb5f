package io.streamrec.model;

import io.streamrec.gpu.ComputeBackend;
import io.streamrec.gpu.Floats;
import io.streamrec.gpu.Ints;
import java.util.ArrayList;
import java.util.List;

/**
 * Growable scratch buffers in a backend's memory, reused from batch to batch: a buffer is
 * reallocated only when a batch needs more than it holds (with headroom), so steady-state training
 * allocates nothing. Slots are numbered by the caller. Not thread-safe.
 */
public final class Scratch implements AutoCloseable {
  /** Grow to this multiple of what is asked, so slowly growing batches do not reallocate each time. */
  private static final double GROWTH = 1.5;

  private final ComputeBackend backend;
  private final List<Floats> floats = new ArrayList<>();
  private final List<Ints> ints = new ArrayList<>();

  public Scratch(ComputeBackend backend) {
    this.backend = backend;
  }

  /** Float buffer number {@code slot}, at least {@code n} long. Its contents are not defined. */
  public Floats floats(int slot, int n) {
    while (floats.size() <= slot) {
      floats.add(null);
    }
    Floats f = floats.get(slot);
    if (f == null || f.length() < n) {
      if (f != null) {
        f.close();
      }
      f = backend.allocFloats(Math.max(1, (int) Math.min(Integer.MAX_VALUE, (long) (n * GROWTH))));
      floats.set(slot, f);
    }
    return f;
  }

  /** Int buffer number {@code slot}, at least {@code n} long. Its contents are not defined. */
  public Ints ints(int slot, int n) {
    while (ints.size() <= slot) {
      ints.add(null);
    }
    Ints i = ints.get(slot);
    if (i == null || i.length() < n) {
      if (i != null) {
        i.close();
      }
      i = backend.allocInts(Math.max(1, (int) Math.min(Integer.MAX_VALUE, (long) (n * GROWTH))));
      ints.set(slot, i);
    }
    return i;
  }

  /** Int buffer number {@code slot} holding {@code src[0, n)}. */
  public Ints upload(int slot, int[] src, int n) {
    Ints i = ints(slot, n);
    backend.upload(src, 0, i, 0, n);
    return i;
  }

  /** Float buffer number {@code slot} holding {@code src[0, n)}. */
  public Floats upload(int slot, float[] src, int n) {
    Floats f = floats(slot, n);
    backend.upload(src, 0, f, 0, n);
    return f;
  }

  /** Float buffer number {@code slot} with its first {@code n} values zero. */
  public Floats zeros(int slot, int n) {
    Floats f = floats(slot, n);
    backend.fill(f, 0, n, 0f);
    return f;
  }

  @Override
  public void close() {
    for (int k = ints.size() - 1; k >= 0; k--) {
      if (ints.get(k) != null) {
        ints.get(k).close();
      }
    }
    for (int k = floats.size() - 1; k >= 0; k--) {
      if (floats.get(k) != null) {
        floats.get(k).close();
      }
    }
    ints.clear();
    floats.clear();
  }
}
