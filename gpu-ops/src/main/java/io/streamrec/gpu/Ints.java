package io.streamrec.gpu;

/** A buffer of {@code int}s in a backend's memory; see {@link Floats}. */
public interface Ints extends AutoCloseable {
  /** Number of ints. */
  int length();

  @Override
  void close();
}
