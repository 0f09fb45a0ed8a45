// Sum reductions for CUDA kernels. `cuda_sum_into(out, input, scale)` writes
// out = scale * (sum of input over every dim where out has size 1 and input does not); `out` has
// input's rank (a keepdim view of the real output, any strides). Accumulation is in double for
// f64, float for f32/f16/bf16 and int64 for integers.
//   - few elements per output (<= 64), or many outputs along the input's contiguous last dim: one
//     thread per output, a serial loop (coalesced across threads in the second case);
//   - otherwise: one block per output, threads stride over the reduced elements and combine with
//     warp shuffles — reductions to a scalar or over long rows fill the device this way.
#pragma once

#include <cuda_runtime.h>

#include "framework/core/offset_calculator.h"
#include "framework/core/tensor.h"
#include "framework/cuda/check.h"
#include "framework/cuda/context.h"
#include "ops/common/cuda_loops.cuh"

namespace osprey::ops {

template <typename T>
using cuda_acc_t = std::conditional_t<std::is_same_v<T, double>, double,
                                      std::conditional_t<std::is_integral_v<T>, int64_t, float>>;

namespace cuda_detail {

template <typename T, typename Acc>
__global__ void sum_thread_per_output(int64_t outputs, int64_t reduced,
                                      OffsetCalculator<2> out_calc, OffsetCalculator<1> red_calc,
                                      const T* in, T* out, Acc scale) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t o = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; o < outputs;
       o += stride) {
    int64_t base[2];
    out_calc.offsets(o, base);
    Acc acc = Acc(0);
    for (int64_t r = 0; r < reduced; ++r) {
      int64_t off[1];
      red_calc.offsets(r, off);
      acc += static_cast<Acc>(static_cast<compute_t<T>>(in[base[0] + off[0]]));
    }
    out[base[1]] = static_cast<T>(static_cast<compute_t<T>>(acc * scale));
  }
}

template <typename Acc>
__device__ Acc block_sum(Acc value) {
  __shared__ Acc warp_sums[32];
  for (int offset = 16; offset > 0; offset /= 2)
    value += __shfl_down_sync(0xffffffffu, value, offset);
  int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  if (lane == 0) warp_sums[warp] = value;
  __syncthreads();
  int warps = (blockDim.x + 31) / 32;
  value = threadIdx.x < warps ? warp_sums[threadIdx.x] : Acc(0);
  if (warp == 0) {
    for (int offset = 16; offset > 0; offset /= 2) {
      value += __shfl_down_sync(0xffffffffu, value, offset);
    }
  }
  __syncthreads();  // warp_sums is reused by the next output of this block
  return value;
}

template <typename T, typename Acc>
__global__ void sum_block_per_output(int64_t outputs, int64_t reduced, OffsetCalculator<2> out_calc,
                                     OffsetCalculator<1> red_calc, const T* in, T* out, Acc scale) {
  for (int64_t o = blockIdx.x; o < outputs; o += gridDim.x) {
    int64_t base[2];
    out_calc.offsets(o, base);
    Acc acc = Acc(0);
    for (int64_t r = threadIdx.x; r < reduced; r += blockDim.x) {
      int64_t off[1];
      red_calc.offsets(r, off);
      acc += static_cast<Acc>(static_cast<compute_t<T>>(in[base[0] + off[0]]));
    }
    acc = block_sum(acc);
    if (threadIdx.x == 0) out[base[1]] = static_cast<T>(static_cast<compute_t<T>>(acc * scale));
  }
}

}  // namespace cuda_detail

template <typename T>
void cuda_sum_into(const Tensor& out, const Tensor& input, double scale = 1.0) {
  using namespace cuda_detail;
  using Acc = cuda_acc_t<T>;
  OSPREY_INTERNAL_ASSERT(out.dim() == input.dim());
  OSPREY_CHECK_KIND(shape, input.dim() <= kMaxDims, "tensors of rank {} > {}", input.dim(),
                    kMaxDims);
  OffsetCalculator<2> out_calc;
  OffsetCalculator<1> red_calc;
  int64_t outputs = 1, reduced = 1;
  for (int64_t d = 0; d < input.dim(); ++d) {
    int64_t size = input.size(d);
    if (out.size(d) == size) {
      if (size == 1) continue;
      int k = out_calc.ndim++;
      out_calc.sizes[k] = size;
      out_calc.strides[0][k] = input.stride(d);
      out_calc.strides[1][k] = out.stride(d);
      outputs *= size;
    } else {
      OSPREY_INTERNAL_ASSERT(out.size(d) == 1);
      int k = red_calc.ndim++;
      red_calc.sizes[k] = size;
      red_calc.strides[0][k] = input.stride(d);
      reduced *= size;
    }
  }
  if (outputs == 0) return;
  cuda::DeviceGuard guard(out.device().index);
  cudaStream_t stream = cuda::current_stream();
  const T* in_ptr = static_cast<const T*>(input.raw_data());
  T* out_ptr = static_cast<T*>(out.raw_data());
  Acc acc_scale = static_cast<Acc>(scale);
  // Neighbouring outputs that are neighbouring input elements (the last dim kept, as in a bias
  // gradient) make the serial loops of neighbouring threads read coalesced memory; with enough
  // of them to fill the device that beats a block per output reading with a stride.
  const bool inner_kept = input.dim() > 0 && input.size(-1) > 1 && input.stride(-1) == 1 &&
                          out.size(-1) == input.size(-1);
  if (reduced <= 64 || (inner_kept && outputs >= 8192)) {
    sum_thread_per_output<T, Acc><<<blocks_for(outputs), kThreads, 0, stream>>>(
        outputs, reduced, out_calc, red_calc, in_ptr, out_ptr, acc_scale);
  } else {
    unsigned blocks = static_cast<unsigned>(std::min<int64_t>(outputs, 1 << 20));
    sum_block_per_output<T, Acc><<<blocks, kThreads, 0, stream>>>(
        outputs, reduced, out_calc, red_calc, in_ptr, out_ptr, acc_scale);
  }
  OSPREY_CUDA_LAUNCH_CHECK();
}

}  // namespace osprey::ops
