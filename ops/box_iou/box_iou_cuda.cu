// CUDA kernel of box_iou and box_iof: one thread per (i, j) pair (grid-stride), box::iou /
// box::iof as on the CPU; inputs made contiguous first (a device copy when they are not).
#include "ops/common/box_checks.h"
#include "ops/common/box_geometry.h"
#include "ops/common/cuda_loops.cuh"

namespace osprey::ops {
namespace {

template <bool Iof, typename T>
__global__ void pairwise_cuda(int64_t n, int64_t m, const T* a, const T* b, T offset, T* out) {
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t k = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; k < n * m;
       k += step) {
    const T* box_a = a + 4 * (k / m);
    const T* box_b = b + 4 * (k % m);
    out[k] = Iof ? box::iof(box_a, box_b, offset) : box::iou(box_a, box_b, offset);
  }
}

template <bool Iof>
void pairwise_kernel(KernelContext& ctx) {
  check_cuda_operands(ctx);
  const Tensor a = ctx.input(0).contiguous();
  const Tensor b = ctx.input(1).contiguous();
  const int64_t n = a.size(0), m = b.size(0);
  Tensor& out = ctx.output(0, {n, m}, a.dtype());
  if (n * m == 0) return;
  Tensor result = out.is_contiguous() ? out : Tensor::empty({n, m}, a.dtype(), a.device());
  cuda::DeviceGuard guard(a.device().index);
  cudaStream_t stream = cuda::current_stream();
  OSPREY_DISPATCH_FLOAT(a.dtype(), ctx.op().schema.name.c_str(), [&]<typename T>() {
    pairwise_cuda<Iof, T><<<cuda_detail::blocks_for(n * m), cuda_detail::kThreads, 0, stream>>>(
        n, m, a.data<T>(), b.data<T>(), static_cast<T>(box_offset(ctx.attrs())), result.data<T>());
    OSPREY_CUDA_LAUNCH_CHECK();
  });
  if (!result.is_same(out)) out.copy_(result);
}

const bool registered = [] {
  register_kernel("box_iou", DeviceType::cuda, "native", 0, pairwise_kernel<false>,
                  inputs_are_float, "thread per pair; f32/f64");
  register_kernel("box_iof", DeviceType::cuda, "native", 0, pairwise_kernel<true>, inputs_are_float,
                  "thread per pair; f32/f64");
  return true;
}();

}  // namespace
}  // namespace osprey::ops
