package io.streamrec.gpu;

/**
 * A buffer of {@code float}s in a backend's memory: host memory for {@link CpuBackend}, device
 * memory for the CUDA backend. Made by {@link ComputeBackend#allocFloats}, read and written by that
 * backend's operations and copies; closing it frees the memory. A buffer belongs to the backend
 * that made it and is not thread-safe.
 */
public interface Floats extends AutoCloseable {
  /** Number of floats. */
  int length();

  @Override
  void close();
}
