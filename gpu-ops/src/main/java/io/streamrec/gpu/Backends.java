package io.streamrec.gpu;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Creates the backend a {@link BackendMode} asks for, and says once which one runs and why. */
public final class Backends {
  private static final Logger LOG = LoggerFactory.getLogger(Backends.class);

  private Backends() {}

  /** The name of the backend {@link #create} would give for {@code mode} here. */
  public static String resolvedName(BackendMode mode) {
    if (mode == BackendMode.CUDA) {
      throw new BackendUnavailableException(
          "backend 'cuda' was requested but this build has no CUDA backend; use --backend auto or cpu");
    }
    return "cpu";
  }

  public static ComputeBackend create(BackendMode mode) {
    switch (mode) {
      case CPU:
        LOG.info("compute backend: cpu (requested)");
        return new CpuBackend();
      case CUDA:
        throw new BackendUnavailableException(
            "backend 'cuda' was requested but this build has no CUDA backend; use --backend auto or cpu");
      case AUTO:
      default:
        LOG.warn("compute backend: cpu (auto: no CUDA backend in this build)");
        return new CpuBackend();
    }
  }
}
