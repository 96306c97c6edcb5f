package io.streamrec.gpu;

/**
 * Opens a {@link CudaBackend} on a driver whose device fails to open, and prints the failure
 * ({@code open: <message>}) and each failure suppressed under it ({@code suppressed: <message>}).
 * Run by {@code CudaLibraryLoadingTest} in a JVM of its own, on a stand-in driver library.
 */
public final class OpenFailureMain {
  private OpenFailureMain() {}

  public static void main(String[] args) {
    try (CudaBackend b = new CudaBackend()) {
      System.out.println("opened: " + b.deviceName());
    } catch (RuntimeException e) {
      System.out.println("open: " + e.getMessage());
      for (Throwable s : e.getSuppressed()) {
        System.out.println("suppressed: " + s.getMessage());
      }
    }
  }
}
