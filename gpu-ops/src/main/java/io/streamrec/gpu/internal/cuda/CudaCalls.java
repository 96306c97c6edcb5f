package io.streamrec.gpu.internal.cuda;

import io.streamrec.common.StreamrecException;
import jcuda.driver.CUresult;

/** Checks the result of a CUDA driver call. */
public final class CudaCalls {
  private CudaCalls() {}

  /**
   * Throws a {@link CudaException} naming {@code call} and the error unless {@code result} is
   * success.
   */
  public static void check(int result, String call) {
    if (result != CUresult.CUDA_SUCCESS) {
      throw new CudaException(
          call + " failed: " + CUresult.stringFor(result) + " (" + result + ")", result);
    }
  }

  /** A CUDA driver call failed. */
  public static final class CudaException extends StreamrecException {
    private static final long serialVersionUID = 1L;
    private final int result;

    public CudaException(String message, int result) {
      super(message);
      this.result = result;
    }

    /** The driver's {@code CUresult}. */
    public int result() {
      return result;
    }
  }
}
