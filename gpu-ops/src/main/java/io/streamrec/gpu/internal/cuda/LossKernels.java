package io.streamrec.gpu.internal.cuda;

import io.streamrec.gpu.Floats;

/**
 * The loss and optimizer family of CUDA operations: sigmoid with log loss (its sum reduced per
 * block and added on the host in block order), Adam, and the clipping of a gradient's norm.
 */
public final class LossKernels extends CudaOps {
  /** Partial sums of {@link #sigmoidBce}: at most this many blocks. */
  private static final int MAX_PARTIAL_BLOCKS = 1024;

  private final DeviceMemory lossPartials;
  private final double[] partials = new double[MAX_PARTIAL_BLOCKS];

  public LossKernels(
      CudaContext ctx, KernelLauncher launcher, StagingBuffers staging, DeviceAllocator allocator) {
    super(ctx, launcher, staging, allocator);
    this.lossPartials = allocator.alloc(8L * MAX_PARTIAL_BLOCKS);
  }

  /**
   * One launch; each block sums its losses in double and the host adds the blocks' sums in block
   * order, so the result does not depend on timing. Returns after the kernel is done.
   */
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
    int blocks =
        (int)
            Math.min(
                MAX_PARTIAL_BLOCKS,
                Math.min(ctx.maxBlocks(), (n + KernelLauncher.BLOCK - 1L) / KernelLauncher.BLOCK));
    launch(
        Kernel.SIGMOID_BCE,
        blocks,
        1,
        KernelLauncher.BLOCK,
        1,
        0,
        args().p(logits).p(labels).i(n).f(scale).p(prob).p(grad).p(lossPartials.ptr()));
    staging.downloadDoubles(lossPartials.ptr(), blocks, partials);
    double loss = 0;
    for (int b = 0; b < blocks; b++) {
      loss += partials[b];
    }
    return loss;
  }

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
   * One launch of one block (the norm and the scaling in the same kernel), then the norm is copied
   * back: returns after the kernel is done.
   */
  public double clipNorm(Floats gF, int n, float maxNorm) {
    ensureOpen();
    DeviceFloats g = dev(gF, "clipNorm g");
    range(g.length(), 0, n, "clipNorm g");
    if (n <= 0) {
      return 0;
    }
    launch(Kernel.CLIP_NORM, 1, 1, 1024, 1, 0, args().p(g).i(n).f(maxNorm).p(lossPartials.ptr()));
    staging.downloadDoubles(lossPartials.ptr(), 1, partials);
    return partials[0];
  }
}
