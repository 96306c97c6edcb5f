package io.streamrec.gpu.internal.cuda;

import io.streamrec.gpu.Ints;
import jcuda.driver.CUdeviceptr;

/**
 * {@link Ints} in device memory, with a host image. No operation writes an {@code Ints}: only
 * {@code upload} does, and it updates both copies, so the host image is always exact. Operations
 * whose launch depends on index values (the groupings of the scatter-adds, bounds checks) read it
 * instead of copying the indices back.
 */
public final class DeviceInts implements Ints {
  final DeviceMemory memory;
  private final int[] host;

  DeviceInts(DeviceMemory memory, int length) {
    this.memory = memory;
    this.host = new int[length];
  }

  @Override
  public int length() {
    return host.length;
  }

  public CUdeviceptr ptr() {
    return memory.ptr();
  }

  /** The host image: what the device holds. Read-only for callers. */
  public int[] host() {
    return host;
  }

  public boolean ownedBy(Object owner) {
    return memory.owner == owner;
  }

  @Override
  public void close() {
    memory.close();
  }

  @Override
  public String toString() {
    return "DeviceInts[" + host.length + "]";
  }
}
