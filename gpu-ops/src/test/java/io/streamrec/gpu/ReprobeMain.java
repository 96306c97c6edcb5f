package io.streamrec.gpu;

/**
 * Asks {@link CudaBackend#unavailableReason} three times: at once, again at once, and once the
 * reason's time to stand has passed; prints each answer ({@code first:}, {@code at once:}, {@code
 * later:}). Run by {@code CudaLibraryLoadingTest} in a JVM of its own, on a stand-in driver library
 * whose device appears after the first look.
 */
public final class ReprobeMain {
  private ReprobeMain() {}

  public static void main(String[] args) throws InterruptedException {
    System.out.println("first: " + CudaBackend.unavailableReason());
    System.out.println("at once: " + CudaBackend.unavailableReason());
    Thread.sleep(CudaBackend.REPROBE_NANOS / 1_000_000 + 200);
    System.out.println("later: " + CudaBackend.unavailableReason());
  }
}
