package io.streamrec.gpu.bench;

import io.streamrec.gpu.CudaBackend;
import io.streamrec.gpu.internal.cuda.Kernel;
import io.streamrec.gpu.internal.cuda.KernelBuild;
import java.util.Locale;

/**
 * What the CUDA backend finds on this machine, for a GPU check's preflight: the Java runtime, the
 * JCuda release, the CUDA release that compiled the kernels, the driver's CUDA version, whether a
 * backend can open and, where one can, the device it opens with its memory.
 *
 * <p>Run: {@code java -cp <gpu-ops classes and JCuda> io.streamrec.gpu.bench.DeviceInfo}. Exit
 * status 0 when a CUDA backend opened, 2 when none can (the reason is printed).
 */
public final class DeviceInfo {
  private DeviceInfo() {}

  public static void main(String[] args) {
    System.out.printf(
        Locale.ROOT,
        "java: %s (%s, %s)%n",
        System.getProperty("java.runtime.version"),
        System.getProperty("java.vm.name"),
        System.getProperty("java.home"));
    System.out.printf(
        Locale.ROOT,
        "cores: %d available to the JVM%n",
        Runtime.getRuntime().availableProcessors());
    String ptx = KernelBuild.read(Kernel.GEMM.resource());
    System.out.println(
        "kernels: "
            + (ptx == null
                ? "none in this build"
                : "compiled by CUDA "
                    + (KernelBuild.cudaRelease(ptx) < 0
                        ? "?"
                        : KernelBuild.version(KernelBuild.cudaRelease(ptx)))
                    + " (PTX ISA "
                    + KernelBuild.isa(ptx)
                    + ")"));
    System.out.println("jcuda: " + jcudaVersion());
    String why = CudaBackend.unavailableReason();
    int driver = CudaBackend.driverVersion();
    System.out.println(
        "driver: "
            + (driver < 0
                ? "not loaded"
                : "CUDA " + KernelBuild.version(driver) + " (cuDriverGetVersion " + driver + ")"));
    if (why != null) {
      System.out.println("cuda: unavailable: " + why);
      System.exit(2);
    }
    try (CudaBackend b = new CudaBackend()) {
      System.out.printf(
          Locale.ROOT,
          "cuda: usable; device %d: %s, %.1f GiB (%.1f GiB free)%n",
          b.ordinal(),
          b.deviceName(),
          b.totalDeviceBytes() / (double) (1L << 30),
          b.freeDeviceBytes() / (double) (1L << 30));
    } catch (RuntimeException e) {
      // a device is there and would not open: a defect of the kernels, the driver or the device,
      // not
      // a machine without one (exit 3, which gpu-run.sh reports as a failure, not as no device)
      System.out.println("cuda: failed to open: device 0: " + e.getMessage());
      System.exit(3);
    }
  }

  private static String jcudaVersion() {
    try {
      return jcuda.JCudaVersion.get();
    } catch (LinkageError e) {
      return "not on the class path";
    }
  }
}
