package io.streamrec.gpu.internal.cuda;

import static io.streamrec.gpu.internal.cuda.CudaCalls.check;
import static jcuda.driver.JCudaDriver.cuLaunchKernel;

import java.util.Arrays;
import jcuda.NativePointerObject;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;

/** Launches our kernels on the context's stream. */
public final class KernelLauncher {
  /** Threads per block of the element-wise kernels. */
  public static final int BLOCK = 256;

  private final CudaContext ctx;

  public KernelLauncher(CudaContext ctx) {
    this.ctx = ctx;
  }

  /** Kernel arguments, in the order of the kernel's parameters. */
  public static final class Args {
    private final NativePointerObject[] a = new NativePointerObject[20];
    private int n;

    public Args p(CUdeviceptr ptr) {
      a[n++] = Pointer.to(ptr);
      return this;
    }

    public Args p(DeviceFloats f) {
      return p(f.ptr());
    }

    public Args p(DeviceInts i) {
      return p(i.ptr());
    }

    public Args i(int v) {
      a[n++] = Pointer.to(new int[] {v});
      return this;
    }

    public Args f(float v) {
      a[n++] = Pointer.to(new float[] {v});
      return this;
    }

    Pointer build() {
      return Pointer.to(Arrays.copyOf(a, n));
    }
  }

  public static Args args() {
    return new Args();
  }

  public void launch(
      Kernel k, int gridX, int gridY, int blockX, int blockY, int sharedBytes, Args args) {
    check(
        cuLaunchKernel(
            ctx.function(k),
            gridX,
            gridY,
            1,
            blockX,
            blockY,
            1,
            sharedBytes,
            ctx.stream(),
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
  public void launchFlat(Kernel k, long total, Args args) {
    if (total <= 0) {
      return;
    }
    int blocks = (int) Math.min(ctx.maxBlocks(), (total + BLOCK - 1) / BLOCK);
    launch(k, blocks, 1, BLOCK, 1, 0, args);
  }
}
