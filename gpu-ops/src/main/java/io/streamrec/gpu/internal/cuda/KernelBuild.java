package io.streamrec.gpu.internal.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the PTX of this build asks of the driver. {@code nvcc} writes its release into the PTX's
 * header ({@code // Cuda compilation tools, release 13.0, ...}) and the PTX ISA version after it
 * ({@code .version 9.0}); a driver loads PTX only of an ISA it knows, i.e. from a CUDA release no
 * newer than its own. Checking that before loading the modules turns the driver's {@code
 * CUDA_ERROR_UNSUPPORTED_PTX_VERSION} into a reason that names both versions and the fix.
 */
public final class KernelBuild {
  private static final Pattern RELEASE =
      Pattern.compile("Cuda compilation tools, release (\\d+)\\.(\\d+)");
  private static final Pattern ISA = Pattern.compile("(?m)^\\s*\\.version\\s+(\\d+\\.\\d+)");

  /** The CUDA release of the build machines' nvcc, as the driver API numbers it. */
  private static final int CUDA_13_0 = 13000;

  /** The first Linux driver of CUDA 13.0 (NVIDIA's CUDA 13.0 release notes). */
  private static final String LINUX_DRIVER_FOR_CUDA_13_0 = "580.65.06";

  private KernelBuild() {}

  /**
   * The CUDA release that compiled {@code ptx}, as the driver API numbers versions ({@code 1000 *
   * major + 10 * minor}: 13.0 is 13000), or -1 where the PTX does not say.
   */
  public static int cudaRelease(String ptx) {
    Matcher m = RELEASE.matcher(ptx);
    return m.find() ? 1000 * Integer.parseInt(m.group(1)) + 10 * Integer.parseInt(m.group(2)) : -1;
  }

  /** The PTX ISA version ({@code .version}) of {@code ptx}, or {@code "?"}. */
  public static String isa(String ptx) {
    Matcher m = ISA.matcher(ptx);
    return m.find() ? m.group(1) : "?";
  }

  /** {@code 13000} as {@code 13.0}, the way NVIDIA names releases. */
  public static String version(int driverApiVersion) {
    return driverApiVersion / 1000 + "." + (driverApiVersion % 1000) / 10;
  }

  /**
   * Why a driver of CUDA version {@code driverVersion} (from {@code cuDriverGetVersion}) cannot
   * load {@code ptx}, or {@code null} if it can (or the PTX does not say what it needs).
   */
  public static String driverTooOld(int driverVersion, String ptx) {
    int needed = cudaRelease(ptx);
    if (needed < 0 || driverVersion >= needed) {
      return null;
    }
    return "the NVIDIA driver supports CUDA "
        + version(driverVersion)
        + " but the kernels were compiled by CUDA "
        + version(needed)
        + " (PTX ISA "
        + isa(ptx)
        + "): update the driver to one for CUDA "
        + version(needed)
        + " or newer"
        + (needed == CUDA_13_0 ? " (on Linux " + LINUX_DRIVER_FOR_CUDA_13_0 + " or newer)" : "")
        + ", or build the kernels with the nvcc of an older CUDA (-Dnvcc.executable=...)";
  }

  /** The text of a PTX resource of this build, or {@code null} if it is missing. */
  public static String read(String resource) {
    try (InputStream in = KernelBuild.class.getResourceAsStream(resource)) {
      return in == null ? null : new String(in.readAllBytes(), StandardCharsets.US_ASCII);
    } catch (IOException e) {
      return null;
    }
  }
}
