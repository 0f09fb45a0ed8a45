// A launcher for the per-box CUDA kernels of the box ops (box_area, clip_boxes_to_image, the box
// coder, remove_small_boxes and anchors_inside flags): inputs made contiguous, one thread per
// item (grid-stride), the result written to a contiguous buffer and copied into a strided
// output. `f(i, out, in...)` computes item i from contiguous arrays.
#pragma once

#include "ops/common/cuda_loops.cuh"

namespace osprey::ops {

template <typename F, typename R, typename... A>
__global__ void per_item_kernel(int64_t count, F f, R* out, const A*... in) {
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < count;
       i += step) {
    f(i, out, in...);
  }
}

// One Tensor per element type of the inputs (the types are given explicitly).
template <typename>
using TensorOf = Tensor;

// Runs f over `count` items writing a contiguous `result` from contiguous inputs.
template <typename F, typename R, typename... A>
void launch_per_item(int64_t count, const F& f, const Tensor& result, const TensorOf<A>&... in) {
  if (count == 0) return;
  cuda::DeviceGuard guard(result.device().index);
  per_item_kernel<F, R, A...>
      <<<cuda_detail::blocks_for(count), cuda_detail::kThreads, 0, cuda::current_stream()>>>(
          count, f, static_cast<R*>(result.raw_data()), static_cast<const A*>(in.raw_data())...);
  OSPREY_CUDA_LAUNCH_CHECK();
}

// `out` when it is contiguous, else a contiguous buffer like it (copy it in with finish_output).
inline Tensor contiguous_target(const Tensor& out) {
  return out.is_contiguous() ? out : Tensor::empty(out.shape(), out.dtype(), out.device());
}
inline void finish_output(Tensor& out, const Tensor& result) {
  if (!result.is_same(out)) out.copy_(result);
}

}  // namespace osprey::ops
