package io.streamrec.gpu;

import io.streamrec.gpu.internal.HostFloats;
import io.streamrec.gpu.internal.HostInts;
import java.util.Arrays;

/**
 * Pure-Java {@link ComputeBackend}: buffers are Java arrays and every operation a tight loop over
 * them, written so that the JIT vectorises the inner loops (contiguous, unit-stride, no branches).
 * The reference every other backend is checked against, and single-threaded: its results do not
 * depend on timing, so training on it is bit-for-bit reproducible.
 */
public final class CpuBackend implements ComputeBackend {

  @Override
  public String name() {
    return "cpu";
  }

  /** A buffer over an existing array (no copy): how host code hands its data to this backend. */
  public static Floats wrap(float[] a) {
    return new HostFloats(a);
  }

  /** A buffer over an existing array (no copy). */
  public static Ints wrap(int[] a) {
    return new HostInts(a);
  }

  /** The array behind a buffer of this backend. */
  public static float[] array(Floats f) {
    return ((HostFloats) f).a;
  }

  /** The array behind a buffer of this backend. */
  public static int[] array(Ints i) {
    return ((HostInts) i).a;
  }

  private static float[] f(Floats x) {
    return ((HostFloats) x).a;
  }

  private static int[] i(Ints x) {
    return ((HostInts) x).a;
  }

  // ---- memory -----------------------------------------------------------------------------------

  @Override
  public Floats allocFloats(int n) {
    return new HostFloats(new float[n]);
  }

  @Override
  public Ints allocInts(int n) {
    return new HostInts(new int[n]);
  }

  @Override
  public void upload(float[] src, int srcOff, Floats dst, int dstOff, int n) {
    System.arraycopy(src, srcOff, f(dst), dstOff, n);
  }

  @Override
  public void upload(int[] src, int srcOff, Ints dst, int dstOff, int n) {
    System.arraycopy(src, srcOff, i(dst), dstOff, n);
  }

  @Override
  public void download(Floats src, int srcOff, float[] dst, int dstOff, int n) {
    System.arraycopy(f(src), srcOff, dst, dstOff, n);
  }

  @Override
  public void copy(Floats src, int srcOff, Floats dst, int dstOff, int n) {
    System.arraycopy(f(src), srcOff, f(dst), dstOff, n);
  }

  @Override
  public void fill(Floats x, int off, int n, float value) {
    Arrays.fill(f(x), off, off + n, value);
  }

  @Override
  public void axpy(int n, float alpha, Floats xF, int xOff, Floats yF, int yOff) {
    float[] x = f(xF), y = f(yF);
    for (int k = 0; k < n; k++) {
      y[yOff + k] += alpha * x[xOff + k];
    }
  }

  @Override
  public void scale(Floats xF, int off, int n, float s) {
    float[] x = f(xF);
    for (int k = off; k < off + n; k++) {
      x[k] *= s;
    }
  }

  // ---- rows -------------------------------------------------------------------------------------

  @Override
  public void gatherRows(Floats slab, int rowWidth, Ints slots, int n, Floats out) {
    float[] s = f(slab), o = f(out);
    int[] sl = i(slots);
    for (int k = 0; k < n; k++) {
      System.arraycopy(s, sl[k] * rowWidth, o, k * rowWidth, rowWidth);
    }
  }

  @Override
  public void scatterRows(Floats src, Ints slots, int n, Floats slab, int rowWidth) {
    float[] s = f(src), d = f(slab);
    int[] sl = i(slots);
    for (int k = 0; k < n; k++) {
      System.arraycopy(s, k * rowWidth, d, sl[k] * rowWidth, rowWidth);
    }
  }

  // ---- embeddings -------------------------------------------------------------------------------

  @Override
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
    float[] slab = f(slabF), out = f(outF);
    int[] slots = i(slotsI), bagOffsets = i(bagOffsetsI), bagTarget = i(bagTargetI);
    for (int b = 0; b < nBags; b++) {
      int from = bagOffsets[b], to = bagOffsets[b + 1];
      if (to == from) {
        continue;
      }
      float scale = mean ? 1f / (to - from) : 1f;
      int o = bagTarget[b] * outStride + outCol;
      for (int k = from; k < to; k++) {
        int r = slots[k] * rowWidth + col;
        for (int j = 0; j < width; j++) {
          out[o + j] += slab[r + j] * scale;
        }
      }
    }
  }

  @Override
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
    float[] grad = f(gradF), rowGrad = f(rowGradF);
    int[] rowIndex = i(rowIndexI), bagOffsets = i(bagOffsetsI), bagTarget = i(bagTargetI);
    for (int b = 0; b < nBags; b++) {
      int from = bagOffsets[b], to = bagOffsets[b + 1];
      if (to == from) {
        continue;
      }
      float scale = mean ? 1f / (to - from) : 1f;
      int g = bagTarget[b] * gradStride + gradCol;
      for (int k = from; k < to; k++) {
        int r = rowIndex[k] * width;
        for (int j = 0; j < width; j++) {
          rowGrad[r + j] += grad[g + j] * scale;
        }
      }
    }
  }

  @Override
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
    float[] slab = f(slabF), rowGrad = f(rowGradF);
    int[] slots = i(slotsI);
    for (int r = 0; r < nRows; r++) {
      int g = r * width;
      float sq = 0f;
      for (int j = 0; j < width; j++) {
        sq += rowGrad[g + j] * rowGrad[g + j];
      }
      int base = slots[r] * rowWidth;
      float acc = slab[base + stateCol] + sq / width;
      slab[base + stateCol] = acc;
      float step = lr / (float) Math.sqrt(acc + eps);
      int v = base + col;
      for (int j = 0; j < width; j++) {
        slab[v + j] -= step * rowGrad[g + j];
      }
    }
  }

  @Override
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
    float[] slab = f(slabF), rowGrad = f(rowGradF);
    int[] slots = i(slotsI);
    for (int r = 0; r < nRows; r++) {
      int base = slots[r] * rowWidth;
      for (int j = 0; j < width; j++) {
        float g = rowGrad[r * width + j];
        int v = base + col + j, zc = base + stateCol + 2 * j;
        float n = slab[zc + 1];
        float n2 = n + g * g;
        float sqrtN2 = (float) Math.sqrt(n2);
        float sigma = (sqrtN2 - (float) Math.sqrt(n)) / alpha;
        float z = slab[zc] + g - sigma * slab[v];
        slab[zc] = z;
        slab[zc + 1] = n2;
        slab[v] =
            Math.abs(z) <= l1 ? 0f : -(z - Math.signum(z) * l1) / ((beta + sqrtN2) / alpha + l2);
      }
    }
  }

  // ---- broadcast --------------------------------------------------------------------------------

  @Override
  public void broadcastDot(Floats aF, Ints aIndexI, Floats bF, int n, int dim, Floats outF) {
    float[] a = f(aF), b = f(bF), out = f(outF);
    int[] aIndex = i(aIndexI);
    for (int k = 0; k < n; k++) {
      int ao = aIndex[k] * dim, bo = k * dim;
      float s = 0f;
      for (int j = 0; j < dim; j++) {
        s += a[ao + j] * b[bo + j];
      }
      out[k] += s;
    }
  }

  @Override
  public void broadcastDotBackward(
      Floats aF, Ints aIndexI, Floats bF, int n, int dim, Floats gF, Floats gradAF, Floats gradBF) {
    float[] a = f(aF), b = f(bF), g = f(gF), gradA = f(gradAF), gradB = f(gradBF);
    int[] aIndex = i(aIndexI);
    for (int k = 0; k < n; k++) {
      int ao = aIndex[k] * dim, bo = k * dim;
      float gk = g[k];
      for (int j = 0; j < dim; j++) {
        gradA[ao + j] += gk * b[bo + j];
        gradB[bo + j] += gk * a[ao + j];
      }
    }
  }

  @Override
  public void fieldDots(FieldBlocks aB, Ints aIndexI, FieldBlocks bB, int n, int dim, Floats outF) {
    float[] a = f(aB.data()), b = f(bB.data()), out = f(outF);
    int[] aIndex = i(aIndexI);
    int fa = aB.fields(), fb = bB.fields();
    for (int k = 0, o = 0; k < n; k++) {
      int ar = aIndex[k] * aB.stride() + aB.col(), br = k * bB.stride() + bB.col();
      for (int f = 0; f < fa; f++) {
        int ao = ar + f * dim;
        for (int g = 0; g < fb; g++, o++) {
          int bo = br + g * dim;
          float s = 0f;
          for (int j = 0; j < dim; j++) {
            s += a[ao + j] * b[bo + j];
          }
          out[o] = s;
        }
      }
    }
  }

  @Override
  public void fieldDotsBackward(
      FieldBlocks aB,
      Ints aIndexI,
      FieldBlocks bB,
      int n,
      int dim,
      Floats gF,
      Floats gradAF,
      Floats gradBF) {
    float[] a = f(aB.data()), b = f(bB.data()), g = f(gF), gradA = f(gradAF), gradB = f(gradBF);
    int[] aIndex = i(aIndexI);
    int fa = aB.fields(), fb = bB.fields();
    for (int k = 0, p = 0; k < n; k++) {
      int ar = aIndex[k] * aB.stride() + aB.col(), br = k * bB.stride() + bB.col();
      for (int f = 0; f < fa; f++) {
        int ao = ar + f * dim;
        for (int e = 0; e < fb; e++, p++) {
          int bo = br + e * dim;
          float gp = g[p];
          for (int j = 0; j < dim; j++) {
            gradA[ao + j] += gp * b[bo + j];
            gradB[bo + j] += gp * a[ao + j];
          }
        }
      }
    }
  }

  @Override
  public void gatherIndexed(
      Floats srcF, int cols, Ints indexI, int n, Floats dstF, int dstStride, int dstCol) {
    float[] src = f(srcF), dst = f(dstF);
    int[] index = i(indexI);
    for (int k = 0; k < n; k++) {
      System.arraycopy(src, index[k] * cols, dst, k * dstStride + dstCol, cols);
    }
  }

  @Override
  public void scatterAddIndexed(
      Floats srcF, int srcStride, int srcCol, int cols, Ints indexI, int n, Floats dstF) {
    float[] src = f(srcF), dst = f(dstF);
    int[] index = i(indexI);
    for (int k = 0; k < n; k++) {
      int s = k * srcStride + srcCol, d = index[k] * cols;
      for (int j = 0; j < cols; j++) {
        dst[d + j] += src[s + j];
      }
    }
  }

  // ---- dense ------------------------------------------------------------------------------------

  /**
   * {@inheritDoc}
   *
   * <p>Here a zero element of {@code A} skips its products ({@code 0·x} counts as 0 even where
   * {@code x} is not finite): ReLU layers make half of {@code A} zero.
   */
  @Override
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
    float[] a = f(aF), b = f(bF), c = f(cF);
    for (int r = 0; r < m; r++) {
      int row = cOff + r * ldc;
      if (beta == 0f) {
        Arrays.fill(c, row, row + n, 0f);
      } else if (beta != 1f) {
        for (int j = 0; j < n; j++) {
          c[row + j] *= beta;
        }
      }
    }
    if (transB && !transA && (long) m * n * k >= TRANSPOSE_MIN_WORK) {
      // B stored n x k: transpose it once (k x n) and take the vectorised path below, instead of
      // m x n dot products whose reduction order the JIT must keep scalar
      if (transposed.length < n * k) {
        transposed = new float[n * k];
      }
      for (int j = 0; j < n; j++) {
        int brow = bOff + j * ldb;
        for (int p = 0; p < k; p++) {
          transposed[p * n + j] = b[brow + p];
        }
      }
      b = transposed;
      bOff = 0;
      ldb = n;
      transB = false;
    }
    if (!transA && !transB) {
      // C[r,:] += alpha * A[r,p] * B[p,:] for p ascending. A zero of A (half of a ReLU layer's
      // outputs) skips its row of B; the non-zero ones are taken four at a time, each element of C
      // read and written once per four rows of B, the additions in the same order as one at a time
      for (int r = 0; r < m; r++) {
        int nz = nonZeros(a, aOff + r * lda, 1, k, alpha);
        accumulateRows(c, cOff + r * ldc, n, b, bOff, ldb, nz);
      }
    } else if (!transA) {
      // B stored n x k: C[r,j] = dot(A[r,:], B[j,:])
      for (int r = 0; r < m; r++) {
        int crow = cOff + r * ldc, arow = aOff + r * lda;
        for (int j = 0; j < n; j++) {
          int brow = bOff + j * ldb;
          float s = 0f;
          for (int p = 0; p < k; p++) {
            s += a[arow + p] * b[brow + p];
          }
          c[crow + j] += alpha * s;
        }
      }
    } else if (!transB) {
      // A stored k x m: C[r,:] += alpha * A[p,r] * B[p,:] for p ascending, as above
      for (int r = 0; r < m; r++) {
        int nz = nonZeros(a, aOff + r, lda, k, alpha);
        accumulateRows(c, cOff + r * ldc, n, b, bOff, ldb, nz);
      }
    } else {
      for (int r = 0; r < m; r++) {
        int crow = cOff + r * ldc;
        for (int j = 0; j < n; j++) {
          float s = 0f;
          for (int p = 0; p < k; p++) {
            s += a[aOff + p * lda + r] * b[bOff + j * ldb + p];
          }
          c[crow + j] += alpha * s;
        }
      }
    }
  }

  /**
   * Collects the non-zero {@code alpha * a[from + p * stride]}, p in [0, k), into {@link #nzValue}
   * with their p in {@link #nzIndex}; returns how many.
   */
  private int nonZeros(float[] a, int from, int stride, int k, float alpha) {
    if (nzIndex.length < k) {
      nzIndex = new int[k];
      nzValue = new float[k];
    }
    int nz = 0;
    for (int p = 0, at = from; p < k; p++, at += stride) {
      float x = alpha * a[at];
      if (x != 0f) {
        nzIndex[nz] = p;
        nzValue[nz++] = x;
      }
    }
    return nz;
  }

  /**
   * {@code c[crow + j] += x_q * b[bOff + p_q * ldb + j]} for the {@code nz} collected (p, x), q
   * ascending, every j in [0, n): eight (then four) rows of B per pass over the row of C, each
   * added in turn, so the sums are those of one row at a time, bit for bit.
   */
  private void accumulateRows(float[] c, int crow, int n, float[] b, int bOff, int ldb, int nz) {
    int[] idx = nzIndex;
    float[] val = nzValue;
    int q = 0;
    for (; q + 8 <= nz; q += 8) {
      float x0 = val[q], x1 = val[q + 1], x2 = val[q + 2], x3 = val[q + 3];
      float x4 = val[q + 4], x5 = val[q + 5], x6 = val[q + 6], x7 = val[q + 7];
      int b0 = bOff + idx[q] * ldb,
          b1 = bOff + idx[q + 1] * ldb,
          b2 = bOff + idx[q + 2] * ldb,
          b3 = bOff + idx[q + 3] * ldb,
          b4 = bOff + idx[q + 4] * ldb,
          b5 = bOff + idx[q + 5] * ldb,
          b6 = bOff + idx[q + 6] * ldb,
          b7 = bOff + idx[q + 7] * ldb;
      for (int j = 0; j < n; j++) {
        c[crow + j] =
            c[crow + j]
                + x0 * b[b0 + j]
                + x1 * b[b1 + j]
                + x2 * b[b2 + j]
                + x3 * b[b3 + j]
                + x4 * b[b4 + j]
                + x5 * b[b5 + j]
                + x6 * b[b6 + j]
                + x7 * b[b7 + j];
      }
    }
    for (; q + 4 <= nz; q += 4) {
      float x0 = val[q], x1 = val[q + 1], x2 = val[q + 2], x3 = val[q + 3];
      int b0 = bOff + idx[q] * ldb,
          b1 = bOff + idx[q + 1] * ldb,
          b2 = bOff + idx[q + 2] * ldb,
          b3 = bOff + idx[q + 3] * ldb;
      for (int j = 0; j < n; j++) {
        c[crow + j] =
            c[crow + j] + x0 * b[b0 + j] + x1 * b[b1 + j] + x2 * b[b2 + j] + x3 * b[b3 + j];
      }
    }
    for (; q < nz; q++) {
      float x = val[q];
      int b0 = bOff + idx[q] * ldb;
      for (int j = 0; j < n; j++) {
        c[crow + j] += x * b[b0 + j];
      }
    }
  }

  /** Scratch of {@link #nonZeros}: the p and the value of each non-zero of a row of op(A). */
  private int[] nzIndex = new int[0];

  private float[] nzValue = new float[0];

  /** Below this many multiply-adds, a transposed B is read in place rather than copied. */
  private static final long TRANSPOSE_MIN_WORK = 4096;

  /** Scratch for a transposed B operand (this backend is single-threaded, like its buffers). */
  private float[] transposed = new float[0];

  @Override
  public void addBias(Floats yF, int rows, int cols, Floats biasF, int biasOff) {
    float[] y = f(yF), bias = f(biasF);
    for (int r = 0; r < rows; r++) {
      int o = r * cols;
      for (int c = 0; c < cols; c++) {
        y[o + c] += bias[biasOff + c];
      }
    }
  }

  @Override
  public void biasGrad(Floats dyF, int rows, int cols, Floats dBiasF, int off) {
    float[] dy = f(dyF), db = f(dBiasF);
    for (int r = 0; r < rows; r++) {
      int o = r * cols;
      for (int c = 0; c < cols; c++) {
        db[off + c] += dy[o + c];
      }
    }
  }

  @Override
  public void relu(Floats xF, int n) {
    float[] x = f(xF);
    for (int k = 0; k < n; k++) {
      x[k] = Math.max(x[k], 0f);
    }
  }

  @Override
  public void reluBackward(Floats yF, Floats dyF, int n) {
    float[] y = f(yF), dy = f(dyF);
    for (int k = 0; k < n; k++) {
      dy[k] = y[k] > 0f ? dy[k] : 0f;
    }
  }

  @Override
  public void copy2d(
      Floats srcF,
      int srcStride,
      int srcCol,
      Floats dstF,
      int dstStride,
      int dstCol,
      int rows,
      int cols) {
    float[] src = f(srcF), dst = f(dstF);
    for (int r = 0; r < rows; r++) {
      System.arraycopy(src, r * srcStride + srcCol, dst, r * dstStride + dstCol, cols);
    }
  }

  @Override
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
    float[] a = f(aF), b = f(bF), out = f(outF);
    for (int r = 0; r < rows; r++) {
      int ao = r * aStride + aCol, bo = r * bStride + bCol, oo = r * outStride + outCol;
      if (accumulate) {
        for (int c = 0; c < cols; c++) {
          out[oo + c] += a[ao + c] * b[bo + c];
        }
      } else {
        for (int c = 0; c < cols; c++) {
          out[oo + c] = a[ao + c] * b[bo + c];
        }
      }
    }
  }

  // ---- loss, optimizer --------------------------------------------------------------------------

  @Override
  public double sigmoidBce(
      Floats logitsF, Floats labelsF, int n, float scale, Floats probF, Floats gradF) {
    float[] logits = f(logitsF), labels = f(labelsF), prob = f(probF), grad = f(gradF);
    double loss = 0;
    for (int k = 0; k < n; k++) {
      float z = logits[k], y = labels[k];
      float p = sigmoid(z);
      prob[k] = p;
      grad[k] = (p - y) * scale;
      // log(1 + e^-|z|) + max(z, 0) - z*y
      loss += Math.log1p(Math.exp(-Math.abs(z))) + Math.max(z, 0f) - z * y;
    }
    return loss;
  }

  @Override
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
    float[] w = f(wF), grad = f(gradF), m = f(mF), v = f(vF);
    double c1 = 1 - Math.pow(beta1, step), c2 = 1 - Math.pow(beta2, step);
    float alpha = (float) (lr * Math.sqrt(c2) / c1);
    for (int k = 0; k < n; k++) {
      float g = grad[k];
      m[k] = beta1 * m[k] + (1 - beta1) * g;
      v[k] = beta2 * v[k] + (1 - beta2) * g * g;
      w[k] -= alpha * m[k] / ((float) Math.sqrt(v[k]) + eps);
    }
  }

  @Override
  public double clipNorm(Floats gF, int n, float maxNorm) {
    float[] g = f(gF);
    double sq = 0;
    for (int k = 0; k < n; k++) {
      sq += (double) g[k] * g[k];
    }
    double norm = Math.sqrt(sq);
    if (norm > maxNorm && Double.isFinite(norm)) {
      float s = (float) (maxNorm / norm);
      for (int k = 0; k < n; k++) {
        g[k] *= s;
      }
    }
    return norm;
  }

  /** Logistic function, stable for large |z|. */
  public static float sigmoid(float z) {
    if (z >= 0) {
      return 1f / (1f + (float) Math.exp(-z));
    }
    float e = (float) Math.exp(z);
    return e / (1f + e);
  }
}
