package io.streamrec.gpu.internal.cuda;

import io.streamrec.gpu.Floats;

/**
 * The dense family of CUDA operations: {@code axpy} and scaling, the tiled gemm, bias and its
 * gradient, ReLU and its backward, strided 2-d copies and products.
 */
public final class DenseKernels extends CudaOps {

  public DenseKernels(
      CudaContext ctx, KernelLauncher launcher, StagingBuffers staging, DeviceAllocator allocator) {
    super(ctx, launcher, staging, allocator);
  }

  public void axpy(int n, float alpha, Floats xF, int xOff, Floats yF, int yOff) {
    ensureOpen();
    DeviceFloats x = dev(xF, "axpy x"), y = dev(yF, "axpy y");
    range(x.length(), xOff, n, "axpy x");
    range(y.length(), yOff, n, "axpy y");
    launchFlat(Kernel.AXPY, n, args().i(n).f(alpha).p(x).i(xOff).p(y).i(yOff));
  }

  public void scale(Floats xF, int off, int n, float s) {
    ensureOpen();
    DeviceFloats x = dev(xF, "scale x");
    range(x.length(), off, n, "scale x");
    launchFlat(Kernel.SCALE, n, args().p(x).i(off).i(n).f(s));
  }

  /**
   * One launch of a shared-memory tiled kernel (32×32 tiles of C). As in {@link CpuBackend}, a zero
   * of {@code op(A)} contributes nothing even against a non-finite {@code B}.
   */
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

  public void addBias(Floats yF, int rows, int cols, Floats biasF, int biasOff) {
    ensureOpen();
    DeviceFloats y = dev(yF, "addBias y"), bias = dev(biasF, "addBias bias");
    range(y.length(), 0, (long) rows * cols, "addBias y");
    range(bias.length(), biasOff, cols, "addBias bias");
    launchFlat(Kernel.ADD_BIAS, (long) rows * cols, args().p(y).i(rows).i(cols).p(bias).i(biasOff));
  }

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
    int by = KernelLauncher.BLOCK / bx;
    launch(
        Kernel.BIAS_GRAD,
        (cols + bx - 1) / bx,
        1,
        bx,
        by,
        4 * KernelLauncher.BLOCK,
        args().p(dy).i(rows).i(cols).p(dBias).i(off));
  }

  public void relu(Floats xF, int n) {
    ensureOpen();
    DeviceFloats x = dev(xF, "relu x");
    range(x.length(), 0, n, "relu x");
    launchFlat(Kernel.RELU, n, args().p(x).i(n));
  }

  public void reluBackward(Floats yF, Floats dyF, int n) {
    ensureOpen();
    DeviceFloats y = dev(yF, "reluBackward y"), dy = dev(dyF, "reluBackward dy");
    range(y.length(), 0, n, "reluBackward y");
    range(dy.length(), 0, n, "reluBackward dy");
    launchFlat(Kernel.RELU_BACKWARD, n, args().p(y).p(dy).i(n));
  }

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
}
