package io.streamrec.gpu.internal.cuda;

import io.streamrec.gpu.Floats;
import jcuda.driver.CUdeviceptr;

/** {@link Floats} in device memory; closing frees it (after the work queued on it is done). */
public final class DeviceFloats implements Floats {
  final DeviceMemory memory;
  private final int length;

  DeviceFloats(DeviceMemory memory, int length) {
    this.memory = memory;
    this.length = length;
  }

  @Override
  public int length() {
    return length;
  }

  /** The device address; throws if closed. */
  public CUdeviceptr ptr() {
    return memory.ptr();
  }

  /** Whether {@code owner} made this buffer. */
  public boolean ownedBy(Object owner) {
    return memory.owner == owner;
  }

  @Override
  public void close() {
    memory.close();
  }

  @Override
  public String toString() {
    return "DeviceFloats[" + length + "]";
  }
}
