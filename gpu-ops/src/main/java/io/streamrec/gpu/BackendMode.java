package io.streamrec.gpu;

import java.util.Locale;

/**
 * Which {@link ComputeBackend} to run: {@code auto} picks CUDA where a device is usable, else CPU.
 */
public enum BackendMode {
  AUTO,
  CPU,
  CUDA;

  public static BackendMode parse(String s) {
    if (s == null) {
      throw new IllegalArgumentException("backend must be one of auto, cpu, cuda; got null");
    }
    try {
      return valueOf(s.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "backend must be one of auto, cpu, cuda; got '" + s + "'", e);
    }
  }
}
