package io.streamrec.gpu.internal.cuda;

import io.streamrec.gpu.FieldBlocks;
import io.streamrec.gpu.Floats;
import io.streamrec.gpu.Ints;
import jcuda.driver.CUdeviceptr;

/**
 * The embedding family of CUDA operations: rows gathered from and scattered to a slab, bags pooled
 * into their targets and back, row-wise Adagrad, the broadcast dot product of the request-only
 * model and its field-pair dots, indexed gathers and scatter-adds. Every scatter-add is planned on
 * the host ({@link Grouping}) from the index buffers' host images, so it adds in the CPU backend's
 * order. The kernels that write whole rows by slot ({@code scatterRows}, {@code rowwiseAdagrad})
 * are launched once per run of distinct slots ({@link DistinctRuns}), so a repeated slot is written
 * in input order, never by two threads at once.
 */
public final class EmbeddingKernels extends CudaOps {
  private final Grouping grouping = new Grouping();
  private final DistinctRuns runs = new DistinctRuns();
  private DeviceMemory groupScratch;
  private int[] entryBag = new int[64];

  public EmbeddingKernels(
      CudaContext ctx, KernelLauncher launcher, StagingBuffers staging, DeviceAllocator allocator) {
    super(ctx, launcher, staging, allocator);
  }

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

  public void scatterRows(Floats srcF, Ints slotsI, int n, Floats slabF, int rowWidth) {
    ensureOpen();
    DeviceFloats src = dev(srcF, "scatterRows src"), slab = dev(slabF, "scatterRows slab");
    DeviceInts slots = dev(slotsI, "scatterRows slots");
    range(slots.length(), 0, n, "scatterRows slots");
    range(src.length(), 0, (long) n * rowWidth, "scatterRows src");
    indices(slots.host(), 0, n, slab.length() / Math.max(1, rowWidth), "scatterRows slots");
    // a slot given twice is written in input order, the last row winning, as on the CPU
    runs.split(slots.host(), 0, n);
    for (int r = 0; r < runs.runs(); r++) {
      int s = runs.start(r), m = runs.end(r) - s;
      launchFlat(
          Kernel.SCATTER_ROWS,
          (long) m * rowWidth,
          args()
              .p(src.ptr().withByteOffset(4L * s * rowWidth))
              .p(slots.ptr().withByteOffset(4L * s))
              .i(m)
              .p(slab)
              .i(rowWidth));
    }
  }

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
    // a warp per row: the lanes sum the row's squared gradient
    updateRows(
        Kernel.ROWWISE_ADAGRAD,
        "rowwiseAdagrad",
        new RowUpdate(slabF, rowWidth, col, width, stateCol, 1, slotsI, nRows, rowGradF),
        32,
        a -> a.f(lr).f(eps));
  }

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
    // a thread per weight: z and n follow each value
    updateRows(
        Kernel.FTRL_PROXIMAL,
        "ftrlProximal",
        new RowUpdate(slabF, rowWidth, col, width, stateCol, 2 * width, slotsI, nRows, rowGradF),
        width,
        a -> a.f(alpha).f(beta).f(l1).f(l2));
  }

  /**
   * The operands of an optimizer's update of rows by slot: row {@code r}'s gradient {@code
   * rowGrad[r*width ...]} updates the values {@code [col, col+width)} and the {@code stateWidth}
   * floats of state from {@code stateCol} of the row at {@code slots[r]}.
   */
  private record RowUpdate(
      Floats slab,
      int rowWidth,
      int col,
      int width,
      int stateCol,
      int stateWidth,
      Ints slots,
      int nRows,
      Floats rowGrad) {}

  /**
   * Checks {@code u}'s operands (errors name {@code op}), then launches {@code kernel} with {@code
   * threadsPerRow} threads per row, once per run of distinct slots (a slot given twice is updated
   * once per time, in input order, as on the CPU), with the update's arguments followed by the
   * optimizer's ({@code settings}).
   */
  private void updateRows(
      Kernel kernel,
      String op,
      RowUpdate u,
      long threadsPerRow,
      java.util.function.UnaryOperator<KernelLauncher.Args> settings) {
    ensureOpen();
    DeviceFloats slab = dev(u.slab(), op + " slab"), rowGrad = dev(u.rowGrad(), op + " rowGrad");
    DeviceInts slots = dev(u.slots(), op + " slots");
    int nRows = u.nRows(), width = u.width(), rowWidth = u.rowWidth();
    range(slots.length(), 0, nRows, op + " slots");
    range(rowGrad.length(), 0, (long) nRows * width, op + " rowGrad");
    range(rowWidth, u.col(), width, op + " columns of a row");
    range(rowWidth, u.stateCol(), u.stateWidth(), op + " state columns");
    indices(slots.host(), 0, nRows, slab.length() / Math.max(1, rowWidth), op + " slots");
    if (width <= 0) {
      return;
    }
    runs.split(slots.host(), 0, nRows);
    for (int r = 0; r < runs.runs(); r++) {
      int s = runs.start(r), m = runs.end(r) - s;
      launchFlat(
          kernel,
          threadsPerRow * m,
          settings.apply(
              args()
                  .p(slab)
                  .i(rowWidth)
                  .i(u.col())
                  .i(width)
                  .i(u.stateCol())
                  .p(slots.ptr().withByteOffset(4L * s))
                  .i(m)
                  .p(rowGrad.ptr().withByteOffset(4L * s * width))));
    }
  }

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

  public void fieldDots(FieldBlocks aB, Ints aIndexI, FieldBlocks bB, int n, int dim, Floats outF) {
    ensureOpen();
    DeviceFloats a = dev(aB.data(), "fieldDots a"), b = dev(bB.data(), "fieldDots b");
    DeviceFloats out = dev(outF, "fieldDots out");
    DeviceInts aIndex = dev(aIndexI, "fieldDots aIndex");
    int fa = aB.fields(), fb = bB.fields();
    if (n <= 0 || fa == 0 || fb == 0) {
      return;
    }
    FieldOperands ops = new FieldOperands(aB, a, aIndex, bB, b, n, dim);
    ops.check("fieldDots");
    range(out.length(), 0, (long) n * fa * fb, "fieldDots out");
    launchFlat(Kernel.FIELD_DOTS, (long) n * fa * fb, ops.args().p(out));
  }

  public void fieldDotsBackward(
      FieldBlocks aB,
      Ints aIndexI,
      FieldBlocks bB,
      int n,
      int dim,
      Floats gF,
      Floats gradAF,
      Floats gradBF) {
    ensureOpen();
    DeviceFloats a = dev(aB.data(), "fieldDotsBackward a"),
        b = dev(bB.data(), "fieldDotsBackward b");
    DeviceFloats g = dev(gF, "fieldDotsBackward g");
    DeviceFloats gradA = dev(gradAF, "fieldDotsBackward gradA"),
        gradB = dev(gradBF, "fieldDotsBackward gradB");
    DeviceInts aIndex = dev(aIndexI, "fieldDotsBackward aIndex");
    int fa = aB.fields(), fb = bB.fields();
    if (n <= 0 || dim <= 0 || fa == 0 || fb == 0) {
      return;
    }
    FieldOperands ops = new FieldOperands(aB, a, aIndex, bB, b, n, dim);
    ops.check("fieldDotsBackward");
    block(gradB.length(), bB.stride(), bB.col(), n, fb * dim, "fieldDotsBackward gradB");
    range(g.length(), 0, (long) n * fa * fb, "fieldDotsBackward g");
    // the impressions of one unit add into its row of gradA: grouped, in impression order
    grouping.build(
        aIndex.host(),
        0,
        n,
        Math.min(
            rowsThatFit(a.length(), aB.stride(), aB.col(), fa * dim),
            rowsThatFit(gradA.length(), aB.stride(), aB.col(), fa * dim)),
        "fieldDotsBackward aIndex");
    CUdeviceptr groups = uploadGrouping(null, 0);
    int gs = grouping.groups();
    launchFlat(
        Kernel.FIELD_DOTS_BACKWARD,
        (long) gs * fa * dim + (long) n * fb * dim,
        ops.args().p(g).i(gs).p(groups).p(gradA).p(gradB));
  }

  /** What both field-dot operations take: the two sides' blocks on the device, n and dim. */
  private record FieldOperands(
      FieldBlocks aB,
      DeviceFloats a,
      DeviceInts aIndex,
      FieldBlocks bB,
      DeviceFloats b,
      int n,
      int dim) {

    /** The checks both operations make of these inputs, named after {@code op}. */
    void check(String op) {
      range(aIndex.length(), 0, n, op + " aIndex");
      block(b.length(), bB.stride(), bB.col(), n, bB.fields() * dim, op + " b");
      indices(
          aIndex.host(),
          0,
          n,
          rowsThatFit(a.length(), aB.stride(), aB.col(), aB.fields() * dim),
          op + " aIndex");
    }

    /** The arguments both kernels start with. */
    KernelLauncher.Args args() {
      return CudaOps.args()
          .p(a)
          .i(aB.stride())
          .i(aB.col())
          .i(aB.fields())
          .p(aIndex)
          .p(b)
          .i(bB.stride())
          .i(bB.col())
          .i(bB.fields())
          .i(n)
          .i(dim);
    }
  }

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

  private CUdeviceptr uploadGrouping(int[] extra, int extraN) {
    int size = grouping.size() + extraN;
    long bytes = 4L * Math.max(size, 1);
    if (groupScratch == null || groupScratch.bytes() < bytes) {
      if (groupScratch != null) {
        groupScratch.close();
      }
      groupScratch =
          allocator.alloc(
              Math.max(bytes, 2 * (groupScratch == null ? 4096 : groupScratch.bytes())));
    }
    CUdeviceptr p = groupScratch.ptr();
    staging.uploadInts(grouping.packed(), 0, p, 0, grouping.size());
    if (extraN > 0) {
      staging.uploadInts(extra, 0, p, grouping.size(), extraN);
    }
    return p;
  }
}
