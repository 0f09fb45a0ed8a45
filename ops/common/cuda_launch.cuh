// The launch shape most element-wise CUDA kernels of the ops use: one thread per element, in a
// grid-stride loop (so any grid size covers the range), launched on a given stream with the
// library's block size and checked.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>
#include <utility>

#include "ops/common/cuda_loops.cuh"

namespace osprey::ops {

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
