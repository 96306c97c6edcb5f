package io.streamrec.gpu;

/**
 * The batched numeric operations the model needs, over rows of an embedding slab addressed by slot.
 *
 * <p>A slab is {@code capacityRows × rowWidth} floats; row {@code s} starts at {@code s * rowWidth}.
 * A row holds the values a model reads ({@code [col, col + width)}) and the optimizer state after
 * them. Every operation works on a whole minibatch in one call, so a device implementation launches
 * one kernel per operation per batch.
 *
 * <p>{@link CpuBackend} is the reference: every other backend must agree with it within the
 * tolerance its contract tests state.
 */
public interface ComputeBackend extends AutoCloseable {

  /** A short name for logs and reports: {@code cpu} or {@code cuda}. */
  String name();

  /**
   * Pools bags of rows: for each bag {@code b}, the rows {@code slots[bagOffsets[b] ..
   * bagOffsets[b+1])} are summed (or averaged, if {@code mean}) over columns {@code [col, col +
   * width)} and <em>added</em> into {@code out[bagTarget[b] * outStride + outCol ...]}. An empty bag
   * adds nothing.
   */
  void poolBags(
      float[] slab, int rowWidth, int col, int width,
      int[] slots, int[] bagOffsets, int nBags, int[] bagTarget,
      boolean mean, float[] out, int outStride, int outCol);

  /**
   * The backward of {@link #poolBags}: for each bag, its gradient {@code grad[bagTarget[b] *
   * gradStride + gradCol ...]} (divided by the bag size if {@code mean}) is added into the
   * deduplicated row-gradient buffer at {@code rowGrad[rowIndex[k] * width ...]} for every entry
   * {@code k} of the bag. {@code rowIndex} maps each entry to its distinct row within the batch.
   */
  void poolBagsBackward(
      int[] rowIndex, int[] bagOffsets, int nBags, int[] bagTarget, boolean mean,
      float[] grad, int gradStride, int gradCol, int width, float[] rowGrad);

  /**
   * Row-wise Adagrad applied in place to {@code nRows} distinct rows: for row {@code r} at
   * {@code slots[r]}, with {@code g = rowGrad[r*width ...]}, the accumulator at column {@code
   * stateCol} grows by mean(g²) and values {@code [col, col+width)} move by {@code -lr * g /
   * sqrt(acc + eps)}.
   */
  void rowwiseAdagrad(
      float[] slab, int rowWidth, int col, int width, int stateCol,
      int[] slots, int nRows, float[] rowGrad, float lr, float eps);

  /**
   * For each of {@code n} impressions {@code i}: {@code out[i] += dot(a[aIndex[i]*dim ...],
   * b[i*dim ...])} — the request tower (one row per unit, {@code aIndex} maps an impression to its
   * unit) broadcast against each impression's tower.
   */
  void broadcastDot(float[] a, int[] aIndex, float[] b, int n, int dim, float[] out);

  /**
   * The backward of {@link #broadcastDot}: {@code gradA[aIndex[i]] += g[i] * b[i]} and {@code
   * gradB[i] += g[i] * a[aIndex[i]]}.
   */
  void broadcastDotBackward(
      float[] a, int[] aIndex, float[] b, int n, int dim, float[] g, float[] gradA, float[] gradB);

  /**
   * Sigmoid + binary cross-entropy on logits: writes {@code prob[i]} and {@code grad[i] = (p - y) *
   * scale}; returns the summed loss (numerically stable form).
   */
  double sigmoidBce(float[] logits, float[] labels, int n, float scale, float[] prob, float[] grad);

  /** Adam on a dense vector: {@code step} counts from 1. */
  void adam(
      float[] w, float[] grad, float[] m, float[] v, int n, long step,
      float lr, float beta1, float beta2, float eps);

  @Override
  default void close() {}
}
