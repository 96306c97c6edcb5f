package io.streamrec.gpu.internal.cuda;

import static io.streamrec.gpu.internal.cuda.CudaCalls.check;
import static jcuda.driver.JCudaDriver.cuMemAlloc;
import static jcuda.driver.JCudaDriver.cuMemFree;

import jcuda.driver.CUdeviceptr;

/**
 * One device allocation. Freeing waits for the owner's stream first: a kernel queued before the
 * close may still read the memory.
 */
public final class DeviceMemory implements AutoCloseable {
  /** What a closing allocation asks of its owner: make the context current, drain the stream. */
  public interface Owner {
    void beforeFree();
  }

  final Owner owner;
  private final long bytes;
  private CUdeviceptr ptr;

  public DeviceMemory(Owner owner, long bytes) {
    this.owner = owner;
    this.bytes = bytes;
    CUdeviceptr p = new CUdeviceptr();
    // cuMemAlloc refuses 0 bytes; an empty buffer still gets an address
    check(cuMemAlloc(p, Math.max(bytes, 4)), "cuMemAlloc(" + bytes + " bytes)");
    this.ptr = p;
  }

  public CUdeviceptr ptr() {
    if (ptr == null) {
      throw new IllegalStateException("device buffer used after close");
    }
    return ptr;
  }

  /** Whether the memory is still allocated. */
  public boolean isOpen() {
    return ptr != null;
  }

  public long bytes() {
    return bytes;
  }

  public DeviceFloats asFloats(int length) {
    return new DeviceFloats(this, length);
  }

  public DeviceInts asInts(int length) {
    return new DeviceInts(this, length);
  }

  @Override
  public void close() {
    if (ptr != null) {
      owner.beforeFree();
      CUdeviceptr p = ptr;
      ptr = null;
      check(cuMemFree(p), "cuMemFree(" + bytes + " bytes)");
    }
  }
}
