package io.streamrec.gpu.internal.cuda;

import static io.streamrec.gpu.internal.cuda.CudaCalls.check;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoDAsync;
import static jcuda.driver.JCudaDriver.cuMemsetD32Async;

import io.streamrec.gpu.Floats;
import io.streamrec.gpu.Ints;

/**
 * Buffers and copies: zeroed allocations, uploads through the staging ring, downloads, device
 * copies and fills. An int buffer keeps a host image of what was uploaded to it ({@link
 * DeviceInts#host()}), from which the other families check indices and plan scatter-adds.
 */
public final class BufferOps extends CudaOps {
  public BufferOps(
      CudaContext ctx, KernelLauncher launcher, StagingBuffers staging, DeviceAllocator allocator) {
    super(ctx, launcher, staging, allocator);
  }

  public Floats allocFloats(int n) {
    requireNonNegative(n, "allocFloats n");
    DeviceMemory m = allocator.alloc(4L * n);
    if (n > 0) {
      check(cuMemsetD32Async(m.ptr(), 0, n, ctx.stream()), "cuMemsetD32Async(" + n + ")");
    }
    return m.asFloats(n);
  }

  public Ints allocInts(int n) {
    requireNonNegative(n, "allocInts n");
    DeviceMemory m = allocator.alloc(4L * n);
    if (n > 0) {
      check(cuMemsetD32Async(m.ptr(), 0, n, ctx.stream()), "cuMemsetD32Async(" + n + ")");
    }
    return m.asInts(n);
  }

  public void upload(float[] src, int srcOff, Floats dstF, int dstOff, int n) {
    ensureOpen();
    DeviceFloats dst = dev(dstF, "upload dst");
    range(src.length, srcOff, n, "upload src");
    range(dst.length(), dstOff, n, "upload dst");
    staging.uploadFloats(src, srcOff, dst.ptr(), dstOff, n);
  }

  public void upload(int[] src, int srcOff, Ints dstI, int dstOff, int n) {
    ensureOpen();
    DeviceInts dst = dev(dstI, "upload dst");
    range(src.length, srcOff, n, "upload src");
    range(dst.length(), dstOff, n, "upload dst");
    System.arraycopy(src, srcOff, dst.host(), dstOff, n);
    staging.uploadInts(src, srcOff, dst.ptr(), dstOff, n);
  }

  public void download(Floats srcF, int srcOff, float[] dst, int dstOff, int n) {
    ensureOpen();
    DeviceFloats src = dev(srcF, "download src");
    range(src.length(), srcOff, n, "download src");
    range(dst.length, dstOff, n, "download dst");
    staging.downloadFloats(src.ptr(), srcOff, dst, dstOff, n);
  }

  public void copy(Floats srcF, int srcOff, Floats dstF, int dstOff, int n) {
    ensureOpen();
    DeviceFloats src = dev(srcF, "copy src"), dst = dev(dstF, "copy dst");
    range(src.length(), srcOff, n, "copy src");
    range(dst.length(), dstOff, n, "copy dst");
    if (n > 0) {
      check(
          cuMemcpyDtoDAsync(
              dst.ptr().withByteOffset(4L * dstOff),
              src.ptr().withByteOffset(4L * srcOff),
              4L * n,
              ctx.stream()),
          "cuMemcpyDtoDAsync(" + n + " floats)");
    }
  }

  public void fill(Floats xF, int off, int n, float value) {
    ensureOpen();
    DeviceFloats x = dev(xF, "fill x");
    range(x.length(), off, n, "fill x");
    if (n > 0) {
      check(
          cuMemsetD32Async(
              x.ptr().withByteOffset(4L * off), Float.floatToRawIntBits(value), n, ctx.stream()),
          "cuMemsetD32Async(" + n + ")");
    }
  }
}
