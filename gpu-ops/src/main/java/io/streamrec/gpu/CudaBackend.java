package io.streamrec.gpu;

import static io.streamrec.gpu.internal.cuda.CudaCalls.check;
import static jcuda.driver.JCudaDriver.cuCtxSetCurrent;
import static jcuda.driver.JCudaDriver.cuDeviceGet;
import static jcuda.driver.JCudaDriver.cuDeviceGetAttribute;
import static jcuda.driver.JCudaDriver.cuDeviceGetCount;
import static jcuda.driver.JCudaDriver.cuDeviceGetName;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRelease;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRetain;
import static jcuda.driver.JCudaDriver.cuInit;
import static jcuda.driver.JCudaDriver.cuLaunchKernel;
import static jcuda.driver.JCudaDriver.cuMemAllocHost;
import static jcuda.driver.JCudaDriver.cuMemFreeHost;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoDAsync;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoHAsync;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoDAsync;
import static jcuda.driver.JCudaDriver.cuMemsetD32Async;
import static jcuda.driver.JCudaDriver.cuModuleGetFunction;
import static jcuda.driver.JCudaDriver.cuModuleLoadData;
import static jcuda.driver.JCudaDriver.cuModuleUnload;
import static jcuda.driver.JCudaDriver.cuStreamCreate;
import static jcuda.driver.JCudaDriver.cuStreamDestroy;
import static jcuda.driver.JCudaDriver.cuStreamSynchronize;

import io.streamrec.gpu.internal.cuda.DeviceFloats;
import io.streamrec.gpu.internal.cuda.DeviceInts;
import io.streamrec.gpu.internal.cuda.DeviceMemory;
import io.streamrec.gpu.internal.cuda.Grouping;
import io.streamrec.gpu.internal.cuda.Kernel;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Map;
import jcuda.NativePointerObject;
import jcuda.Pointer;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.CUresult;
import jcuda.driver.CUstream;

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
 * <p><b>Determinism.</b> No kernel uses float atomics. Every scatter-add (pooling into shared
 * targets, the embedding backward into deduplicated rows, the request-tower gradient, {@link
 * #scatterAddIndexed}) is planned on the host from the index buffers (which only the host writes;
 * {@link DeviceInts} keeps their image): the inputs are grouped by output and one thread per output
 * element adds its inputs in input order, the CPU backend's order. Reductions ({@link
 * #sigmoidBce}'s loss, {@link #clipNorm}, {@link #biasGrad}) add in a fixed tree order. So a run is
 * reproducible bit for bit. The element-wise, pooling, embedding and optimizer kernels do the CPU
 * backend's float operations in its order (compiled with {@code -fmad=false}, so no fused
 * multiply-adds); {@link #gemm} and the reductions add in another order. Agreement with the CPU
 * backend is what the contract tests check, within their stated tolerance.
 */
public final class CudaBackend implements ComputeBackend {
  /** Threads per block of the element-wise kernels. */
  private static final int BLOCK = 256;

  /** Blocks per multiprocessor for grid-stride kernels: enough resident warps to hide latency. */
  private static final int BLOCKS_PER_SM = 32;

  /** Partial sums of {@link #sigmoidBce}: at most this many blocks. */
  private static final int MAX_LOSS_BLOCKS = 1024;

  /** Bytes of each pinned staging buffer (uploads and downloads larger than this go in pieces). */
  private static final int STAGING_BYTES = 8 << 20;

  /** Staged uploads start on this alignment (bytes). */
  private static final int STAGING_ALIGN = 256;

  /** Smallest size at which closed allocations are pruned from the list of live ones. */
  private static final int PRUNE_MIN = 64;

  private static final Object PROBE_LOCK = new Object();
  private static volatile String unavailable;
  private static volatile boolean probed;

  private final int ordinal;
  private final CUdevice device = new CUdevice();
  private final CUcontext context = new CUcontext();
  private final CUstream stream = new CUstream();
  private final Map<String, CUmodule> modules = new HashMap<>();
  private final EnumMap<Kernel, CUfunction> functions = new EnumMap<>(Kernel.class);
  private final String deviceName;
  private final int maxBlocks;
  private final Owner owner = new Owner();

  /** Every allocation not yet seen closed, newest first: what {@link #close} frees. */
  private final Deque<DeviceMemory> live = new ArrayDeque<>();

  /** Closed allocations leave {@link #live} when it passes this size (amortised O(1) per alloc). */
  private int pruneAt = PRUNE_MIN;

  private Pointer upHost;
  private ByteBuffer upBytes;
  private int upPos;
  private Pointer downHost;
  private ByteBuffer downBytes;

  private DeviceMemory groupScratch;
  private DeviceMemory lossPartials;
  private final Grouping grouping = new Grouping();
  private int[] entryBag = new int[64];
  private final double[] partials = new double[MAX_LOSS_BLOCKS];
  private Thread current;
  private boolean contextRetained;
  private boolean streamCreated;
  private boolean closed;

  /** Opens device 0. */
  public CudaBackend() {
    this(0);
  }

  /**
   * Opens device {@code ordinal}: retains its primary context, creates the stream, loads the
   * kernels. Throws {@link BackendUnavailableException} (with the reason) when no driver or device
   * is usable or the build has no kernels.
   */
  public CudaBackend(int ordinal) {
    String why = unavailableReason();
    if (why != null) {
      throw new BackendUnavailableException("the CUDA backend cannot run here: " + why);
    }
    this.ordinal = ordinal;
    boolean ok = false;
    try {
      int[] count = new int[1];
      check(cuDeviceGetCount(count), "cuDeviceGetCount");
      if (ordinal < 0 || ordinal >= count[0]) {
        throw new BackendUnavailableException(
            "CUDA device " + ordinal + " does not exist; this machine has " + count[0]);
      }
      check(cuDeviceGet(device, ordinal), "cuDeviceGet(" + ordinal + ")");
      check(
          cuDevicePrimaryCtxRetain(context, device),
          "cuDevicePrimaryCtxRetain(device " + ordinal + ")");
      contextRetained = true;
      makeCurrent();
      check(cuStreamCreate(stream, 0), "cuStreamCreate");
      streamCreated = true;
      byte[] name = new byte[256];
      check(cuDeviceGetName(name, name.length, device), "cuDeviceGetName");
      this.deviceName = cString(name);
      int[] sms = new int[1];
      check(
          cuDeviceGetAttribute(
              sms, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, device),
          "cuDeviceGetAttribute(MULTIPROCESSOR_COUNT)");
      this.maxBlocks = Math.max(1, sms[0]) * BLOCKS_PER_SM;
      loadKernels();
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
      lossPartials = new DeviceMemory(owner, 8L * MAX_LOSS_BLOCKS);
      ok = true;
    } finally {
      if (!ok) {
        close();
      }
    }
  }

  /**
   * Why no CUDA backend can open here ({@code null} if one can): the driver library does not load,
   * {@code cuInit} fails, there is no device, or this build has no kernels. Probed once.
   */
  public static String unavailableReason() {
    if (!probed) {
      synchronized (PROBE_LOCK) {
        if (!probed) {
          unavailable = probe();
          probed = true;
        }
      }
    }
    return unavailable;
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
      int r = cuInit(0);
      if (r != CUresult.CUDA_SUCCESS) {
        return "cuInit failed: " + CUresult.stringFor(r);
      }
      int[] count = new int[1];
      r = cuDeviceGetCount(count);
      if (r != CUresult.CUDA_SUCCESS) {
        return "cuDeviceGetCount failed: " + CUresult.stringFor(r);
      }
      if (count[0] == 0) {
        return "the CUDA driver reports no device";
      }
      return null;
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
    return deviceName;
  }

  /** The device ordinal this backend runs on. */
  public int ordinal() {
    return ordinal;
  }

  /** Waits until every queued operation is done. */
  public void synchronize() {
    makeCurrent();
    sync();
  }

  // ---- context, modules
  // ---------------------------------------------------------------------------

  private void makeCurrent() {
    Thread t = Thread.currentThread();
    if (t != current) {
      check(cuCtxSetCurrent(context), "cuCtxSetCurrent");
      current = t;
    }
  }

  private void ensureOpen() {
    if (closed) {
      throw new IllegalStateException("the cuda backend is closed");
    }
    makeCurrent();
  }

  private void sync() {
    check(cuStreamSynchronize(stream), "cuStreamSynchronize");
    upPos = 0;
  }

  private void loadKernels() {
    for (Kernel k : Kernel.values()) {
      CUmodule m = modules.get(k.module());
      if (m == null) {
        m = new CUmodule();
        check(cuModuleLoadData(m, ptx(k.resource())), "cuModuleLoadData(" + k.resource() + ")");
        modules.put(k.module(), m);
      }
      CUfunction f = new CUfunction();
      check(
          cuModuleGetFunction(f, m, k.entry()),
          "cuModuleGetFunction(" + k.entry() + " in " + k.resource() + ")");
      functions.put(k, f);
    }
  }

  /** The PTX text of a resource, NUL-terminated as {@code cuModuleLoadData} wants it. */
  private static byte[] ptx(String resource) {
    try (InputStream in = CudaBackend.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new BackendUnavailableException(
            "kernel resource " + resource + " is missing from the class path");
      }
      byte[] text = in.readAllBytes();
      byte[] z = new byte[text.length + 1];
      System.arraycopy(text, 0, z, 0, text.length);
      return z;
    } catch (IOException e) {
      throw new BackendUnavailableException("cannot read kernel resource " + resource, e);
    }
  }

  private static String cString(byte[] b) {
    int n = 0;
    while (n < b.length && b[n] != 0) {
      n++;
    }
    return new String(b, 0, n, StandardCharsets.US_ASCII);
  }

  /** Frees device memory: drain the stream first (a queued kernel may still use it). */
  private final class Owner implements DeviceMemory.Owner {
    @Override
    public void beforeFree() {
      if (!closed) {
        makeCurrent();
        sync();
      }
    }
  }

  // ---- buffers ----------------------------------------------------------------------------------

  private DeviceMemory alloc(long bytes) {
    ensureOpen();
    DeviceMemory m = new DeviceMemory(owner, bytes);
    live.push(m);
    if (live.size() > pruneAt) {
      live.removeIf(x -> !x.isOpen());
      pruneAt = Math.max(PRUNE_MIN, 2 * live.size());
    }
    return m;
  }

  @Override
  public Floats allocFloats(int n) {
    requireNonNegative(n, "allocFloats n");
    DeviceMemory m = alloc(4L * n);
    if (n > 0) {
      check(cuMemsetD32Async(m.ptr(), 0, n, stream), "cuMemsetD32Async(" + n + ")");
    }
    return m.asFloats(n);
  }

  @Override
  public Ints allocInts(int n) {
    requireNonNegative(n, "allocInts n");
    DeviceMemory m = alloc(4L * n);
    if (n > 0) {
      check(cuMemsetD32Async(m.ptr(), 0, n, stream), "cuMemsetD32Async(" + n + ")");
    }
    return m.asInts(n);
  }

  private DeviceFloats dev(Floats f, String what) {
    if (f instanceof DeviceFloats d && d.ownedBy(owner)) {
      return d;
    }
    throw new IllegalArgumentException(what + " is " + f + ", not a buffer of this cuda backend");
  }

  private DeviceInts dev(Ints i, String what) {
    if (i instanceof DeviceInts d && d.ownedBy(owner)) {
      return d;
    }
    throw new IllegalArgumentException(what + " is " + i + ", not a buffer of this cuda backend");
  }

  private static void requireNonNegative(int n, String what) {
    if (n < 0) {
      throw new IllegalArgumentException(what + " must be >= 0; got " + n);
    }
  }

  private static void range(int length, long off, long n, String what) {
    if (off < 0 || n < 0 || off + n > length) {
      throw new IndexOutOfBoundsException(
          what
              + ": ["
              + off
              + ", "
              + (off + n)
              + ") is outside the buffer's "
              + length
              + " elements");
    }
  }

  /**
   * Checks the last element a strided block touches: row {@code rows-1}, column {@code col+cols-1}.
   */
  private static void block(int length, int stride, int col, int rows, int cols, String what) {
    if (rows == 0 || cols == 0) {
      return;
    }
    if (col < 0 || stride < 0) {
      throw new IndexOutOfBoundsException(
          what + ": column " + col + " / stride " + stride + " must be >= 0");
    }
    range(length, (long) (rows - 1) * stride + col, cols, what);
  }

  /**
   * How many rows of {@code width} values at column {@code col} fit, with row stride {@code
   * stride}.
   */
  private static int rowsThatFit(int length, int stride, int col, int width) {
    long room = (long) length - col - width;
    if (room < 0) {
      return 0;
    }
    return stride <= 0 ? Integer.MAX_VALUE : (int) Math.min(Integer.MAX_VALUE, room / stride + 1);
  }

  private static void indices(int[] a, int from, int n, int bound, String what) {
    for (int i = from; i < from + n; i++) {
      if (a[i] < 0 || a[i] >= bound) {
        throw new IndexOutOfBoundsException(
            what + "[" + i + "] = " + a[i] + " is outside [0, " + bound + ")");
      }
    }
  }

  // ---- transfers --------------------------------------------------------------------------------

  /** A place in the upload ring for {@code bytes} (at most {@link #STAGING_BYTES}). */
  private int stage(int bytes) {
    if (upPos + bytes > STAGING_BYTES) {
      sync();
    }
    int at = upPos;
    upPos = (at + bytes + STAGING_ALIGN - 1) / STAGING_ALIGN * STAGING_ALIGN;
    return at;
  }

  @Override
  public void upload(float[] src, int srcOff, Floats dstF, int dstOff, int n) {
    ensureOpen();
    DeviceFloats dst = dev(dstF, "upload dst");
    range(src.length, srcOff, n, "upload src");
    range(dst.length(), dstOff, n, "upload dst");
    int done = 0;
    while (done < n) {
      int chunk = Math.min(n - done, STAGING_BYTES / 4);
      int at = stage(4 * chunk);
      FloatBuffer fb = upBytes.asFloatBuffer();
      fb.put(at / 4, src, srcOff + done, chunk);
      check(
          cuMemcpyHtoDAsync(
              dst.ptr().withByteOffset(4L * (dstOff + done)),
              upHost.withByteOffset(at),
              4L * chunk,
              stream),
          "cuMemcpyHtoDAsync(" + chunk + " floats)");
      done += chunk;
    }
  }

  @Override
  public void upload(int[] src, int srcOff, Ints dstI, int dstOff, int n) {
    ensureOpen();
    DeviceInts dst = dev(dstI, "upload dst");
    range(src.length, srcOff, n, "upload src");
    range(dst.length(), dstOff, n, "upload dst");
    System.arraycopy(src, srcOff, dst.host(), dstOff, n);
    uploadInts(src, srcOff, dst.ptr(), dstOff, n);
  }

  private void uploadInts(int[] src, int srcOff, CUdeviceptr dst, int dstOff, int n) {
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
              stream),
          "cuMemcpyHtoDAsync(" + chunk + " ints)");
      done += chunk;
    }
  }

  @Override
  public void download(Floats srcF, int srcOff, float[] dst, int dstOff, int n) {
    ensureOpen();
    DeviceFloats src = dev(srcF, "download src");
    range(src.length(), srcOff, n, "download src");
    range(dst.length, dstOff, n, "download dst");
    int done = 0;
    do {
      int chunk = Math.min(n - done, STAGING_BYTES / 4);
      if (chunk > 0) {
        check(
            cuMemcpyDtoHAsync(
                downHost, src.ptr().withByteOffset(4L * (srcOff + done)), 4L * chunk, stream),
            "cuMemcpyDtoHAsync(" + chunk + " floats)");
      }
      sync();
      downBytes.asFloatBuffer().get(0, dst, dstOff + done, chunk);
      done += chunk;
    } while (done < n);
  }

  /** Downloads {@code n} doubles from device memory (after the work queued before it). */
  private void downloadDoubles(CUdeviceptr src, int n, double[] dst) {
    if (n > 0) {
      check(
          cuMemcpyDtoHAsync(downHost, src, 8L * n, stream), "cuMemcpyDtoHAsync(" + n + " doubles)");
    }
    sync();
    DoubleBuffer db = downBytes.asDoubleBuffer();
    db.get(0, dst, 0, n);
  }

  @Override
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
              stream),
          "cuMemcpyDtoDAsync(" + n + " floats)");
    }
  }

  @Override
  public void fill(Floats xF, int off, int n, float value) {
    ensureOpen();
    DeviceFloats x = dev(xF, "fill x");
    range(x.length(), off, n, "fill x");
    if (n > 0) {
      check(
          cuMemsetD32Async(
              x.ptr().withByteOffset(4L * off), Float.floatToRawIntBits(value), n, stream),
          "cuMemsetD32Async(" + n + ")");
    }
  }

  // ---- launching --------------------------------------------------------------------------------

  /** Kernel arguments, in the order of the kernel's parameters. */
  private static final class Args {
    private final NativePointerObject[] a = new NativePointerObject[20];
    private int n;

    Args p(CUdeviceptr ptr) {
      a[n++] = Pointer.to(ptr);
      return this;
    }

    Args p(DeviceFloats f) {
      return p(f.ptr());
    }

    Args p(DeviceInts i) {
      return p(i.ptr());
    }

    Args i(int v) {
      a[n++] = Pointer.to(new int[] {v});
      return this;
    }

    Args f(float v) {
      a[n++] = Pointer.to(new float[] {v});
      return this;
    }

    Pointer build() {
      return Pointer.to(java.util.Arrays.copyOf(a, n));
    }
  }

  private static Args args() {
    return new Args();
  }

  private void launch(
      Kernel k, int gridX, int gridY, int blockX, int blockY, int sharedBytes, Args args) {
    check(
        cuLaunchKernel(
            functions.get(k),
            gridX,
            gridY,
            1,
            blockX,
            blockY,
            1,
            sharedBytes,
            stream,
            args.build(),
            null),
        "cuLaunchKernel("
            + k.entry()
            + ", grid "
            + gridX
            + "x"
            + gridY
            + ", block "
            + blockX
            + "x"
            + blockY
            + ")");
  }

  /** A grid-stride launch over {@code total} threads, if any. */
  private void launchFlat(Kernel k, long total, Args args) {
    if (total <= 0) {
      return;
    }
    int blocks = (int) Math.min(maxBlocks, (total + BLOCK - 1) / BLOCK);
    launch(k, blocks, 1, BLOCK, 1, 0, args);
  }

  /** Uploads the last grouping into the device scratch (plus {@code extra} ints after it). */
  private CUdeviceptr uploadGrouping(int[] extra, int extraN) {
    int size = grouping.size() + extraN;
    long bytes = 4L * Math.max(size, 1);
    if (groupScratch == null || groupScratch.bytes() < bytes) {
      if (groupScratch != null) {
        groupScratch.close();
      }
      groupScratch =
          alloc(Math.max(bytes, 2 * (groupScratch == null ? 4096 : groupScratch.bytes())));
    }
    CUdeviceptr p = groupScratch.ptr();
    uploadInts(grouping.packed(), 0, p, 0, grouping.size());
    if (extraN > 0) {
      uploadInts(extra, 0, p, grouping.size(), extraN);
    }
    return p;
  }

  // ---- operations -------------------------------------------------------------------------------

  @Override
  public void axpy(int n, float alpha, Floats xF, int xOff, Floats yF, int yOff) {
    ensureOpen();
    DeviceFloats x = dev(xF, "axpy x"), y = dev(yF, "axpy y");
    range(x.length(), xOff, n, "axpy x");
    range(y.length(), yOff, n, "axpy y");
    launchFlat(Kernel.AXPY, n, args().i(n).f(alpha).p(x).i(xOff).p(y).i(yOff));
  }

  @Override
  public void scale(Floats xF, int off, int n, float s) {
    ensureOpen();
    DeviceFloats x = dev(xF, "scale x");
    range(x.length(), off, n, "scale x");
    launchFlat(Kernel.SCALE, n, args().p(x).i(off).i(n).f(s));
  }

  @Override
  public void gatherRows(Floats slabF, int rowWidth, Ints slotsI, int n, Floats outF) {
    ensureOpen();
    DeviceFloats slab = dev(slabF, "gatherRows slab"), out = dev(outF, "gatherRows out");
    DeviceInts slots = dev(slotsI, "gatherRows slots");
    range(slots.length(), 0, n, "gatherRows slots");
    range(out.length(), 0, (long) n * rowWidth, "gatherRows out");
    indices(slots.host(), 0, n, slab.length() / Math.max(1, rowWidth), "gatherRows slots");
    launchFlat(
        Kernel.GATHER_ROWS, (long) n * rowWidth, args().p(slab).i(rowWidth).p(slots).i(n).p(out));
  }

  @Override
  public void scatterRows(Floats srcF, Ints slotsI, int n, Floats slabF, int rowWidth) {
    ensureOpen();
    DeviceFloats src = dev(srcF, "scatterRows src"), slab = dev(slabF, "scatterRows slab");
    DeviceInts slots = dev(slotsI, "scatterRows slots");
    range(slots.length(), 0, n, "scatterRows slots");
    range(src.length(), 0, (long) n * rowWidth, "scatterRows src");
    indices(slots.host(), 0, n, slab.length() / Math.max(1, rowWidth), "scatterRows slots");
    launchFlat(
        Kernel.SCATTER_ROWS, (long) n * rowWidth, args().p(src).p(slots).i(n).p(slab).i(rowWidth));
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
    ensureOpen();
    DeviceFloats slab = dev(slabF, "poolBags slab"), out = dev(outF, "poolBags out");
    DeviceInts slots = dev(slotsI, "poolBags slots"),
        offsets = dev(bagOffsetsI, "poolBags bagOffsets");
    DeviceInts target = dev(bagTargetI, "poolBags bagTarget");
    if (nBags <= 0 || width <= 0) {
      return;
    }
    range(offsets.length(), 0, nBags + 1L, "poolBags bagOffsets");
    range(target.length(), 0, nBags, "poolBags bagTarget");
    int[] off = offsets.host();
    checkOffsets(off, nBags, slots.length(), "poolBags");
    range(rowWidth, col, width, "poolBags columns of a row");
    indices(
        slots.host(),
        off[0],
        off[nBags] - off[0],
        slab.length() / Math.max(1, rowWidth),
        "poolBags slots");
    grouping.build(
        target.host(),
        0,
        nBags,
        rowsThatFit(out.length(), outStride, outCol, width),
        "poolBags bagTarget");
    CUdeviceptr groups = uploadGrouping(null, 0);
    int g = grouping.groups();
    launchFlat(
        Kernel.POOL_BAGS,
        (long) g * width,
        args()
            .p(slab)
            .i(rowWidth)
            .i(col)
            .i(width)
            .p(slots)
            .p(offsets)
            .i(g)
            .p(groups)
            .i(mean ? 1 : 0)
            .p(out)
            .i(outStride)
            .i(outCol));
  }

  private static void checkOffsets(int[] off, int nBags, int entries, String op) {
    if (off[0] < 0 || off[nBags] > entries) {
      throw new IndexOutOfBoundsException(
          op
              + ": bag entries ["
              + off[0]
              + ", "
              + off[nBags]
              + ") are outside the "
              + entries
              + " entries given");
    }
    for (int b = 0; b < nBags; b++) {
      if (off[b + 1] < off[b]) {
        throw new IllegalArgumentException(
            op
                + ": bagOffsets must not decrease; bagOffsets["
                + b
                + "] = "
                + off[b]
                + " > bagOffsets["
                + (b + 1)
                + "] = "
                + off[b + 1]);
      }
    }
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
    ensureOpen();
    DeviceInts rowIndex = dev(rowIndexI, "poolBagsBackward rowIndex");
    DeviceInts offsets = dev(bagOffsetsI, "poolBagsBackward bagOffsets");
    DeviceInts target = dev(bagTargetI, "poolBagsBackward bagTarget");
    DeviceFloats grad = dev(gradF, "poolBagsBackward grad"),
        rowGrad = dev(rowGradF, "poolBagsBackward rowGrad");
    if (nBags <= 0 || width <= 0) {
      return;
    }
    range(offsets.length(), 0, nBags + 1L, "poolBagsBackward bagOffsets");
    range(target.length(), 0, nBags, "poolBagsBackward bagTarget");
    int[] off = offsets.host();
    checkOffsets(off, nBags, rowIndex.length(), "poolBagsBackward");
    indices(
        target.host(),
        0,
        nBags,
        rowsThatFit(grad.length(), gradStride, gradCol, width),
        "poolBagsBackward bagTarget");
    int first = off[0], entries = off[nBags] - first;
    grouping.build(
        rowIndex.host(), first, entries, rowGrad.length() / width, "poolBagsBackward rowIndex");
    if (entryBag.length < entries) {
      entryBag = new int[Math.max(entries, 2 * entryBag.length)];
    }
    for (int b = 0; b < nBags; b++) {
      for (int k = off[b]; k < off[b + 1]; k++) {
        entryBag[k - first] = b;
      }
    }
    CUdeviceptr groups = uploadGrouping(entryBag, entries);
    CUdeviceptr bags = groups.withByteOffset(4L * grouping.size());
    int g = grouping.groups();
    launchFlat(
        Kernel.POOL_BAGS_BACKWARD,
        (long) g * width,
        args()
            .p(bags)
            .p(offsets)
            .p(target)
            .i(g)
            .p(groups)
            .i(mean ? 1 : 0)
            .p(grad)
            .i(gradStride)
            .i(gradCol)
            .i(width)
            .p(rowGrad));
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
    ensureOpen();
    DeviceFloats slab = dev(slabF, "rowwiseAdagrad slab"),
        rowGrad = dev(rowGradF, "rowwiseAdagrad rowGrad");
    DeviceInts slots = dev(slotsI, "rowwiseAdagrad slots");
    range(slots.length(), 0, nRows, "rowwiseAdagrad slots");
    range(rowGrad.length(), 0, (long) nRows * width, "rowwiseAdagrad rowGrad");
    range(rowWidth, col, width, "rowwiseAdagrad columns of a row");
    range(rowWidth, stateCol, 1, "rowwiseAdagrad state column");
    indices(slots.host(), 0, nRows, slab.length() / Math.max(1, rowWidth), "rowwiseAdagrad slots");
    if (width <= 0) {
      return;
    }
    launchFlat(
        Kernel.ROWWISE_ADAGRAD,
        32L * nRows,
        args()
            .p(slab)
            .i(rowWidth)
            .i(col)
            .i(width)
            .i(stateCol)
            .p(slots)
            .i(nRows)
            .p(rowGrad)
            .f(lr)
            .f(eps));
  }

  @Override
  public void broadcastDot(Floats aF, Ints aIndexI, Floats bF, int n, int dim, Floats outF) {
    ensureOpen();
    DeviceFloats a = dev(aF, "broadcastDot a"),
        b = dev(bF, "broadcastDot b"),
        out = dev(outF, "broadcastDot out");
    DeviceInts aIndex = dev(aIndexI, "broadcastDot aIndex");
    range(aIndex.length(), 0, n, "broadcastDot aIndex");
    range(b.length(), 0, (long) n * dim, "broadcastDot b");
    range(out.length(), 0, n, "broadcastDot out");
    indices(
        aIndex.host(),
        0,
        n,
        dim == 0 ? Integer.MAX_VALUE : a.length() / dim,
        "broadcastDot aIndex");
    launchFlat(Kernel.BROADCAST_DOT, n, args().p(a).p(aIndex).p(b).i(n).i(dim).p(out));
  }

  @Override
  public void broadcastDotBackward(
      Floats aF, Ints aIndexI, Floats bF, int n, int dim, Floats gF, Floats gradAF, Floats gradBF) {
    ensureOpen();
    DeviceFloats a = dev(aF, "broadcastDotBackward a"), b = dev(bF, "broadcastDotBackward b");
    DeviceFloats g = dev(gF, "broadcastDotBackward g");
    DeviceFloats gradA = dev(gradAF, "broadcastDotBackward gradA"),
        gradB = dev(gradBF, "broadcastDotBackward gradB");
    DeviceInts aIndex = dev(aIndexI, "broadcastDotBackward aIndex");
    if (n <= 0 || dim <= 0) {
      return;
    }
    range(aIndex.length(), 0, n, "broadcastDotBackward aIndex");
    range(b.length(), 0, (long) n * dim, "broadcastDotBackward b");
    range(gradB.length(), 0, (long) n * dim, "broadcastDotBackward gradB");
    range(g.length(), 0, n, "broadcastDotBackward g");
    grouping.build(
        aIndex.host(),
        0,
        n,
        Math.min(a.length(), gradA.length()) / dim,
        "broadcastDotBackward aIndex");
    CUdeviceptr groups = uploadGrouping(null, 0);
    int gs = grouping.groups();
    launchFlat(
        Kernel.BROADCAST_DOT_BACKWARD,
        (long) gs * dim + (long) n * dim,
        args().p(a).p(aIndex).p(b).i(n).i(dim).p(g).i(gs).p(groups).p(gradA).p(gradB));
  }

  @Override
  public void gatherIndexed(
      Floats srcF, int cols, Ints indexI, int n, Floats dstF, int dstStride, int dstCol) {
    ensureOpen();
    DeviceFloats src = dev(srcF, "gatherIndexed src"), dst = dev(dstF, "gatherIndexed dst");
    DeviceInts index = dev(indexI, "gatherIndexed index");
    if (n <= 0 || cols <= 0) {
      return;
    }
    range(index.length(), 0, n, "gatherIndexed index");
    block(dst.length(), dstStride, dstCol, n, cols, "gatherIndexed dst");
    indices(index.host(), 0, n, src.length() / cols, "gatherIndexed index");
    launchFlat(
        Kernel.GATHER_INDEXED,
        (long) n * cols,
        args().p(src).i(cols).p(index).i(n).p(dst).i(dstStride).i(dstCol));
  }

  @Override
  public void scatterAddIndexed(
      Floats srcF, int srcStride, int srcCol, int cols, Ints indexI, int n, Floats dstF) {
    ensureOpen();
    DeviceFloats src = dev(srcF, "scatterAddIndexed src"), dst = dev(dstF, "scatterAddIndexed dst");
    DeviceInts index = dev(indexI, "scatterAddIndexed index");
    if (n <= 0 || cols <= 0) {
      return;
    }
    range(index.length(), 0, n, "scatterAddIndexed index");
    block(src.length(), srcStride, srcCol, n, cols, "scatterAddIndexed src");
    grouping.build(index.host(), 0, n, dst.length() / cols, "scatterAddIndexed index");
    CUdeviceptr groups = uploadGrouping(null, 0);
    int g = grouping.groups();
    launchFlat(
        Kernel.SCATTER_ADD_INDEXED,
        (long) g * cols,
        args().p(src).i(srcStride).i(srcCol).i(cols).i(g).p(groups).p(dst));
  }

  // ---- dense ------------------------------------------------------------------------------------

  /**
   * {@inheritDoc}
   *
   * <p>One launch of a shared-memory tiled kernel (32×32 tiles of C). As in {@link CpuBackend}, a
   * zero of {@code op(A)} contributes nothing even against a non-finite {@code B}.
   */
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
    ensureOpen();
    DeviceFloats a = dev(aF, "gemm A"), b = dev(bF, "gemm B"), c = dev(cF, "gemm C");
    if (m <= 0 || n <= 0) {
      return;
    }
    block(c.length(), ldc, cOff, m, n, "gemm C");
    if (k > 0) {
      if (transA) {
        block(a.length(), lda, aOff, k, m, "gemm A (k x m)");
      } else {
        block(a.length(), lda, aOff, m, k, "gemm A (m x k)");
      }
      if (transB) {
        block(b.length(), ldb, bOff, n, k, "gemm B (n x k)");
      } else {
        block(b.length(), ldb, bOff, k, n, "gemm B (k x n)");
      }
    }
    int tilesM = (m + 31) / 32, tilesN = (n + 31) / 32;
    if (tilesN > 65535) {
      throw new IllegalArgumentException(
          "gemm: n = " + n + " needs " + tilesN + " column tiles; at most 65535");
    }
    launch(
        Kernel.GEMM,
        tilesM,
        tilesN,
        32,
        8,
        0,
        args()
            .i(transA ? 1 : 0)
            .i(transB ? 1 : 0)
            .i(m)
            .i(n)
            .i(k)
            .f(alpha)
            .p(a)
            .i(aOff)
            .i(lda)
            .p(b)
            .i(bOff)
            .i(ldb)
            .f(beta)
            .p(c)
            .i(cOff)
            .i(ldc));
  }

  @Override
  public void addBias(Floats yF, int rows, int cols, Floats biasF, int biasOff) {
    ensureOpen();
    DeviceFloats y = dev(yF, "addBias y"), bias = dev(biasF, "addBias bias");
    range(y.length(), 0, (long) rows * cols, "addBias y");
    range(bias.length(), biasOff, cols, "addBias bias");
    launchFlat(Kernel.ADD_BIAS, (long) rows * cols, args().p(y).i(rows).i(cols).p(bias).i(biasOff));
  }

  @Override
  public void biasGrad(Floats dyF, int rows, int cols, Floats dBiasF, int off) {
    ensureOpen();
    DeviceFloats dy = dev(dyF, "biasGrad dy"), dBias = dev(dBiasF, "biasGrad dBias");
    range(dy.length(), 0, (long) rows * cols, "biasGrad dy");
    range(dBias.length(), off, cols, "biasGrad dBias");
    if (rows <= 0 || cols <= 0) {
      return;
    }
    // columns side by side (up to a warp's worth), the rest of the block splits the rows
    int bx = 1;
    while (bx < cols && bx < 32) {
      bx <<= 1;
    }
    int by = BLOCK / bx;
    launch(
        Kernel.BIAS_GRAD,
        (cols + bx - 1) / bx,
        1,
        bx,
        by,
        4 * BLOCK,
        args().p(dy).i(rows).i(cols).p(dBias).i(off));
  }

  @Override
  public void relu(Floats xF, int n) {
    ensureOpen();
    DeviceFloats x = dev(xF, "relu x");
    range(x.length(), 0, n, "relu x");
    launchFlat(Kernel.RELU, n, args().p(x).i(n));
  }

  @Override
  public void reluBackward(Floats yF, Floats dyF, int n) {
    ensureOpen();
    DeviceFloats y = dev(yF, "reluBackward y"), dy = dev(dyF, "reluBackward dy");
    range(y.length(), 0, n, "reluBackward y");
    range(dy.length(), 0, n, "reluBackward dy");
    launchFlat(Kernel.RELU_BACKWARD, n, args().p(y).p(dy).i(n));
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
    ensureOpen();
    DeviceFloats src = dev(srcF, "copy2d src"), dst = dev(dstF, "copy2d dst");
    block(src.length(), srcStride, srcCol, rows, cols, "copy2d src");
    block(dst.length(), dstStride, dstCol, rows, cols, "copy2d dst");
    if (rows <= 0 || cols <= 0) {
      return;
    }
    launchFlat(
        Kernel.COPY2D,
        (long) rows * cols,
        args().p(src).i(srcStride).i(srcCol).p(dst).i(dstStride).i(dstCol).i(rows).i(cols));
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
    ensureOpen();
    DeviceFloats a = dev(aF, "mul2d a"), b = dev(bF, "mul2d b"), out = dev(outF, "mul2d out");
    block(a.length(), aStride, aCol, rows, cols, "mul2d a");
    block(b.length(), bStride, bCol, rows, cols, "mul2d b");
    block(out.length(), outStride, outCol, rows, cols, "mul2d out");
    if (rows <= 0 || cols <= 0) {
      return;
    }
    launchFlat(
        Kernel.MUL2D,
        (long) rows * cols,
        args()
            .p(a)
            .i(aStride)
            .i(aCol)
            .p(b)
            .i(bStride)
            .i(bCol)
            .p(out)
            .i(outStride)
            .i(outCol)
            .i(rows)
            .i(cols)
            .i(accumulate ? 1 : 0));
  }

  // ---- loss, optimizer --------------------------------------------------------------------------

  /**
   * {@inheritDoc}
   *
   * <p>One launch; each block sums its losses in double and the host adds the blocks' sums in block
   * order, so the result does not depend on timing. Returns after the kernel is done.
   */
  @Override
  public double sigmoidBce(
      Floats logitsF, Floats labelsF, int n, float scale, Floats probF, Floats gradF) {
    ensureOpen();
    DeviceFloats logits = dev(logitsF, "sigmoidBce logits"),
        labels = dev(labelsF, "sigmoidBce labels");
    DeviceFloats prob = dev(probF, "sigmoidBce prob"), grad = dev(gradF, "sigmoidBce grad");
    range(logits.length(), 0, n, "sigmoidBce logits");
    range(labels.length(), 0, n, "sigmoidBce labels");
    range(prob.length(), 0, n, "sigmoidBce prob");
    range(grad.length(), 0, n, "sigmoidBce grad");
    if (n <= 0) {
      return 0;
    }
    int blocks = (int) Math.min(MAX_LOSS_BLOCKS, Math.min(maxBlocks, (n + BLOCK - 1L) / BLOCK));
    launch(
        Kernel.SIGMOID_BCE,
        blocks,
        1,
        BLOCK,
        1,
        0,
        args().p(logits).p(labels).i(n).f(scale).p(prob).p(grad).p(lossPartials.ptr()));
    downloadDoubles(lossPartials.ptr(), blocks, partials);
    double loss = 0;
    for (int b = 0; b < blocks; b++) {
      loss += partials[b];
    }
    return loss;
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
    ensureOpen();
    DeviceFloats w = dev(wF, "adam w"),
        grad = dev(gradF, "adam grad"),
        m = dev(mF, "adam m"),
        v = dev(vF, "adam v");
    range(w.length(), 0, n, "adam w");
    range(grad.length(), 0, n, "adam grad");
    range(m.length(), 0, n, "adam m");
    range(v.length(), 0, n, "adam v");
    // the same float32 constants as CpuBackend
    double c1 = 1 - Math.pow(beta1, step), c2 = 1 - Math.pow(beta2, step);
    float alpha = (float) (lr * Math.sqrt(c2) / c1);
    launchFlat(
        Kernel.ADAM,
        n,
        args()
            .p(w)
            .p(grad)
            .p(m)
            .p(v)
            .i(n)
            .f(alpha)
            .f(beta1)
            .f(1 - beta1)
            .f(beta2)
            .f(1 - beta2)
            .f(eps));
  }

  /**
   * {@inheritDoc}
   *
   * <p>One launch of one block (the norm and the scaling in the same kernel), then the norm is
   * copied back: returns after the kernel is done.
   */
  @Override
  public double clipNorm(Floats gF, int n, float maxNorm) {
    ensureOpen();
    DeviceFloats g = dev(gF, "clipNorm g");
    range(g.length(), 0, n, "clipNorm g");
    if (n <= 0) {
      return 0;
    }
    launch(Kernel.CLIP_NORM, 1, 1, 1024, 1, 0, args().p(g).i(n).f(maxNorm).p(lossPartials.ptr()));
    downloadDoubles(lossPartials.ptr(), 1, partials);
    return partials[0];
  }

  // ---- close ------------------------------------------------------------------------------------

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
    RuntimeException first = null;
    try {
      if (contextRetained) {
        makeCurrent();
      }
      if (streamCreated) {
        sync();
      }
    } catch (RuntimeException e) {
      first = e;
    }
    closed = true;
    while (!live.isEmpty()) {
      try {
        live.pop().close();
      } catch (RuntimeException e) {
        first = first == null ? e : first;
      }
    }
    groupScratch = null;
    lossPartials = null;
    for (Pointer p : new Pointer[] {downHost, upHost}) {
      if (p != null) {
        first = keep(first, () -> check(cuMemFreeHost(p), "cuMemFreeHost"));
      }
    }
    downHost = upHost = null;
    for (CUmodule m : modules.values()) {
      first = keep(first, () -> check(cuModuleUnload(m), "cuModuleUnload"));
    }
    modules.clear();
    if (streamCreated) {
      first = keep(first, () -> check(cuStreamDestroy(stream), "cuStreamDestroy"));
    }
    if (contextRetained) {
      first =
          keep(first, () -> check(cuDevicePrimaryCtxRelease(device), "cuDevicePrimaryCtxRelease"));
    }
    if (first != null) {
      throw first;
    }
  }

  private static RuntimeException keep(RuntimeException first, Runnable r) {
    try {
      r.run();
      return first;
    } catch (RuntimeException e) {
      return first == null ? e : first;
    }
  }
}
