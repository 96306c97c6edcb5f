package io.streamrec.gpu.internal.cuda;

/** Closing several native resources: try every one, throw the first error at the end. */
final class Closing {
  private Closing() {}

  /** Runs {@code r}; returns {@code first}, or {@code r}'s error when it is the first. */
  static RuntimeException keep(RuntimeException first, Runnable r) {
    try {
      r.run();
      return first;
    } catch (RuntimeException e) {
      return first == null ? e : first;
    }
  }
}
