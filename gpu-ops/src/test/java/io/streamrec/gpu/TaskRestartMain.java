package io.streamrec.gpu;

import java.io.File;
import java.net.URL;
import java.net.URLClassLoader;
import java.util.ArrayList;
import java.util.List;

/**
 * What a Flink TaskManager does to the job's classes when a task restarts, without Flink: loads
 * them again in a new class loader next to the old one, in the same JVM. Each of {@code N} class
 * loaders (default 2) over this JVM's class path (parent: the platform loader, so nothing is shared
 * but the JDK) asks its own {@code CudaBackend} whether CUDA is usable and, where it is, opens a
 * backend, adds two vectors on the device, reads the sum back and closes it. Prints one line per
 * loader: {@code loader i: <answer>}.
 *
 * <p>Run by {@code CudaLibraryLoadingTest} in a JVM of its own, since a native library, once
 * loaded, stays for the life of the JVM.
 */
public final class TaskRestartMain {
  private TaskRestartMain() {}

  public static void main(String[] args) throws Exception {
    int loaders = args.length > 0 ? Integer.parseInt(args[0]) : 2;
    List<URL> urls = new ArrayList<>();
    for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
      urls.add(new File(entry).toURI().toURL());
    }
    for (int i = 1; i <= loaders; i++) {
      try (URLClassLoader loader =
          new URLClassLoader(
              "task-" + i, urls.toArray(new URL[0]), ClassLoader.getPlatformClassLoader())) {
        Class<?> cuda = Class.forName(CudaBackend.class.getName(), true, loader);
        if (cuda == CudaBackend.class) {
          throw new IllegalStateException("the class loader shares CudaBackend with the JVM's");
        }
        String why = (String) cuda.getMethod("unavailableReason").invoke(null);
        System.out.println("loader " + i + ": " + (why == null ? addOnDevice(cuda) : why));
      }
    }
  }

  /** Opens a backend of this loader's classes, adds two vectors and closes it; says what it got. */
  private static String addOnDevice(Class<?> cuda) throws ReflectiveOperationException {
    try (AutoCloseable b = (AutoCloseable) cuda.getConstructor().newInstance()) {
      // through the interface of the same loader: ComputeBackend of this JVM's loader is another
      // class
      Class<?> backend =
          Class.forName(ComputeBackend.class.getName(), false, cuda.getClassLoader());
      Class<?> floats = Class.forName(Floats.class.getName(), false, cuda.getClassLoader());
      Object x = backend.getMethod("allocFloats", int.class).invoke(b, 3);
      Object y = backend.getMethod("allocFloats", int.class).invoke(b, 3);
      var upload =
          backend.getMethod("upload", float[].class, int.class, floats, int.class, int.class);
      upload.invoke(b, new float[] {1f, 2f, 3f}, 0, x, 0, 3);
      upload.invoke(b, new float[] {10f, 20f, 30f}, 0, y, 0, 3);
      backend
          .getMethod("axpy", int.class, float.class, floats, int.class, floats, int.class)
          .invoke(b, 3, 1f, x, 0, y, 0);
      float[] sum = new float[3];
      backend
          .getMethod("download", floats, int.class, float[].class, int.class, int.class)
          .invoke(b, y, 0, sum, 0, 3);
      String device = (String) cuda.getMethod("deviceName").invoke(b);
      return "usable; on "
          + device
          + " 1,2,3 + 10,20,30 = "
          + (int) sum[0]
          + ","
          + (int) sum[1]
          + ","
          + (int) sum[2];
    } catch (RuntimeException | ReflectiveOperationException e) {
      throw e;
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
