package io.streamrec.gpu;

import static jcuda.driver.JCudaDriver.cuDeviceGetCount;
import static jcuda.driver.JCudaDriver.cuDriverGetVersion;
import static jcuda.driver.JCudaDriver.cuInit;

import io.streamrec.gpu.internal.cuda.BufferOps;
import io.streamrec.gpu.internal.cuda.CudaContext;
import io.streamrec.gpu.internal.cuda.DenseKernels;
import io.streamrec.gpu.internal.cuda.DeviceAllocator;
import io.streamrec.gpu.internal.cuda.EmbeddingKernels;
import io.streamrec.gpu.internal.cuda.JCudaLibrary;
import io.streamrec.gpu.internal.cuda.Kernel;
import io.streamrec.gpu.internal.cuda.KernelBuild;
import io.streamrec.gpu.internal.cuda.KernelLauncher;
import io.streamrec.gpu.internal.cuda.LossKernels;
import io.streamrec.gpu.internal.cuda.StagingBuffers;
import jcuda.driver.CUresult;

/**
 * {@link ComputeBackend} on an NVIDIA GPU through the CUDA driver API (JCuda): buffers are device
 * memory, every operation is one kernel launch (or one driver copy/memset) on one stream, and the
 * kernels are our own, compiled to PTX by {@code nvcc} at build time ({@code src/main/cuda/*.cu})
 * and JIT-compiled by the driver for the device when this backend opens. Only {@code libcuda.so.1}
 * (the driver) is needed at run time: no CUDA runtime, no cuBLAS.
 *
 * <p><b>Resources.</b> The backend holds the device's primary context (retained, released on {@link
 * #close}), one stream, the loaded modules and two pinned host buffers; buffers it makes are {@link
 * AutoCloseable} and free their device memory. Closing the backend frees what its buffers still
 * hold, in reverse order of creation. Like {@link CpuBackend} it is not thread-safe; it may move
 * between threads (the context is made current on the calling thread when it changes).
 *
 * <p><b>Transfers.</b> {@link #upload} copies into a pinned staging ring and queues an asynchronous
 * host-to-device copy from it, so a batch's uploads overlap the kernels before them; the ring
 * starts over after a synchronisation (a full ring waits for the stream). {@link #download} copies
 * into a pinned buffer, waits for the stream and copies out.
 *
 * <p><b>Layout.</b> This class opens and closes the pieces and hands each operation to its family
 * in {@code internal.cuda}: {@code CudaContext} (device, primary context, stream, modules), {@code
 * StagingBuffers} (pinned transfers), {@code DeviceAllocator} (device memory), {@code
 * KernelLauncher}, and the operation families {@code BufferOps}, {@code EmbeddingKernels}, {@code
 * DenseKernels} and {@code LossKernels}.
 *
 * <p><b>Determinism.</b> No kernel uses float atomics. Every scatter-add (pooling into shared
 * targets, the embedding backward into deduplicated rows, the request-tower gradient, {@link
 * #scatterAddIndexed}) is planned on the host from the index buffers (which only the host writes;
 * {@link DeviceInts} keeps their image): the inputs are grouped by output and one thread per output
 * element adds its inputs in input order, the CPU backend's order. Reductions ({@link
 * #sigmoidBce}'s loss, {@link #clipNorm}, {@link #biasGrad}) add in a fixed tree order. Kernels
 * that write whole rows by slot ({@link #scatterRows}, {@link #rowwiseAdagrad}) are split on the
 * host into launches of distinct slots, so a slot given twice is written in input order as on the
 * CPU (one launch where the slots are distinct, as the store and the model pass them). So a run is
 * reproducible bit for bit. The element-wise, pooling, embedding and optimizer kernels do the CPU
 * backend's float operations in its order (compiled with {@code -fmad=false}, so no fused
 * multiply-adds); {@link #gemm} and the reductions add in another order. Agreement with the CPU
 * backend is what the contract tests check, within their stated tolerance.
 */
public final class CudaBackend implements ComputeBackend {
  private static final Object PROBE_LOCK = new Object();
  private static final String CU_INIT_FAILED = "cuInit failed: ";
  private static final String DEVICE_COUNT_FAILED = "cuDeviceGetCount failed: ";
  private static final String NO_DEVICE = "the CUDA driver reports no device";

  /**
   * How long a reason that may pass (cuInit failing, no device yet) stands before the driver is
   * asked again: a container started before its device was mounted ran on the CPU, or failed with
   * {@code cuda}, for the life of its class loader.
   */
  static final long REPROBE_NANOS = 3_000_000_000L;

  private static volatile String unavailable;
  private static volatile boolean probed;

  /** Whether {@link #unavailable} is the answer for good: a success, or a reason that stays. */
  private static volatile boolean settled;

  private static volatile long probedAt;
  private static volatile int driverVersion = -1;

  private CudaContext ctx;
  private StagingBuffers staging;
  private DeviceAllocator allocator;
  private BufferOps buffers;
  private EmbeddingKernels embedding;
  private DenseKernels dense;
  private LossKernels loss;
  private boolean closed;

  /** Opens device 0. */
  public CudaBackend() {
    this(0);
  }

  /**
   * Opens device {@code ordinal}: retains its primary context, creates the stream, loads the
   * kernels. Throws {@link BackendUnavailableException} (with the reason) when no driver or device
   * is usable or the build has no kernels. A failure of opening is thrown as it happened, a failure
   * of closing what was opened after it as suppressed.
   */
  public CudaBackend(int ordinal) {
    String why = unavailableReason();
    if (why != null) {
      throw new BackendUnavailableException("the CUDA backend cannot run here: " + why);
    }
    try {
      ctx = new CudaContext(ordinal);
      staging = new StagingBuffers(ctx);
      allocator = new DeviceAllocator(ctx, staging);
      KernelLauncher launcher = new KernelLauncher(ctx);
      buffers = new BufferOps(ctx, launcher, staging, allocator);
      embedding = new EmbeddingKernels(ctx, launcher, staging, allocator);
      dense = new DenseKernels(ctx, launcher, staging, allocator);
      loss = new LossKernels(ctx, launcher, staging, allocator);
    } catch (RuntimeException | Error e) {
      // what failed to open is the error; a cleanup that fails after it (as it does after a
      // sticky error) only hid it
      try {
        close();
      } catch (RuntimeException closing) {
        e.addSuppressed(closing);
      }
      throw e;
    }
  }

  /**
   * Why no CUDA backend can open here ({@code null} if one can): this build has no kernels, JCuda
   * or the driver library does not load, {@code cuInit} fails, the driver is older than the CUDA
   * that compiled the kernels, or there is no device. A success and the reasons that stay (no
   * kernels, no JCuda, no driver library, a driver too old) are probed once per class loader;
   * {@code cuInit} failing and no device are asked again once {@link #REPROBE_NANOS} have passed.
   * JCuda's native library is loaded for this class loader (see {@link JCudaLibrary}), so the
   * classes of a restarted Flink task, loaded again, open devices as the first ones did.
   */
  public static String unavailableReason() {
    if (!settled) {
      synchronized (PROBE_LOCK) {
        if (!settled && (!probed || System.nanoTime() - probedAt >= REPROBE_NANOS)) {
          String why = probe();
          unavailable = why;
          settled = why == null || !passing(why);
          probedAt = System.nanoTime();
          probed = true;
        }
      }
    }
    return unavailable;
  }

  /** Whether {@code why}, from {@link #probe}, may pass while this class loader lives. */
  private static boolean passing(String why) {
    return why.startsWith(CU_INIT_FAILED)
        || why.startsWith(DEVICE_COUNT_FAILED)
        || why.equals(NO_DEVICE);
  }

  /**
   * The CUDA version the driver supports, as {@code cuDriverGetVersion} gives it ({@code 13000} for
   * 13.0), or -1 where the driver did not load.
   */
  public static int driverVersion() {
    unavailableReason();
    return driverVersion;
  }

  /**
   * The CUDA release that compiled this build's kernels, as the driver numbers versions ({@code
   * 13000} for 13.0), or -1 without kernels.
   */
  public static int kernelsCudaRelease() {
    String ptx = KernelBuild.read(Kernel.values()[0].resource());
    return ptx == null ? -1 : KernelBuild.cudaRelease(ptx);
  }

  private static String probe() {
    for (Kernel k : Kernel.values()) {
      if (CudaBackend.class.getResource(k.resource()) == null) {
        return "this build has no CUDA kernels ("
            + k.resource()
            + " is missing; it was built with"
            + " -Dnvcc.skip=true or without nvcc)";
      }
    }
    try {
      JCudaLibrary.load();
      int r = cuInit(0);
      if (r != CUresult.CUDA_SUCCESS) {
        return CU_INIT_FAILED + CUresult.stringFor(r);
      }
      int[] version = new int[1];
      r = cuDriverGetVersion(version);
      if (r != CUresult.CUDA_SUCCESS) {
        return "cuDriverGetVersion failed: " + CUresult.stringFor(r);
      }
      driverVersion = version[0];
      for (String resource : Kernel.resources()) {
        String ptx = KernelBuild.read(resource);
        String old = ptx == null ? null : KernelBuild.driverTooOld(version[0], ptx);
        if (old != null) {
          return old;
        }
      }
      int[] count = new int[1];
      r = cuDeviceGetCount(count);
      if (r != CUresult.CUDA_SUCCESS) {
        return DEVICE_COUNT_FAILED + CUresult.stringFor(r);
      }
      if (count[0] == 0) {
        return NO_DEVICE;
      }
      return null;
    } catch (ClassNotFoundException e) {
      return "JCuda is not on the class path (this build runs on the CPU only)";
    } catch (NoClassDefFoundError e) {
      if (String.valueOf(e.getMessage()).startsWith("jcuda/")) {
        // JCuda is optional: a deployable that runs on the CPU only leaves it out
        return "JCuda is not on the class path (this build runs on the CPU only)";
      }
      return "the CUDA driver could not be loaded (" + e + ")";
    } catch (LinkageError e) {
      // UnsatisfiedLinkError (no libcuda.so.1, no JCuda natives for this platform), or the class
      // failed to initialise because of one
      String msg = e.getMessage() == null ? e.toString() : e.getMessage();
      if (msg.contains("libcuda.so.1: cannot open shared object file")) {
        return "the CUDA driver library libcuda.so.1 is not installed (no NVIDIA driver on this machine)";
      }
      int nl = msg.indexOf('\n');
      return "the CUDA driver could not be loaded (" + (nl > 0 ? msg.substring(0, nl) : msg) + ")";
    } catch (RuntimeException e) {
      return "the CUDA driver failed: " + e;
    }
  }

  @Override
  public String name() {
    return "cuda";
  }

  /** The device's name, as the driver reports it (e.g. {@code NVIDIA H100 80GB HBM3}). */
  public String deviceName() {
    return ctx.deviceName();
  }

  /** Bytes of device memory free now, on this backend's device (every process's use counted). */
  public long freeDeviceBytes() {
    return ctx.memoryInfo()[0];
  }

  /** Bytes of memory of this backend's device. */
  public long totalDeviceBytes() {
    return ctx.memoryInfo()[1];
  }

  /** The device ordinal this backend runs on. */
  public int ordinal() {
    return ctx.ordinal();
  }

  /** Waits until every queued operation is done. */
  public void synchronize() {
    ctx.makeCurrent();
    staging.sync();
  }

  @Override
  public Floats allocFloats(int n) {
    return buffers.allocFloats(n);
  }

  @Override
  public Ints allocInts(int n) {
    return buffers.allocInts(n);
  }

  @Override
  public void upload(float[] src, int srcOff, Floats dstF, int dstOff, int n) {
    buffers.upload(src, srcOff, dstF, dstOff, n);
  }

  @Override
  public void upload(int[] src, int srcOff, Ints dstI, int dstOff, int n) {
    buffers.upload(src, srcOff, dstI, dstOff, n);
  }

  @Override
  public void download(Floats srcF, int srcOff, float[] dst, int dstOff, int n) {
    buffers.download(srcF, srcOff, dst, dstOff, n);
  }

  @Override
  public void copy(Floats srcF, int srcOff, Floats dstF, int dstOff, int n) {
    buffers.copy(srcF, srcOff, dstF, dstOff, n);
  }

  @Override
  public void fill(Floats xF, int off, int n, float value) {
    buffers.fill(xF, off, n, value);
  }

  @Override
  public void axpy(int n, float alpha, Floats xF, int xOff, Floats yF, int yOff) {
    dense.axpy(n, alpha, xF, xOff, yF, yOff);
  }

  @Override
  public void scale(Floats xF, int off, int n, float s) {
    dense.scale(xF, off, n, s);
  }

  @Override
  public void gatherRows(Floats slabF, int rowWidth, Ints slotsI, int n, Floats outF) {
    embedding.gatherRows(slabF, rowWidth, slotsI, n, outF);
  }

  @Override
  public void scatterRows(Floats srcF, Ints slotsI, int n, Floats slabF, int rowWidth) {
    embedding.scatterRows(srcF, slotsI, n, slabF, rowWidth);
  }

  @Override
  public void poolBags(
      Floats slabF,
      int rowWidth,
      int col,
      int width,
      Ints slotsI,
      Ints bagOffsetsI,
      int nBags,
      Ints bagTargetI,
      boolean mean,
      Floats outF,
      int outStride,
      int outCol) {
    embedding.poolBags(
        slabF,
        rowWidth,
        col,
        width,
        slotsI,
        bagOffsetsI,
        nBags,
        bagTargetI,
        mean,
        outF,
        outStride,
        outCol);
  }

  @Override
  public void poolBagsBackward(
      Ints rowIndexI,
      Ints bagOffsetsI,
      int nBags,
      Ints bagTargetI,
      boolean mean,
      Floats gradF,
      int gradStride,
      int gradCol,
      int width,
      Floats rowGradF) {
    embedding.poolBagsBackward(
        rowIndexI,
        bagOffsetsI,
        nBags,
        bagTargetI,
        mean,
        gradF,
        gradStride,
        gradCol,
        width,
        rowGradF);
  }

  @Override
  public void rowwiseAdagrad(
      Floats slabF,
      int rowWidth,
      int col,
      int width,
      int stateCol,
      Ints slotsI,
      int nRows,
      Floats rowGradF,
      float lr,
      float eps) {
    embedding.rowwiseAdagrad(
        slabF, rowWidth, col, width, stateCol, slotsI, nRows, rowGradF, lr, eps);
  }

  @Override
  public void ftrlProximal(
      Floats slabF,
      int rowWidth,
      int col,
      int width,
      int stateCol,
      Ints slotsI,
      int nRows,
      Floats rowGradF,
      float alpha,
      float beta,
      float l1,
      float l2) {
    embedding.ftrlProximal(
        slabF, rowWidth, col, width, stateCol, slotsI, nRows, rowGradF, alpha, beta, l1, l2);
  }

  @Override
  public void broadcastDot(Floats aF, Ints aIndexI, Floats bF, int n, int dim, Floats outF) {
    embedding.broadcastDot(aF, aIndexI, bF, n, dim, outF);
  }

  @Override
  public void broadcastDotBackward(
      Floats aF, Ints aIndexI, Floats bF, int n, int dim, Floats gF, Floats gradAF, Floats gradBF) {
    embedding.broadcastDotBackward(aF, aIndexI, bF, n, dim, gF, gradAF, gradBF);
  }

  @Override
  public void fieldDots(FieldBlocks a, Ints aIndex, FieldBlocks b, int n, int dim, Floats out) {
    embedding.fieldDots(a, aIndex, b, n, dim, out);
  }

  @Override
  public void fieldDotsBackward(
      FieldBlocks a,
      Ints aIndex,
      FieldBlocks b,
      int n,
      int dim,
      Floats g,
      Floats gradA,
      Floats gradB) {
    embedding.fieldDotsBackward(a, aIndex, b, n, dim, g, gradA, gradB);
  }

  @Override
  public void gatherIndexed(
      Floats srcF, int cols, Ints indexI, int n, Floats dstF, int dstStride, int dstCol) {
    embedding.gatherIndexed(srcF, cols, indexI, n, dstF, dstStride, dstCol);
  }

  @Override
  public void scatterAddIndexed(
      Floats srcF, int srcStride, int srcCol, int cols, Ints indexI, int n, Floats dstF) {
    embedding.scatterAddIndexed(srcF, srcStride, srcCol, cols, indexI, n, dstF);
  }

  @Override
  public void gemm(
      boolean transA,
      boolean transB,
      int m,
      int n,
      int k,
      float alpha,
      Floats aF,
      int aOff,
      int lda,
      Floats bF,
      int bOff,
      int ldb,
      float beta,
      Floats cF,
      int cOff,
      int ldc) {
    dense.gemm(transA, transB, m, n, k, alpha, aF, aOff, lda, bF, bOff, ldb, beta, cF, cOff, ldc);
  }

  @Override
  public void addBias(Floats yF, int rows, int cols, Floats biasF, int biasOff) {
    dense.addBias(yF, rows, cols, biasF, biasOff);
  }

  @Override
  public void biasGrad(Floats dyF, int rows, int cols, Floats dBiasF, int off) {
    dense.biasGrad(dyF, rows, cols, dBiasF, off);
  }

  @Override
  public void relu(Floats xF, int n) {
    dense.relu(xF, n);
  }

  @Override
  public void reluBackward(Floats yF, Floats dyF, int n) {
    dense.reluBackward(yF, dyF, n);
  }

  @Override
  public void copy2d(
      Floats srcF,
      int srcStride,
      int srcCol,
      Floats dstF,
      int dstStride,
      int dstCol,
      int rows,
      int cols) {
    dense.copy2d(srcF, srcStride, srcCol, dstF, dstStride, dstCol, rows, cols);
  }

  @Override
  public void mul2d(
      Floats aF,
      int aStride,
      int aCol,
      Floats bF,
      int bStride,
      int bCol,
      Floats outF,
      int outStride,
      int outCol,
      int rows,
      int cols,
      boolean accumulate) {
    dense.mul2d(
        aF, aStride, aCol, bF, bStride, bCol, outF, outStride, outCol, rows, cols, accumulate);
  }

  @Override
  public double sigmoidBce(
      Floats logitsF, Floats labelsF, int n, float scale, Floats probF, Floats gradF) {
    return loss.sigmoidBce(logitsF, labelsF, n, scale, probF, gradF);
  }

  @Override
  public void adam(
      Floats wF,
      Floats gradF,
      Floats mF,
      Floats vF,
      int n,
      long step,
      float lr,
      float beta1,
      float beta2,
      float eps) {
    loss.adam(wF, gradF, mF, vF, n, step, lr, beta1, beta2, eps);
  }

  @Override
  public double clipNorm(Floats gF, int n, float maxNorm) {
    return loss.clipNorm(gF, n, maxNorm);
  }

  /**
   * Waits for the stream, frees what this backend's buffers still hold (newest first), the pinned
   * buffers, the modules, the stream, and releases the primary context. Idempotent; errors while
   * closing are collected and the first is thrown after everything was tried.
   */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    RuntimeException first = null;
    if (ctx != null && staging != null) {
      try {
        ctx.makeCurrent();
        staging.sync();
      } catch (RuntimeException e) {
        first = e;
      }
    }
    if (ctx != null) {
      ctx.markClosed();
    }
    first = keep(first, allocator);
    first = keep(first, staging);
    first = keep(first, ctx);
    if (first != null) {
      throw first;
    }
  }

  private static RuntimeException keep(RuntimeException first, AutoCloseable resource) {
    if (resource == null) {
      return first;
    }
    try {
      resource.close();
      return first;
    } catch (RuntimeException e) {
      return first == null ? e : first;
    } catch (Exception e) {
      return first == null ? new IllegalStateException(e) : first;
    }
  }
}
