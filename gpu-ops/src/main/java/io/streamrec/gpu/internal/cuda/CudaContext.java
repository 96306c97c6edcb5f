package io.streamrec.gpu.internal.cuda;

import static io.streamrec.gpu.internal.cuda.CudaCalls.check;
import static jcuda.driver.JCudaDriver.cuCtxSetCurrent;
import static jcuda.driver.JCudaDriver.cuDeviceGet;
import static jcuda.driver.JCudaDriver.cuDeviceGetAttribute;
import static jcuda.driver.JCudaDriver.cuDeviceGetCount;
import static jcuda.driver.JCudaDriver.cuDeviceGetName;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRelease;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRetain;
import static jcuda.driver.JCudaDriver.cuMemGetInfo;
import static jcuda.driver.JCudaDriver.cuModuleGetFunction;
import static jcuda.driver.JCudaDriver.cuModuleLoadData;
import static jcuda.driver.JCudaDriver.cuModuleUnload;
import static jcuda.driver.JCudaDriver.cuStreamCreate;
import static jcuda.driver.JCudaDriver.cuStreamDestroy;
import static jcuda.driver.JCudaDriver.cuStreamSynchronize;

import io.streamrec.gpu.BackendUnavailableException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Map;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.CUstream;

/**
 * One device as a CUDA backend uses it: the device's primary context (retained), one stream, and
 * our kernels loaded from their PTX. The context is made current on the calling thread whenever the
 * thread changes. Closing unloads the modules, destroys the stream and releases the context; what
 * runs on the stream must be drained before (see {@link StagingBuffers#sync}).
 */
public final class CudaContext implements AutoCloseable {
  /** Blocks per multiprocessor for grid-stride kernels: enough resident warps to hide latency. */
  private static final int BLOCKS_PER_SM = 32;

  private final int ordinal;
  private final CUdevice device = new CUdevice();
  private final CUcontext context = new CUcontext();
  private final CUstream stream = new CUstream();
  private final Map<String, CUmodule> modules = new HashMap<>();
  private final EnumMap<Kernel, CUfunction> functions = new EnumMap<>(Kernel.class);
  private String deviceName;
  private int maxBlocks;
  private Thread current;
  private boolean contextRetained;
  private boolean streamCreated;
  private boolean closed;

  /**
   * Opens device {@code ordinal}: retains its primary context, creates the stream, loads the
   * kernels. On failure, releases what it took and throws the failure, with a failure of releasing
   * (as after a sticky error) as suppressed.
   */
  public CudaContext(int ordinal) {
    this.ordinal = ordinal;
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

  public int ordinal() {
    return ordinal;
  }

  public String deviceName() {
    return deviceName;
  }

  /** Blocks a grid-stride launch uses at most. */
  public int maxBlocks() {
    return maxBlocks;
  }

  public CUstream stream() {
    return stream;
  }

  public CUfunction function(Kernel k) {
    return functions.get(k);
  }

  public boolean isOpen() {
    return !closed;
  }

  /** Makes the context current on this thread, if it is not already. */
  public void makeCurrent() {
    Thread t = Thread.currentThread();
    if (t != current) {
      check(cuCtxSetCurrent(context), "cuCtxSetCurrent");
      current = t;
    }
  }

  /** Free and total bytes of the device's memory, as the driver reports them now. */
  public long[] memoryInfo() {
    ensureOpen();
    long[] free = new long[1], total = new long[1];
    check(cuMemGetInfo(free, total), "cuMemGetInfo");
    return new long[] {free[0], total[0]};
  }

  /** Throws if closed; makes the context current. */
  public void ensureOpen() {
    if (closed) {
      throw new IllegalStateException("the cuda backend is closed");
    }
    makeCurrent();
  }

  /** Waits until the stream is idle. */
  void synchronizeStream() {
    check(cuStreamSynchronize(stream), "cuStreamSynchronize");
  }

  /** True once the stream exists (so there is something to drain before closing). */
  boolean hasStream() {
    return streamCreated;
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
    try (InputStream in = CudaContext.class.getResourceAsStream(resource)) {
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

  /** Marks the context closed: from now on nothing may be queued. */
  public void markClosed() {
    closed = true;
  }

  /**
   * Unloads the modules, destroys the stream and releases the primary context; the first error is
   * thrown after everything was tried.
   */
  @Override
  public void close() {
    closed = true;
    RuntimeException first = null;
    for (CUmodule m : modules.values()) {
      first = Closing.keep(first, () -> check(cuModuleUnload(m), "cuModuleUnload"));
    }
    modules.clear();
    if (streamCreated) {
      streamCreated = false;
      first = Closing.keep(first, () -> check(cuStreamDestroy(stream), "cuStreamDestroy"));
    }
    if (contextRetained) {
      contextRetained = false;
      first =
          Closing.keep(
              first, () -> check(cuDevicePrimaryCtxRelease(device), "cuDevicePrimaryCtxRelease"));
    }
    if (first != null) {
      throw first;
    }
  }
}
