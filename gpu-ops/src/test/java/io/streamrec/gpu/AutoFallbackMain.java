package io.streamrec.gpu;

/**
 * What a run with {@code trainer.backend: auto} reports, against a driver that finds a device which
 * then fails to open: prints the backend {@link Backends#resolvedName} names before and after an
 * {@code auto} backend is created, and the one created. Run by {@code CudaLibraryLoadingTest} in a
 * JVM of its own, on a stand-in driver library.
 */
public final class AutoFallbackMain {
  private AutoFallbackMain() {}

  public static void main(String[] args) {
    System.out.println("probe: " + CudaBackend.unavailableReason());
    System.out.println("resolved before: " + Backends.resolvedName(BackendMode.AUTO));
    try (ComputeBackend b = Backends.create(BackendMode.AUTO)) {
      System.out.println("created: " + b.name());
    }
    System.out.println("resolved after: " + Backends.resolvedName(BackendMode.AUTO));
    System.out.println("open failure: " + Backends.autoOpenFailure());
  }
}
