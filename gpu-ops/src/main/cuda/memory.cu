// Element-wise and row-moving kernels: one thread per element, grid-stride loops.
#include "common.cuh"

extern "C" __global__ void axpy_f32(int n, float alpha, const float* x, int xOff, float* y, int yOff) {
  GRID_STRIDE(i, n) { y[yOff + i] += alpha * x[xOff + i]; }
}

extern "C" __global__ void scale_f32(float* x, int off, int n, float s) {
  GRID_STRIDE(i, n) { x[off + i] *= s; }
}

extern "C" __global__ void gather_rows(const float* slab, int rowWidth, const int* slots, int n, float* out) {
  i64 total = (i64)n * rowWidth;
  GRID_STRIDE(i, total) {
    i64 k = i / rowWidth;
    int j = (int)(i - k * rowWidth);
    out[i] = slab[(i64)slots[k] * rowWidth + j];
  }
}

extern "C" __global__ void scatter_rows(const float* src, const int* slots, int n, float* slab, int rowWidth) {
  i64 total = (i64)n * rowWidth;
  GRID_STRIDE(i, total) {
    i64 k = i / rowWidth;
    int j = (int)(i - k * rowWidth);
    slab[(i64)slots[k] * rowWidth + j] = src[i];
  }
}

extern "C" __global__ void copy2d_f32(const float* src, int srcStride, int srcCol,
                                      float* dst, int dstStride, int dstCol, int rows, int cols) {
  i64 total = (i64)rows * cols;
  GRID_STRIDE(i, total) {
    i64 r = i / cols;
    int c = (int)(i - r * cols);
    dst[r * dstStride + dstCol + c] = src[r * srcStride + srcCol + c];
  }
}

extern "C" __global__ void mul2d_f32(const float* a, int aStride, int aCol, const float* b, int bStride, int bCol,
                                     float* out, int outStride, int outCol, int rows, int cols, int accumulate) {
  i64 total = (i64)rows * cols;
  GRID_STRIDE(i, total) {
    i64 r = i / cols;
    int c = (int)(i - r * cols);
    float p = a[r * aStride + aCol + c] * b[r * bStride + bCol + c];
    i64 o = r * outStride + outCol + c;
    out[o] = accumulate ? out[o] + p : p;
  }
}

extern "C" __global__ void relu_f32(float* x, int n) {
  // a NaN stays NaN (fmaxf would give 0), as on the CPU: the batch's loss is NaN and it is skipped
  GRID_STRIDE(i, n) {
    float v = x[i];
    x[i] = v > 0.f || v != v ? v : 0.f;
  }
}

extern "C" __global__ void relu_backward_f32(const float* y, float* dy, int n) {
  GRID_STRIDE(i, n) { dy[i] = y[i] > 0.f ? dy[i] : 0.f; }
}

extern "C" __global__ void add_bias_f32(float* y, int rows, int cols, const float* bias, int biasOff) {
  i64 total = (i64)rows * cols;
  GRID_STRIDE(i, total) {
    i64 r = i / cols;
    int c = (int)(i - r * cols);
    y[i] += bias[biasOff + c];
  }
}

// dBias[off + c] += sum over rows of dy[r, c]. Block (bx, by): bx columns side by side, by threads
// splitting the rows (row r goes to thread r % by); the by partial sums are then added in a fixed
// order, so the result does not depend on timing. Shared memory: bx * by floats.
extern "C" __global__ void bias_grad_f32(const float* dy, int rows, int cols, float* dBias, int off) {
  extern __shared__ float part[];
  int c = blockIdx.x * blockDim.x + threadIdx.x;
  float s = 0.f;
  if (c < cols) {
    for (int r = threadIdx.y; r < rows; r += blockDim.y) {
      s += dy[(i64)r * cols + c];
    }
  }
  part[threadIdx.y * blockDim.x + threadIdx.x] = s;
  __syncthreads();
  if (threadIdx.y == 0 && c < cols) {
    float acc = dBias[off + c];
    for (int y = 0; y < blockDim.y; y++) {
      acc += part[y * blockDim.x + threadIdx.x];
    }
    dBias[off + c] = acc;
  }
}
