package io.streamrec.gpu.internal.cuda;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * Loads JCuda's driver binding (the native library {@code libJCudaDriver-<version>-<platform>}) for
 * the class loader of this class, once, so that it loads again in the next class loader that holds
 * these classes.
 *
 * <p><b>Why.</b> A Flink TaskManager loads a job's classes in a user-code class loader and, when
 * the job's tasks restart, may load them again in a new one, in the same JVM. JCuda's classes in
 * the job jar come along, and the first use of {@code JCudaDriver} loads its native library: JCuda
 * writes it from its jar to a fixed file in {@code java.io.tmpdir} and {@code System.load}s that
 * file. The JVM binds a library file to one class loader only: the restarted task's loader is
 * refused ({@code UnsatisfiedLinkError}: already loaded in another class loader) and the CUDA
 * backend would be gone until the TaskManager restarts.
 *
 * <p><b>How.</b> {@code JCudaDriver} of this class loader is initialised while {@code
 * java.io.tmpdir} names a directory made for this class loader, so JCuda writes and loads a copy of
 * its own; the copy is deleted once loaded (the loaded library stays mapped) and the property is
 * restored. The driver itself ({@code libcuda.so.1}) is one per process whatever the class loader.
 * Where JCuda is on the class path of a parent loader (Flink's {@code lib/}), its class is
 * initialised once for the JVM and this changes nothing. While the property is changed, under a
 * lock every class loader shares, another thread that reads it gets a directory that exists and is
 * writable.
 *
 * <p>The JDK's own temporary files ({@link java.io.File#createTempFile} and {@link
 * Files#createTempFile} without a directory) read the property once, at their first use in the JVM,
 * and keep that directory for good. A first use by another thread inside the window (RocksDB
 * unpacking its native library in the trainer's task while the backend probes CUDA) would keep this
 * class loader's directory, deleted a moment later, and every temporary file of the JVM after it
 * would fail: the trainer's RocksDB then never loads. So both are used once before the property
 * changes, which fixes them on the JVM's real directory.
 */
public final class JCudaLibrary {
  /** JCuda's class whose initialisation loads the driver binding. */
  private static final String DRIVER_CLASS = "jcuda.driver.JCudaDriver";

  /**
   * Held while {@code java.io.tmpdir} is changed: a string literal is one object in the whole JVM,
   * so the classes of every class loader hold the same lock.
   */
  private static final String JVM_WIDE_LOCK = "io.streamrec.gpu.internal.cuda.JCudaLibrary";

  private static volatile boolean loaded;

  private JCudaLibrary() {}

  /**
   * Initialises {@code JCudaDriver} (loading its native library) for this class loader if it is not
   * already. Throws what loading throws: {@link ClassNotFoundException} without JCuda on the class
   * path, {@link LinkageError} (e.g. {@code UnsatisfiedLinkError} without {@code libcuda.so.1})
   * when the library does not load.
   */
  public static void load() throws ClassNotFoundException {
    if (loaded) {
      return;
    }
    synchronized (JVM_WIDE_LOCK) {
      if (loaded) {
        return;
      }
      ClassLoader loader = JCudaLibrary.class.getClassLoader();
      fixJdkTemporaryDirectories();
      String tmp = System.getProperty("java.io.tmpdir");
      Path own = null;
      try {
        own = Files.createTempDirectory(Path.of(tmp), "streamrec-jcuda-");
      } catch (IOException | RuntimeException e) {
        // no directory of our own: JCuda uses java.io.tmpdir itself, as without this class
      }
      try {
        if (own != null) {
          System.setProperty("java.io.tmpdir", own.toString());
        }
        Class.forName(DRIVER_CLASS, true, loader);
        loaded = true;
      } finally {
        if (own != null) {
          System.setProperty("java.io.tmpdir", tmp);
          deleteQuietly(own);
        }
      }
    }
  }

  /**
   * Makes the first use of the JDK's two temporary-file facilities now, while {@code
   * java.io.tmpdir} is the JVM's own, so that each keeps that directory (see the class comment). A
   * directory that is not writable fails here as it would anyway; what the JDK keeps is the same.
   */
  private static void fixJdkTemporaryDirectories() {
    try {
      Files.delete(java.io.File.createTempFile("streamrec-", ".tmp").toPath());
    } catch (IOException | RuntimeException e) {
      // the directory is read all the same, and kept
    }
    try {
      Files.delete(Files.createTempFile("streamrec-", ".tmp"));
    } catch (IOException | RuntimeException e) {
      // likewise
    }
  }

  /** Deletes {@code dir} and the files in it (JCuda writes one file, no subdirectories). */
  private static void deleteQuietly(Path dir) {
    try (Stream<Path> files = Files.list(dir)) {
      files.forEach(
          f -> {
            try {
              Files.deleteIfExists(f);
            } catch (IOException e) {
              f.toFile().deleteOnExit();
            }
          });
      Files.deleteIfExists(dir);
    } catch (IOException e) {
      dir.toFile().deleteOnExit();
    }
  }
}
