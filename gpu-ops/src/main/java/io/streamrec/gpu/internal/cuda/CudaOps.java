package io.streamrec.gpu.internal.cuda;

import io.streamrec.gpu.Floats;
import io.streamrec.gpu.Ints;

/**
 * What every family of CUDA operations shares: the context (made current, checked open), the
 * launcher, the staging buffers and the allocator, and the argument checks that keep a bad index
 * from reaching a kernel (a kernel cannot throw; it would read or write out of bounds).
 */
abstract class CudaOps {
  final CudaContext ctx;
  final KernelLauncher launcher;
  final StagingBuffers staging;
  final DeviceAllocator allocator;

  CudaOps(
      CudaContext ctx, KernelLauncher launcher, StagingBuffers staging, DeviceAllocator allocator) {
    this.ctx = ctx;
    this.launcher = launcher;
    this.staging = staging;
    this.allocator = allocator;
  }

  final void ensureOpen() {
    ctx.ensureOpen();
  }

  static KernelLauncher.Args args() {
    return KernelLauncher.args();
  }

  final void launch(
      Kernel k,
      int gridX,
      int gridY,
      int blockX,
      int blockY,
      int sharedBytes,
      KernelLauncher.Args args) {
    launcher.launch(k, gridX, gridY, blockX, blockY, sharedBytes, args);
  }

  final void launchFlat(Kernel k, long total, KernelLauncher.Args args) {
    launcher.launchFlat(k, total, args);
  }

  final DeviceFloats dev(Floats f, String what) {
    if (f instanceof DeviceFloats d && d.ownedBy(allocator.owner())) {
      return d;
    }
    throw new IllegalArgumentException(what + " is " + f + ", not a buffer of this cuda backend");
  }

  final DeviceInts dev(Ints i, String what) {
    if (i instanceof DeviceInts d && d.ownedBy(allocator.owner())) {
      return d;
    }
    throw new IllegalArgumentException(what + " is " + i + ", not a buffer of this cuda backend");
  }

  static void requireNonNegative(int n, String what) {
    if (n < 0) {
      throw new IllegalArgumentException(what + " must be >= 0; got " + n);
    }
  }

  static void range(int length, long off, long n, String what) {
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
  static void block(int length, int stride, int col, int rows, int cols, String what) {
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
  static int rowsThatFit(int length, int stride, int col, int width) {
    long room = (long) length - col - width;
    if (room < 0) {
      return 0;
    }
    return stride <= 0 ? Integer.MAX_VALUE : (int) Math.min(Integer.MAX_VALUE, room / stride + 1);
  }

  static void indices(int[] a, int from, int n, int bound, String what) {
    for (int i = from; i < from + n; i++) {
      if (a[i] < 0 || a[i] >= bound) {
        throw new IndexOutOfBoundsException(
            what + "[" + i + "] = " + a[i] + " is outside [0, " + bound + ")");
      }
    }
  }
}
