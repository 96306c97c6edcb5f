package io.streamrec.gpu;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Creates the backend a {@link BackendMode} asks for, and says which one runs and why: {@code cpu}
 * always runs; {@code cuda} opens a {@link CudaBackend} on device 0 or fails fast with the reason;
 * {@code auto} runs on CUDA where a device is usable and otherwise on the CPU, with one WARN naming
 * the reason.
 */
public final class Backends {
  private static final Logger LOG = LoggerFactory.getLogger(Backends.class);

  /**
   * Why an {@code auto} backend of this class loader fell back to the CPU although the probe found
   * a device ({@code null} while none did): the probe does not open the device, so without it a run
   * whose device failed to open was reported as {@code cuda} while it trained on the CPU.
   */
  private static volatile String autoOpenFailure;

  private Backends() {}

  /**
   * The name of the backend {@link #create} gives for {@code mode} here ({@code cpu} or {@code
   * cuda}); for {@code cuda} on a machine without a usable device, throws as {@link #create} does.
   * For {@code auto} it is {@code cpu} once an {@code auto} backend failed to open the device the
   * probe found (see {@link #autoOpenFailure()}).
   */
  public static String resolvedName(BackendMode mode) {
    switch (mode) {
      case CPU:
        return "cpu";
      case CUDA:
        String why = CudaBackend.unavailableReason();
        if (why != null) {
          throw unavailable(why);
        }
        return "cuda";
      case AUTO:
      default:
        return CudaBackend.unavailableReason() == null && autoOpenFailure == null ? "cuda" : "cpu";
    }
  }

  /**
   * Why an {@code auto} backend ran on the CPU although a CUDA device was found: the failure of
   * opening it; {@code null} while no {@code auto} backend of this class loader failed to open.
   */
  public static String autoOpenFailure() {
    return autoOpenFailure;
  }

  public static ComputeBackend create(BackendMode mode) {
    switch (mode) {
      case CPU:
        LOG.info("compute backend: cpu (requested)");
        return new CpuBackend();
      case CUDA:
        {
          String why = CudaBackend.unavailableReason();
          if (why != null) {
            throw unavailable(why);
          }
          CudaBackend b = new CudaBackend();
          LOG.info("compute backend: cuda on {} (requested)", b.deviceName());
          return b;
        }
      case AUTO:
      default:
        {
          String why = CudaBackend.unavailableReason();
          if (why == null) {
            try {
              CudaBackend b = new CudaBackend();
              LOG.info(
                  "compute backend: cuda on {} (auto: a CUDA device is usable)", b.deviceName());
              return b;
            } catch (RuntimeException e) {
              // not "no device": the driver found one and the CUDA path failed on it, so this is
              // said with the cause, and what is reported from now on is the CPU that runs
              autoOpenFailure = String.valueOf(e.getMessage());
              LOG.warn(
                  "compute backend: cpu (auto: a CUDA device was found but failed to open: {});"
                      + " this run trains on the CPU",
                  e.getMessage(),
                  e);
              return new CpuBackend();
            }
          }
          LOG.warn("compute backend: cpu (auto: {})", why);
          return new CpuBackend();
        }
    }
  }

  private static BackendUnavailableException unavailable(String why) {
    return new BackendUnavailableException(
        "backend 'cuda' was requested but no CUDA device is usable: "
            + why
            + "; use --backend auto or cpu");
  }
}
