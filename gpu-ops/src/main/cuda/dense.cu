// Dense kernels: matrix product, loss, dense optimizer, gradient clipping.
#include "common.cuh"

#define TILE 32
#define ROWS_PER_THREAD 4  // a 32x32 tile of C by a 32x8 block: each thread owns 4 rows of one column

// C = alpha op(A) op(B) + beta C, row-major, shared-memory tiles of 32x32. Block (32, 8); grid
// (ceil(m/32), ceil(n/32)): blockIdx.x walks rows of C, so m may pass 65535 tiles. Each tile of A
// and B is loaded with the thread-to-element mapping that keeps global reads coalesced for its
// layout. As in the CPU backend, a zero of op(A) contributes nothing even against a non-finite B;
// with beta == 0, C is not read.
extern "C" __global__ void gemm_f32(int transA, int transB, int m, int n, int k, float alpha,
                                    const float* A, int aOff, int lda, const float* B, int bOff, int ldb,
                                    float beta, float* C, int cOff, int ldc) {
  __shared__ float As[TILE][TILE + 1];
  __shared__ float Bs[TILE][TILE + 1];
  int tx = threadIdx.x, ty = threadIdx.y;
  int row0 = blockIdx.x * TILE, col0 = blockIdx.y * TILE;
  float acc[ROWS_PER_THREAD] = {0.f, 0.f, 0.f, 0.f};
  for (int k0 = 0; k0 < k; k0 += TILE) {
    for (int q = 0; q < ROWS_PER_THREAD; q++) {
      int u = ty + 8 * q;
      // As[r][p] = op(A)[row0 + r, k0 + p]
      if (!transA) {
        int r = row0 + u, p = k0 + tx;
        As[u][tx] = (r < m && p < k) ? A[aOff + (i64)r * lda + p] : 0.f;
      } else {
        int r = row0 + tx, p = k0 + u;
        As[tx][u] = (r < m && p < k) ? A[aOff + (i64)p * lda + r] : 0.f;
      }
      // Bs[p][c] = op(B)[k0 + p, col0 + c]
      if (!transB) {
        int p = k0 + u, c = col0 + tx;
        Bs[u][tx] = (p < k && c < n) ? B[bOff + (i64)p * ldb + c] : 0.f;
      } else {
        int p = k0 + tx, c = col0 + u;
        Bs[tx][u] = (p < k && c < n) ? B[bOff + (i64)c * ldb + p] : 0.f;
      }
    }
    __syncthreads();
#pragma unroll 8
    for (int p = 0; p < TILE; p++) {
      float bv = Bs[p][tx];
      for (int q = 0; q < ROWS_PER_THREAD; q++) {
        float av = As[ty + 8 * q][p];
        acc[q] += av == 0.f ? 0.f : av * bv;
      }
    }
    __syncthreads();
  }
  int c = col0 + tx;
  if (c < n) {
    for (int q = 0; q < ROWS_PER_THREAD; q++) {
      int r = row0 + ty + 8 * q;
      if (r < m) {
        i64 o = cOff + (i64)r * ldc + c;
        C[o] = beta == 0.f ? alpha * acc[q] : alpha * acc[q] + beta * C[o];
      }
    }
  }
}

// prob[i] = sigmoid(z), grad[i] = (p - y) * scale; each block writes the sum of its losses (in
// double, added in a fixed tree order) to partial[blockIdx.x]; the host adds the partials in order.
// blockDim.x must be 256.
extern "C" __global__ void sigmoid_bce(const float* logits, const float* labels, int n, float scale,
                                       float* prob, float* grad, double* partial) {
  __shared__ double part[256];
  double loss = 0.0;
  GRID_STRIDE(i, n) {
    float z = logits[i], y = labels[i];
    float p;
    if (z >= 0.f) {
      p = 1.f / (1.f + (float)exp(-(double)z));
    } else {
      float e = (float)exp((double)z);
      p = e / (1.f + e);
    }
    prob[i] = p;
    grad[i] = (p - y) * scale;
    float lin = fmaxf(z, 0.f) - z * y;
    loss += log1p(exp(-fabs((double)z))) + (double)lin;
  }
  part[threadIdx.x] = loss;
  __syncthreads();
  for (int s = 128; s > 0; s >>= 1) {
    if (threadIdx.x < s) {
      part[threadIdx.x] += part[threadIdx.x + s];
    }
    __syncthreads();
  }
  if (threadIdx.x == 0) {
    partial[blockIdx.x] = part[0];
  }
}

// Adam with the bias correction folded into alpha (computed on the host, as the CPU backend does).
extern "C" __global__ void adam_f32(float* w, const float* grad, float* m, float* v, int n, float alpha,
                                    float beta1, float oneMinusBeta1, float beta2, float oneMinusBeta2, float eps) {
  GRID_STRIDE(i, n) {
    float g = grad[i];
    float mi = beta1 * m[i] + oneMinusBeta1 * g;
    float vi = beta2 * v[i] + oneMinusBeta2 * g * g;
    m[i] = mi;
    v[i] = vi;
    w[i] -= alpha * mi / (sqrtf(vi) + eps);
  }
}

// One block of 1024 threads: the L2 norm of g[0, n) in double (fixed reduction order), written to
// normOut[0]; if it exceeds maxNorm (and is finite) g is scaled to maxNorm.
extern "C" __global__ void clip_norm(float* g, int n, float maxNorm, double* normOut) {
  __shared__ double part[1024];
  __shared__ float factor;
  double sq = 0.0;
  for (int i = threadIdx.x; i < n; i += blockDim.x) {
    double x = g[i];
    sq += x * x;
  }
  part[threadIdx.x] = sq;
  __syncthreads();
  for (int s = blockDim.x >> 1; s > 0; s >>= 1) {
    if (threadIdx.x < s) {
      part[threadIdx.x] += part[threadIdx.x + s];
    }
    __syncthreads();
  }
  if (threadIdx.x == 0) {
    double norm = sqrt(part[0]);
    normOut[0] = norm;
    factor = (norm > maxNorm && isfinite(norm)) ? (float)(maxNorm / norm) : 1.f;
  }
  __syncthreads();
  if (factor != 1.f) {
    for (int i = threadIdx.x; i < n; i += blockDim.x) {
      g[i] *= factor;
    }
  }
}
