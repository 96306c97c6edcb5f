package io.streamrec.gpu.internal.cuda;

import static io.streamrec.gpu.internal.cuda.CudaCalls.check;
import static jcuda.driver.JCudaDriver.cuMemAllocHost;
import static jcuda.driver.JCudaDriver.cuMemFreeHost;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoHAsync;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoDAsync;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;

/**
 * Host-device copies through two pinned host buffers. An upload copies into a staging ring and
 * queues an asynchronous host-to-device copy from it, so a batch's uploads overlap the kernels
 * before them; the ring starts over after a {@link #sync} (a full ring waits for the stream). A
 * download copies into the pinned buffer, waits for the stream and copies out.
 */
public final class StagingBuffers implements AutoCloseable {
  /** Bytes of each pinned staging buffer (uploads and downloads larger than this go in pieces). */
  static final int STAGING_BYTES = 8 << 20;

  /** Staged uploads start on this alignment (bytes). */
  private static final int STAGING_ALIGN = 256;

  private final CudaContext ctx;
  private Pointer upHost;
  private ByteBuffer upBytes;
  private int upPos;
  private Pointer downHost;
  private ByteBuffer downBytes;

  /**
   * Allocates both pinned buffers; on failure frees what it took and throws the failure, with a
   * failure of freeing as suppressed.
   */
  public StagingBuffers(CudaContext ctx) {
    this.ctx = ctx;
    try {
      upHost = new Pointer();
      check(
          cuMemAllocHost(upHost, STAGING_BYTES),
          "cuMemAllocHost(" + STAGING_BYTES + " bytes, upload staging)");
      upBytes = upHost.getByteBuffer(0, STAGING_BYTES).order(ByteOrder.nativeOrder());
      downHost = new Pointer();
      check(
          cuMemAllocHost(downHost, STAGING_BYTES),
          "cuMemAllocHost(" + STAGING_BYTES + " bytes, download staging)");
      downBytes = downHost.getByteBuffer(0, STAGING_BYTES).order(ByteOrder.nativeOrder());
    } catch (RuntimeException | Error e) {
      // the failed allocation is the error; a free that fails after it only hid it
      try {
        close();
      } catch (RuntimeException closing) {
        e.addSuppressed(closing);
      }
      throw e;
    }
  }

  /** Waits until the stream is idle; the upload ring starts over. */
  public void sync() {
    ctx.synchronizeStream();
    upPos = 0;
  }

  /** A place in the upload ring for {@code bytes} (at most {@link #STAGING_BYTES}). */
  private int stage(int bytes) {
    if (upPos + bytes > STAGING_BYTES) {
      sync();
    }
    int at = upPos;
    upPos = (at + bytes + STAGING_ALIGN - 1) / STAGING_ALIGN * STAGING_ALIGN;
    return at;
  }

  /** Queues the copy of {@code src[srcOff, srcOff + n)} to {@code dst} at float {@code dstOff}. */
  public void uploadFloats(float[] src, int srcOff, CUdeviceptr dst, int dstOff, int n) {
    int done = 0;
    while (done < n) {
      int chunk = Math.min(n - done, STAGING_BYTES / 4);
      int at = stage(4 * chunk);
      FloatBuffer fb = upBytes.asFloatBuffer();
      fb.put(at / 4, src, srcOff + done, chunk);
      check(
          cuMemcpyHtoDAsync(
              dst.withByteOffset(4L * (dstOff + done)),
              upHost.withByteOffset(at),
              4L * chunk,
              ctx.stream()),
          "cuMemcpyHtoDAsync(" + chunk + " floats)");
      done += chunk;
    }
  }

  /** Queues the copy of {@code src[srcOff, srcOff + n)} to {@code dst} at int {@code dstOff}. */
  public void uploadInts(int[] src, int srcOff, CUdeviceptr dst, int dstOff, int n) {
    int done = 0;
    while (done < n) {
      int chunk = Math.min(n - done, STAGING_BYTES / 4);
      int at = stage(4 * chunk);
      IntBuffer ib = upBytes.asIntBuffer();
      ib.put(at / 4, src, srcOff + done, chunk);
      check(
          cuMemcpyHtoDAsync(
              dst.withByteOffset(4L * (dstOff + done)),
              upHost.withByteOffset(at),
              4L * chunk,
              ctx.stream()),
          "cuMemcpyHtoDAsync(" + chunk + " ints)");
      done += chunk;
    }
  }

  /**
   * Copies {@code n} floats from {@code src} at {@code srcOff} into {@code dst}, after the work
   * queued before.
   */
  public void downloadFloats(CUdeviceptr src, int srcOff, float[] dst, int dstOff, int n) {
    int done = 0;
    do {
      int chunk = Math.min(n - done, STAGING_BYTES / 4);
      if (chunk > 0) {
        check(
            cuMemcpyDtoHAsync(
                downHost, src.withByteOffset(4L * (srcOff + done)), 4L * chunk, ctx.stream()),
            "cuMemcpyDtoHAsync(" + chunk + " floats)");
      }
      sync();
      downBytes.asFloatBuffer().get(0, dst, dstOff + done, chunk);
      done += chunk;
    } while (done < n);
  }

  /** Downloads {@code n} doubles from device memory (after the work queued before it). */
  public void downloadDoubles(CUdeviceptr src, int n, double[] dst) {
    if (n > 0) {
      check(
          cuMemcpyDtoHAsync(downHost, src, 8L * n, ctx.stream()),
          "cuMemcpyDtoHAsync(" + n + " doubles)");
    }
    sync();
    DoubleBuffer db = downBytes.asDoubleBuffer();
    db.get(0, dst, 0, n);
  }

  /** Frees both pinned buffers; the stream must be idle. */
  @Override
  public void close() {
    RuntimeException first = null;
    for (Pointer p : new Pointer[] {downHost, upHost}) {
      if (p != null) {
        first = Closing.keep(first, () -> check(cuMemFreeHost(p), "cuMemFreeHost"));
      }
    }
    downHost = upHost = null;
    if (first != null) {
      throw first;
    }
  }
}
