package io.streamrec.gpu;

/** Pure-Java {@link ComputeBackend}: tight loops over primitive arrays. The reference backend. */
public final class CpuBackend implements ComputeBackend {

  @Override
  public String name() {
    return "cpu";
  }

  @Override
  public void poolBags(
      float[] slab, int rowWidth, int col, int width,
      int[] slots, int[] bagOffsets, int nBags, int[] bagTarget,
      boolean mean, float[] out, int outStride, int outCol) {
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
      int[] rowIndex, int[] bagOffsets, int nBags, int[] bagTarget, boolean mean,
      float[] grad, int gradStride, int gradCol, int width, float[] rowGrad) {
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
      float[] slab, int rowWidth, int col, int width, int stateCol,
      int[] slots, int nRows, float[] rowGrad, float lr, float eps) {
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
  public void broadcastDot(float[] a, int[] aIndex, float[] b, int n, int dim, float[] out) {
    for (int i = 0; i < n; i++) {
      int ao = aIndex[i] * dim, bo = i * dim;
      float s = 0f;
      for (int j = 0; j < dim; j++) {
        s += a[ao + j] * b[bo + j];
      }
      out[i] += s;
    }
  }

  @Override
  public void broadcastDotBackward(
      float[] a, int[] aIndex, float[] b, int n, int dim, float[] g, float[] gradA, float[] gradB) {
    for (int i = 0; i < n; i++) {
      int ao = aIndex[i] * dim, bo = i * dim;
      float gi = g[i];
      for (int j = 0; j < dim; j++) {
        gradA[ao + j] += gi * b[bo + j];
        gradB[bo + j] += gi * a[ao + j];
      }
    }
  }

  @Override
  public double sigmoidBce(float[] logits, float[] labels, int n, float scale, float[] prob, float[] grad) {
    double loss = 0;
    for (int i = 0; i < n; i++) {
      float z = logits[i], y = labels[i];
      float p = sigmoid(z);
      prob[i] = p;
      grad[i] = (p - y) * scale;
      // log(1 + e^-|z|) + max(z, 0) - z*y
      loss += Math.log1p(Math.exp(-Math.abs(z))) + Math.max(z, 0f) - z * y;
    }
    return loss;
  }

  @Override
  public void adam(
      float[] w, float[] grad, float[] m, float[] v, int n, long step,
      float lr, float beta1, float beta2, float eps) {
    double c1 = 1 - Math.pow(beta1, step), c2 = 1 - Math.pow(beta2, step);
    float alpha = (float) (lr * Math.sqrt(c2) / c1);
    for (int i = 0; i < n; i++) {
      float g = grad[i];
      m[i] = beta1 * m[i] + (1 - beta1) * g;
      v[i] = beta2 * v[i] + (1 - beta2) * g * g;
      w[i] -= alpha * m[i] / ((float) Math.sqrt(v[i]) + eps);
    }
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
