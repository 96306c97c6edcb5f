package io.streamrec.gpu;

/**
 * The batched numeric operations of a recommendation model, on buffers in the backend's memory.
 *
 * <p><b>Memory.</b> Every operand is a {@link Floats} or {@link Ints} made by this backend: plain
 * arrays for {@link CpuBackend}, device memory for the CUDA backend. Data enters and leaves only
 * through {@link #upload} and {@link #download}, so a model written against this interface moves
 * each byte across the bus only when it must. Matrices are row-major; a matrix operand is given as
 * (buffer, offset, leading dimension) or (buffer, row stride, first column) as the javadoc says.
 *
 * <p><b>Embedding slabs.</b> A slab is a {@link Floats} of {@code capacityRows × rowWidth}; row
 * {@code s} starts at {@code s * rowWidth} and holds the values a model reads ({@code [col, col +
 * width)}) and optimizer state after them. Sparse operations address rows by slot.
 *
 * <p><b>Ordering.</b> Operations run in call order; a {@link #download} returns once everything
 * before it is done. Every operation works on a whole minibatch, so a device backend launches one
 * kernel per operation per batch.
 *
 * <p>{@link CpuBackend} is the reference: every other backend must agree with it within the
 * tolerance its contract tests state. Accumulating operations ("adds into") never overwrite.
 */
public interface ComputeBackend extends AutoCloseable {

  /** A short name for logs and reports: {@code cpu} or {@code cuda}. */
  String name();

  // ---- memory -----------------------------------------------------------------------------------

  /** A new buffer of {@code n} floats, all zero. */
  Floats allocFloats(int n);

  /** A new buffer of {@code n} ints, all zero. */
  Ints allocInts(int n);

  /** Copies {@code n} floats from a host array into {@code dst} at {@code dstOff}. */
  void upload(float[] src, int srcOff, Floats dst, int dstOff, int n);

  /** Copies {@code n} ints from a host array into {@code dst} at {@code dstOff}. */
  void upload(int[] src, int srcOff, Ints dst, int dstOff, int n);

  /** Copies {@code n} floats of {@code src} from {@code srcOff} into a host array. */
  void download(Floats src, int srcOff, float[] dst, int dstOff, int n);

  /** Copies {@code n} floats between two buffers of this backend (regions must not overlap). */
  void copy(Floats src, int srcOff, Floats dst, int dstOff, int n);

  /** Sets {@code n} floats of {@code x} from {@code off} to {@code value}. */
  void fill(Floats x, int off, int n, float value);

  /** {@code y[yOff + i] += alpha · x[xOff + i]} for {@code i < n}. */
  void axpy(int n, float alpha, Floats x, int xOff, Floats y, int yOff);

  /** {@code x[off + i] *= s} for {@code i < n}. */
  void scale(Floats x, int off, int n, float s);

  // ---- rows of a slab ---------------------------------------------------------------------------

  /** {@code out[k*rowWidth ...] = slab[slots[k]*rowWidth ...]} for whole rows, {@code k < n}. */
  void gatherRows(Floats slab, int rowWidth, Ints slots, int n, Floats out);

  /**
   * {@code slab[slots[k]*rowWidth ...] = src[k*rowWidth ...]} for whole rows, {@code k < n}, in
   * order of {@code k}: where a slot is given more than once, its last row is what the slab holds.
   */
  void scatterRows(Floats src, Ints slots, int n, Floats slab, int rowWidth);

  // ---- embeddings -------------------------------------------------------------------------------

  /**
   * Pools bags of rows: for each bag {@code b}, the rows {@code slots[bagOffsets[b] ..
   * bagOffsets[b+1])} are summed (or averaged, if {@code mean}) over columns {@code [col, col +
   * width)} and <em>added</em> into {@code out[bagTarget[b] * outStride + outCol ...]}. An empty
   * bag adds nothing.
   */
  void poolBags(
      Floats slab,
      int rowWidth,
      int col,
      int width,
      Ints slots,
      Ints bagOffsets,
      int nBags,
      Ints bagTarget,
      boolean mean,
      Floats out,
      int outStride,
      int outCol);

  /**
   * The backward of {@link #poolBags}: for each bag, its gradient {@code grad[bagTarget[b] *
   * gradStride + gradCol ...]} (divided by the bag size if {@code mean}) is added into the
   * deduplicated row-gradient buffer at {@code rowGrad[rowIndex[k] * width ...]} for every entry
   * {@code k} of the bag. {@code rowIndex} maps each entry to its distinct row within the batch.
   */
  void poolBagsBackward(
      Ints rowIndex,
      Ints bagOffsets,
      int nBags,
      Ints bagTarget,
      boolean mean,
      Floats grad,
      int gradStride,
      int gradCol,
      int width,
      Floats rowGrad);

  /**
   * Row-wise Adagrad applied in place to {@code nRows} rows (distinct, as the model passes them):
   * for row {@code r} at {@code slots[r]}, with {@code g = rowGrad[r*width ...]}, the accumulator
   * at column {@code stateCol} grows by mean(g²) and values {@code [col, col+width)} move by {@code
   * -lr * g / sqrt(acc + eps)}. A slot given more than once is updated once per time, in order of
   * {@code r}, each update seeing the one before.
   */
  void rowwiseAdagrad(
      Floats slab,
      int rowWidth,
      int col,
      int width,
      int stateCol,
      Ints slots,
      int nRows,
      Floats rowGrad,
      float lr,
      float eps);

  /**
   * FTRL-Proximal (McMahan et al., KDD 2013) applied per coordinate, in place, to {@code nRows}
   * rows: for row {@code r} at {@code slots[r]} and each {@code j < width}, with {@code g =
   * rowGrad[r*width + j]}, value {@code w} at column {@code col + j}, and its state {@code z} at
   * column {@code stateCol + 2j} and {@code n} at {@code stateCol + 2j + 1}:
   *
   * <pre>
   * n' = n + g²;  σ = (sqrt(n') - sqrt(n)) / alpha;  z' = z + g - σ·w
   * w' = 0 if |z'| <= l1, else -(z' - sign(z')·l1) / ((beta + sqrt(n')) / alpha + l2)
   * </pre>
   *
   * in that order of float operations. A row at {@code z = n = w = 0} is a fresh one; {@code l1}
   * keeps a coordinate at exactly 0 until its summed evidence passes it. A slot given more than
   * once is updated once per time, in order of {@code r}, each update seeing the one before.
   */
  void ftrlProximal(
      Floats slab,
      int rowWidth,
      int col,
      int width,
      int stateCol,
      Ints slots,
      int nRows,
      Floats rowGrad,
      float alpha,
      float beta,
      float l1,
      float l2);

  // ---- the request-only broadcast ---------------------------------------------------------------

  /**
   * For each of {@code n} impressions {@code i}: {@code out[i] += dot(a[aIndex[i]*dim ...], b[i*dim
   * ...])} — the request tower (one row per unit, {@code aIndex} maps an impression to its unit)
   * broadcast against each impression's tower.
   */
  void broadcastDot(Floats a, Ints aIndex, Floats b, int n, int dim, Floats out);

  /**
   * The backward of {@link #broadcastDot}: {@code gradA[aIndex[i]] += g[i] * b[i]} and {@code
   * gradB[i] += g[i] * a[aIndex[i]]}.
   */
  void broadcastDotBackward(
      Floats a, Ints aIndex, Floats b, int n, int dim, Floats g, Floats gradA, Floats gradB);

  /**
   * Every field pair's dot, for a field-weighted factorised cross: for each of {@code n}
   * impressions {@code i} and each pair of a field {@code f} of {@code a}'s row {@code aIndex[i]}
   * (the impression's unit) and a field {@code g} of {@code b}'s row {@code i}, {@code out[(i*Fa +
   * f)*Fb + g] = dot(a[aIndex[i]].f, b[i].g)} over {@code dim} values, summed in column order,
   * {@code Fa} and {@code Fb} being the sides' numbers of fields. Overwrites {@code out}.
   */
  void fieldDots(FieldBlocks a, Ints aIndex, FieldBlocks b, int n, int dim, Floats out);

  /**
   * The backward of {@link #fieldDots}, given {@code g}, the gradient of each pair's dot (laid out
   * as {@code out}), into {@code gradA} and {@code gradB}, laid out as {@code a} and {@code b}:
   * {@code gradA[aIndex[i]].f += g[i,f,e] * b[i].e} over the impressions in order, then {@code e};
   * {@code gradB[i].e += g[i,f,e] * a[aIndex[i]].f} over {@code f} in order. Columns outside the
   * fields are left as they are.
   */
  void fieldDotsBackward(
      FieldBlocks a,
      Ints aIndex,
      FieldBlocks b,
      int n,
      int dim,
      Floats g,
      Floats gradA,
      Floats gradB);

  /**
   * Broadcasts rows by index: {@code dst[i*dstStride + dstCol + j] = src[index[i]*cols + j]} for
   * {@code i < n, j < cols} (a unit's request-side row copied to each of its impressions).
   */
  void gatherIndexed(
      Floats src, int cols, Ints index, int n, Floats dst, int dstStride, int dstCol);

  /**
   * The backward of {@link #gatherIndexed}: {@code dst[index[i]*cols + j] += src[i*srcStride +
   * srcCol + j]} (each unit gathers the gradients of its impressions).
   */
  void scatterAddIndexed(
      Floats src, int srcStride, int srcCol, int cols, Ints index, int n, Floats dst);

  // ---- dense layers -----------------------------------------------------------------------------

  /**
   * {@code C = alpha · op(A) · op(B) + beta · C}, row-major: {@code op(A)} is {@code m × k}, {@code
   * op(B)} is {@code k × n}, {@code C} is {@code m × n}; {@code transA} means {@code A} is stored
   * {@code k × m}. With {@code beta == 0}, {@code C} is overwritten (its old values, even NaN, are
   * not read).
   */
  void gemm(
      boolean transA,
      boolean transB,
      int m,
      int n,
      int k,
      float alpha,
      Floats a,
      int aOff,
      int lda,
      Floats b,
      int bOff,
      int ldb,
      float beta,
      Floats c,
      int cOff,
      int ldc);

  /** {@code y[r*cols + c] += bias[biasOff + c]} for {@code r < rows}. */
  void addBias(Floats y, int rows, int cols, Floats bias, int biasOff);

  /** {@code dBias[off + c] += Σ_r dy[r*cols + c]}: the bias gradient of {@link #addBias}. */
  void biasGrad(Floats dy, int rows, int cols, Floats dBias, int off);

  /** {@code x[i] = max(x[i], 0)} for the first {@code n} values, in place. */
  void relu(Floats x, int n);

  /**
   * The backward of {@link #relu} given its output {@code y}: {@code dy[i] = y[i] > 0 ? dy[i] : 0}.
   */
  void reluBackward(Floats y, Floats dy, int n);

  /**
   * Copies a block of {@code rows × cols}: {@code dst[r*dstStride + dstCol + c] = src[r*srcStride +
   * srcCol + c]} (to build or take apart a concatenation of features).
   */
  void copy2d(
      Floats src,
      int srcStride,
      int srcCol,
      Floats dst,
      int dstStride,
      int dstCol,
      int rows,
      int cols);

  /**
   * Element-wise product of two {@code rows × cols} blocks: {@code out[r, c] = a[r, c] · b[r, c]}
   * with each block given by (buffer, row stride, first column). If {@code accumulate}, adds into
   * {@code out} instead.
   */
  void mul2d(
      Floats a,
      int aStride,
      int aCol,
      Floats b,
      int bStride,
      int bCol,
      Floats out,
      int outStride,
      int outCol,
      int rows,
      int cols,
      boolean accumulate);

  // ---- loss and dense optimizer -----------------------------------------------------------------

  /**
   * Sigmoid + binary cross-entropy on logits: writes {@code prob[i]} and {@code grad[i] = (p - y) *
   * scale}; returns the summed loss (numerically stable form).
   */
  double sigmoidBce(Floats logits, Floats labels, int n, float scale, Floats prob, Floats grad);

  /**
   * Adam on a dense vector, {@code step} counting from 1: {@code m = β1 m + (1-β1) g}, {@code v =
   * β2 v + (1-β2) g²}, {@code w -= lr·sqrt(1-β2^t)/(1-β1^t) · m / (sqrt(v) + eps)}.
   */
  void adam(
      Floats w,
      Floats grad,
      Floats m,
      Floats v,
      int n,
      long step,
      float lr,
      float beta1,
      float beta2,
      float eps);

  /**
   * Scales {@code g} so that its L2 norm over the first {@code n} values is at most {@code
   * maxNorm}; returns the norm before scaling (NaN or infinite when {@code g} holds one).
   */
  double clipNorm(Floats g, int n, float maxNorm);

  @Override
  default void close() {}
}
