// Embedding kernels: pooling, its backward, the fused row-wise Adagrad, and the request-only
// broadcast.
//
// No float atomics. Where several inputs add into one output (bags sharing a target, entries of
// one distinct row, impressions of one unit), the host groups the inputs by output first (a
// "grouping": key[g], start[g..g+1), items[...] in ascending input order, built from the index
// buffers, which only the host writes) and one thread per (output, column) adds its inputs in
// ascending order. That is the order the CPU backend adds them in, so the results are
// deterministic and, with -fmad=false, equal to the CPU's bit for bit.
#include "common.cuh"

// One thread per (target group g, column j): out[key[g]] += the bags of the group, in bag order.
extern "C" __global__ void pool_bags(
    const float* slab, int rowWidth, int col, int width,
    const int* slots, const int* bagOffsets, int nGroups, const int* groups,
    int mean, float* out, int outStride, int outCol) {
  const int* key = groups;
  const int* start = groups + nGroups;
  const int* items = start + nGroups + 1;
  i64 total = (i64)nGroups * width;
  GRID_STRIDE(i, total) {
    int g = (int)(i / width);
    int j = (int)(i - (i64)g * width);
    i64 o = (i64)key[g] * outStride + outCol + j;
    float acc = out[o];
    for (int e = start[g]; e < start[g + 1]; e++) {
      int b = items[e];
      int from = bagOffsets[b], to = bagOffsets[b + 1];
      if (to == from) {
        continue;
      }
      float scale = mean ? 1.f / (float)(to - from) : 1.f;
      for (int k = from; k < to; k++) {
        acc += slab[(i64)slots[k] * rowWidth + col + j] * scale;
      }
    }
    out[o] = acc;
  }
}

// One thread per (distinct row group g, column j): rowGrad[key[g]] += the gradients of the bags
// of the group's entries, in entry order. entryBag[k] is the bag of entry k.
extern "C" __global__ void pool_bags_backward(
    const int* entryBag, const int* bagOffsets, const int* bagTarget, int nGroups, const int* groups,
    int mean, const float* grad, int gradStride, int gradCol, int width, float* rowGrad) {
  const int* key = groups;
  const int* start = groups + nGroups;
  const int* items = start + nGroups + 1;
  i64 total = (i64)nGroups * width;
  GRID_STRIDE(i, total) {
    int g = (int)(i / width);
    int j = (int)(i - (i64)g * width);
    i64 o = (i64)key[g] * width + j;
    float acc = rowGrad[o];
    for (int e = start[g]; e < start[g + 1]; e++) {
      int b = entryBag[items[e]];
      float scale = mean ? 1.f / (float)(bagOffsets[b + 1] - bagOffsets[b]) : 1.f;
      acc += grad[(i64)bagTarget[b] * gradStride + gradCol + j] * scale;
    }
    rowGrad[o] = acc;
  }
}

// One warp per row (rows are distinct: no two warps write one row). The mean square is summed in
// column order (each lane's square shuffled in turn), as the CPU backend sums it.
extern "C" __global__ void rowwise_adagrad(
    float* slab, int rowWidth, int col, int width, int stateCol,
    const int* slots, int nRows, const float* rowGrad, float lr, float eps) {
  int lane = threadIdx.x & 31;
  i64 warp = ((i64)blockIdx.x * blockDim.x + threadIdx.x) >> 5;
  i64 warps = ((i64)gridDim.x * blockDim.x) >> 5;
  for (i64 r = warp; r < nRows; r += warps) {
    const float* g = rowGrad + r * width;
    float sq = 0.f;
    for (int base = 0; base < width; base += 32) {
      int j = base + lane;
      float v = j < width ? g[j] : 0.f;
      float v2 = v * v;
      int m = min(32, width - base);
      for (int s = 0; s < m; s++) {
        sq += __shfl_sync(0xffffffffu, v2, s);
      }
    }
    i64 rowBase = (i64)slots[r] * rowWidth;
    float acc = slab[rowBase + stateCol] + sq / (float)width;
    float step = lr / sqrtf(acc + eps);
    __syncwarp();
    if (lane == 0) {
      slab[rowBase + stateCol] = acc;
    }
    for (int j = lane; j < width; j += 32) {
      slab[rowBase + col + j] -= step * g[j];
    }
    __syncwarp();
  }
}

// One thread per (row, coordinate): FTRL-Proximal in the CPU backend's order of float operations.
// The rows of one launch are distinct slots (the host splits repeated slots into runs).
extern "C" __global__ void ftrl_proximal(
    float* slab, int rowWidth, int col, int width, int stateCol,
    const int* slots, int nRows, const float* rowGrad, float alpha, float beta, float l1, float l2) {
  GRID_STRIDE(k, (i64)nRows * width) {
    i64 r = k / width;
    int j = (int)(k - r * width);
    float g = rowGrad[k];
    i64 base = (i64)slots[r] * rowWidth;
    i64 v = base + col + j, zc = base + stateCol + 2 * j;
    float n = slab[zc + 1];
    float n2 = n + g * g;
    float sqrtN2 = sqrtf(n2);
    float sigma = (sqrtN2 - sqrtf(n)) / alpha;
    float z = slab[zc] + g - sigma * slab[v];
    slab[zc] = z;
    slab[zc + 1] = n2;
    slab[v] = fabsf(z) <= l1 ? 0.f : -(z - copysignf(l1, z)) / ((beta + sqrtN2) / alpha + l2);
  }
}

// One thread per impression: out[i] += dot(a[aIndex[i]], b[i]), summed in column order.
extern "C" __global__ void broadcast_dot(const float* a, const int* aIndex, const float* b, int n, int dim, float* out) {
  GRID_STRIDE(i, n) {
    const float* ar = a + (i64)aIndex[i] * dim;
    const float* br = b + i * dim;
    float s = 0.f;
    for (int j = 0; j < dim; j++) {
      s += ar[j] * br[j];
    }
    out[i] += s;
  }
}

// Threads [0, nGroups*dim): gradA[key[g], j] += g[i] * b[i, j] over the group's impressions in
// order; threads [nGroups*dim, nGroups*dim + n*dim): gradB[i, j] += g[i] * a[aIndex[i], j].
extern "C" __global__ void broadcast_dot_backward(
    const float* a, const int* aIndex, const float* b, int n, int dim, const float* g,
    int nGroups, const int* groups, float* gradA, float* gradB) {
  const int* key = groups;
  const int* start = groups + nGroups;
  const int* items = start + nGroups + 1;
  i64 aTotal = (i64)nGroups * dim;
  i64 total = aTotal + (i64)n * dim;
  GRID_STRIDE(t, total) {
    if (t < aTotal) {
      int grp = (int)(t / dim);
      int j = (int)(t - (i64)grp * dim);
      i64 o = (i64)key[grp] * dim + j;
      float acc = gradA[o];
      for (int e = start[grp]; e < start[grp + 1]; e++) {
        int i = items[e];
        acc += g[i] * b[(i64)i * dim + j];
      }
      gradA[o] = acc;
    } else {
      i64 u = t - aTotal;
      i64 i = u / dim;
      int j = (int)(u - i * dim);
      gradB[u] += g[i] * a[(i64)aIndex[i] * dim + j];
    }
  }
}

// One thread per (impression i, pair f x g): out[(i*fa + f)*fb + g] = dot(a field f of row
// aIndex[i], b field g of row i), summed in column order.
extern "C" __global__ void field_dots(const float* a, int aStride, int aCol, int fa, const int* aIndex,
                                      const float* b, int bStride, int bCol, int fb, int n, int dim,
                                      float* out) {
  i64 pairs = (i64)fa * fb;
  GRID_STRIDE(t, (i64)n * pairs) {
    i64 i = t / pairs;
    int p = (int)(t - i * pairs);
    int f = p / fb;
    int g = p - f * fb;
    const float* ar = a + (i64)aIndex[i] * aStride + aCol + (i64)f * dim;
    const float* br = b + i * bStride + bCol + (i64)g * dim;
    float s = 0.f;
    for (int j = 0; j < dim; j++) {
      s += ar[j] * br[j];
    }
    out[t] = s;
  }
}

// Threads [0, nGroups*fa*dim), one per (group of impressions sharing a row of a, field f, column
// j): gradA field f += g[i,f,e] * b field e of i, over the group's impressions in order and then e;
// threads after, one per (impression i, field e, column j): gradB field e of i += g[i,f,e] * a
// field f of row aIndex[i], over f in order. The CPU backend adds in the same orders.
extern "C" __global__ void field_dots_backward(
    const float* a, int aStride, int aCol, int fa, const int* aIndex,
    const float* b, int bStride, int bCol, int fb, int n, int dim, const float* g,
    int nGroups, const int* groups, float* gradA, float* gradB) {
  const int* key = groups;
  const int* start = groups + nGroups;
  const int* items = start + nGroups + 1;
  i64 pairs = (i64)fa * fb;
  i64 aTotal = (i64)nGroups * fa * dim;
  i64 bTotal = (i64)n * fb * dim;
  GRID_STRIDE(t, aTotal + bTotal) {
    if (t < aTotal) {
      i64 grp = t / ((i64)fa * dim);
      int r = (int)(t - grp * fa * dim);
      int f = r / dim;
      int j = r - f * dim;
      i64 o = (i64)key[grp] * aStride + aCol + (i64)f * dim + j;
      float acc = gradA[o];
      for (int e = start[grp]; e < start[grp + 1]; e++) {
        i64 i = items[e];
        const float* gi = g + i * pairs + (i64)f * fb;
        const float* bi = b + i * bStride + bCol + j;
        for (int q = 0; q < fb; q++) {
          acc += gi[q] * bi[(i64)q * dim];
        }
      }
      gradA[o] = acc;
    } else {
      i64 u = t - aTotal;
      i64 i = u / ((i64)fb * dim);
      int r = (int)(u - i * fb * dim);
      int q = r / dim;
      int j = r - q * dim;
      i64 o = i * bStride + bCol + (i64)q * dim + j;
      const float* ar = a + (i64)aIndex[i] * aStride + aCol + j;
      const float* gi = g + i * pairs + q;
      float acc = gradB[o];
      for (int f = 0; f < fa; f++) {
        acc += gi[(i64)f * fb] * ar[(i64)f * dim];
      }
      gradB[o] = acc;
    }
  }
}

extern "C" __global__ void gather_indexed(const float* src, int cols, const int* index, int n,
                                          float* dst, int dstStride, int dstCol) {
  i64 total = (i64)n * cols;
  GRID_STRIDE(t, total) {
    i64 i = t / cols;
    int j = (int)(t - i * cols);
    dst[i * dstStride + dstCol + j] = src[(i64)index[i] * cols + j];
  }
}

// One thread per (destination group g, column j): dst[key[g], j] += src[i, j] over the group's
// rows in order.
extern "C" __global__ void scatter_add_indexed(const float* src, int srcStride, int srcCol, int cols,
                                               int nGroups, const int* groups, float* dst) {
  const int* key = groups;
  const int* start = groups + nGroups;
  const int* items = start + nGroups + 1;
  i64 total = (i64)nGroups * cols;
  GRID_STRIDE(t, total) {
    int grp = (int)(t / cols);
    int j = (int)(t - (i64)grp * cols);
    i64 o = (i64)key[grp] * cols + j;
    float acc = dst[o];
    for (int e = start[grp]; e < start[grp + 1]; e++) {
      acc += src[(i64)items[e] * srcStride + srcCol + j];
    }
    dst[o] = acc;
  }
}
