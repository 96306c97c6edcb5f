// Shared helpers of the streamrec kernels. Every kernel is extern "C" (its PTX .entry name is the
// name the Java side launches) and takes buffers as (base pointer, element offset).
//
// Index arithmetic that can pass 2^31 (slot * rowWidth, grid-stride loops) is done in 64 bits.
// The build passes -fmad=false: a*b+c rounds twice, as it does in Java, so the element-wise
// kernels give the CPU backend's results bit for bit where they add in the same order.
#pragma once

typedef long long i64;

#define GRID_STRIDE(i, total) \
  for (i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x; i < (total); i += (i64)gridDim.x * blockDim.x)

__device__ __forceinline__ float warp_sum(float v) {
  for (int o = 16; o > 0; o >>= 1) {
    v += __shfl_down_sync(0xffffffffu, v, o);
  }
  return v;
}
