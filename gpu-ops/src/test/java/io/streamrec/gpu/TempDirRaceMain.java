package io.streamrec.gpu;

import java.io.File;
import java.io.IOException;

/**
 * The race of the CUDA probe with another thread's first temporary file, without Flink: a thread
 * waits for {@code java.io.tmpdir} to change (the CUDA backend changes it while JCuda loads its
 * native library), then makes the JVM's first temporary file, as RocksDB does when it unpacks its
 * own native library in the trainer's task. Once the probe is done, this thread makes another.
 * Prints {@code first: <where or error>} and {@code after: <where or error>}.
 *
 * <p>Run by {@code CudaLibraryLoadingTest} in a JVM of its own, whose JDK has made no temporary
 * file yet.
 */
public final class TempDirRaceMain {
  private TempDirRaceMain() {}

  public static void main(String[] args) throws Exception {
    String tmp = System.getProperty("java.io.tmpdir");
    String[] first = {"the property never changed"};
    Thread other =
        new Thread(
            () -> {
              long until = System.nanoTime() + 30_000_000_000L;
              while (tmp.equals(System.getProperty("java.io.tmpdir"))
                  && System.nanoTime() < until) {
                Thread.onSpinWait();
              }
              first[0] = tempFile();
            });
    other.start();
    // the probe, as the backend makes it: it loads JCuda's library with the property changed
    String why = CudaBackend.unavailableReason();
    other.join();
    System.out.println("probe: " + (why == null ? "usable" : why));
    System.out.println("first: " + first[0]);
    System.out.println("after: " + tempFile());
  }

  /** Where a new temporary file went (it is deleted again), or why it could not be made. */
  private static String tempFile() {
    try {
      File f = File.createTempFile("race-", ".tmp");
      String where = f.getParent();
      if (!f.delete()) {
        return "not deleted: " + f;
      }
      return where;
    } catch (IOException e) {
      return "failed: " + e.getMessage();
    }
  }
}
