// Index helpers for CUDA kernels over 4-d (N, C, H, W) tensors (the pools, interpolate): the
// grid-stride loop of one thread per element, the (n, c, h, w) of a flat index into a contiguous
// NCHW range, strides passed by value for reading any layout, and the launch of such a kernel.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>
#include <utility>

#include "framework/core/tensor.h"
#include "ops/common/cuda_loops.cuh"

namespace osprey::ops {

// Strides of a 4-d tensor, for reading it in any layout on the device.
struct Strides4 {
  int64_t s[4];
  explicit Strides4(const Tensor& t) {
    for (int d = 0; d < 4; ++d) s[d] = t.stride(d);
  }
  __device__ int64_t at(int64_t n, int64_t c, int64_t h, int64_t w) const {
    return n * s[0] + c * s[1] + h * s[2] + w * s[3];
  }
};

struct Index4 {
  int64_t n, c, h, w;
};

// Element `flat` of a contiguous (N, channels, height, width) range.
__device__ inline Index4 nchw_index(int64_t flat, int64_t channels, int64_t height, int64_t width) {
  return {flat / (width * height * channels), (flat / (width * height)) % channels,
          (flat / width) % height, flat % width};
}

// The grid-stride loop: for (int64_t e = grid_first(); e < total; e += grid_step()).
__device__ inline int64_t grid_first() {
  return static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
}
__device__ inline int64_t grid_step() {
  return static_cast<int64_t>(gridDim.x) * blockDim.x;
}

// Launches kernel(total, args...) on `stream` with enough threads for one per element (kernels
// loop grid-stride) and checks the launch.
template <typename... P, typename... A>
void launch_per_element(void (*kernel)(int64_t, P...), int64_t total, cudaStream_t stream,
                        A&&... args) {
  kernel<<<cuda_detail::blocks_for(total), cuda_detail::kThreads, 0, stream>>>(
      total, std::forward<A>(args)...);
  OSPREY_CUDA_LAUNCH_CHECK();
}

}  // namespace osprey::ops
