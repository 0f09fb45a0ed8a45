// CUDA kernels of softmax, log_softmax and their backward ops. Operands are made contiguous and
// viewed as [outer, size, inner] around the softmax dim:
//   - inner == 1 (the softmax dim is the last, the common case): one block per row, threads
//     stride over the row and combine the max and the sums with warp shuffles;
//   - otherwise: one thread per (outer, inner) column looping over the dim, so neighbouring
//     threads read neighbouring addresses.
// Accumulation in float (double for f64); the row maximum is subtracted before exp.
#include <cmath>

#include "framework/autograd/grad_mode.h"
#include "framework/dispatch/registry.h"
#include "ops/common/cuda_reduce.cuh"

namespace osprey::ops {
namespace {

enum class Mode { softmax, log_softmax, softmax_backward, log_softmax_backward };

template <typename Acc, typename Op>
__device__ Acc block_reduce(Acc value, Op op, Acc identity) {
  __shared__ Acc partial[32];
  for (int offset = 16; offset > 0; offset /= 2) {
    value = op(value, __shfl_down_sync(0xffffffffu, value, offset));
  }
  int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  if (lane == 0) partial[warp] = value;
  __syncthreads();
  int warps = (blockDim.x + 31) / 32;
  value = threadIdx.x < warps ? partial[threadIdx.x] : identity;
  if (warp == 0) {
    for (int offset = 16; offset > 0; offset /= 2) {
      value = op(value, __shfl_down_sync(0xffffffffu, value, offset));
    }
    if (lane == 0) partial[0] = value;
  }
  __syncthreads();
  value = partial[0];  // every thread gets the result
  __syncthreads();     // partial is reused by the next reduction
  return value;
}

struct MaxOp {
  template <typename A>
  __device__ A operator()(A a, A b) const {
    return b > a ? b : a;
  }
};
struct SumOp {
  template <typename A>
  __device__ A operator()(A a, A b) const {
    return a + b;
  }
};

template <typename T, Mode M>
__global__ void softmax_rows(int64_t rows, int64_t size, const T* x, const T* g, T* out) {
  using Acc = cuda_acc_t<T>;
  for (int64_t row = blockIdx.x; row < rows; row += gridDim.x) {
    const T* xr = x + row * size;
    const T* gr = g ? g + row * size : nullptr;
    T* o = out + row * size;
    if constexpr (M == Mode::softmax || M == Mode::log_softmax) {
      Acc m = -INFINITY;
      for (int64_t j = threadIdx.x; j < size; j += blockDim.x) m = MaxOp{}(m, Acc(xr[j]));
      m = block_reduce(m, MaxOp{}, Acc(-INFINITY));
      Acc s = 0;
      for (int64_t j = threadIdx.x; j < size; j += blockDim.x) s += ::exp(Acc(xr[j]) - m);
      s = block_reduce(s, SumOp{}, Acc(0));
      if constexpr (M == Mode::softmax) {
        for (int64_t j = threadIdx.x; j < size; j += blockDim.x) {
          o[j] = static_cast<T>(::exp(Acc(xr[j]) - m) / s);
        }
      } else {
        Acc log_s = ::log(s);
        for (int64_t j = threadIdx.x; j < size; j += blockDim.x) {
          o[j] = static_cast<T>(Acc(xr[j]) - m - log_s);
        }
      }
    } else {
      Acc s = 0;
      for (int64_t j = threadIdx.x; j < size; j += blockDim.x) {
        s += M == Mode::softmax_backward ? Acc(gr[j]) * Acc(xr[j]) : Acc(gr[j]);
      }
      s = block_reduce(s, SumOp{}, Acc(0));
      for (int64_t j = threadIdx.x; j < size; j += blockDim.x) {
        Acc y = Acc(xr[j]), gj = Acc(gr[j]);
        o[j] = static_cast<T>(M == Mode::softmax_backward ? y * (gj - s) : gj - ::exp(y) * s);
      }
    }
  }
}

template <typename T, Mode M>
__global__ void softmax_columns(int64_t outer, int64_t size, int64_t inner, const T* x, const T* g,
                                T* out) {
  using Acc = cuda_acc_t<T>;
  const int64_t columns = outer * inner;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t c = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; c < columns;
       c += stride) {
    const int64_t base = (c / inner) * size * inner + c % inner;
    if constexpr (M == Mode::softmax || M == Mode::log_softmax) {
      Acc m = -INFINITY;
      for (int64_t j = 0; j < size; ++j) m = MaxOp{}(m, Acc(x[base + j * inner]));
      Acc s = 0;
      for (int64_t j = 0; j < size; ++j) s += ::exp(Acc(x[base + j * inner]) - m);
      Acc log_s = ::log(s);
      for (int64_t j = 0; j < size; ++j) {
        Acc v = Acc(x[base + j * inner]) - m;
        out[base + j * inner] = static_cast<T>(M == Mode::softmax ? ::exp(v) / s : v - log_s);
      }
    } else {
      Acc s = 0;
      for (int64_t j = 0; j < size; ++j) {
        Acc gj = Acc(g[base + j * inner]);
        s += M == Mode::softmax_backward ? gj * Acc(x[base + j * inner]) : gj;
      }
      for (int64_t j = 0; j < size; ++j) {
        Acc y = Acc(x[base + j * inner]), gj = Acc(g[base + j * inner]);
        out[base + j * inner] =
            static_cast<T>(M == Mode::softmax_backward ? y * (gj - s) : gj - ::exp(y) * s);
      }
    }
  }
}

// Forward modes read input 0; backward modes read (grad_output, output).
template <Mode M>
void softmax_kernel(KernelContext& ctx) {
  constexpr bool backward = M == Mode::softmax_backward || M == Mode::log_softmax_backward;
  check_cuda_operands(ctx);
  autograd::NoGradGuard no_grad;  // layout copies made here are not part of the graph
  const Tensor& first = ctx.input(0);
  Tensor x = (backward ? ctx.input(1) : first).contiguous();
  Tensor g = backward ? first.contiguous() : Tensor();
  const Tensor& given = ctx.output(0, x.shape(), x.dtype());
  Tensor out = given.is_contiguous() ? given : Tensor::empty(x.shape(), x.dtype(), x.device());
  int64_t dim = wrap_dim(ctx.attrs().get_int("dim"), x.dim());
  int64_t size = x.dim() == 0 ? 1 : x.size(dim), outer = 1, inner = 1;
  for (int64_t d = 0; d < x.dim(); ++d) {
    if (d < dim) outer *= x.size(d);
    if (d > dim) inner *= x.size(d);
  }
  if (x.numel() > 0) {
    cuda::DeviceGuard guard(x.device().index);
    cudaStream_t stream = cuda::current_stream();
    OSPREY_DISPATCH_FLOAT_AND_HALF(x.dtype(), ctx.op().schema.name.c_str(), [&]<typename T>() {
      const T* xp = static_cast<const T*>(x.raw_data());
      const T* gp = backward ? static_cast<const T*>(g.raw_data()) : nullptr;
      T* op = static_cast<T*>(out.raw_data());
      if (inner == 1) {
        unsigned blocks = static_cast<unsigned>(std::min<int64_t>(outer, 1 << 20));
        softmax_rows<T, M><<<blocks, cuda_detail::kThreads, 0, stream>>>(outer, size, xp, gp, op);
      } else {
        softmax_columns<T, M>
            <<<cuda_detail::blocks_for(outer * inner), cuda_detail::kThreads, 0, stream>>>(
                outer, size, inner, xp, gp, op);
      }
      OSPREY_CUDA_LAUNCH_CHECK();
    });
  }
  if (!out.is_same(given)) dispatch::call_out("copy", given, {out});
}

bool floating_inputs(const KernelContext& ctx) {
  return inputs_have_dtype(ctx, {DType::f32, DType::f64, DType::f16, DType::bf16});
}

const bool registered = [] {
  const char* doc = "block per row (last dim) with warp-shuffle reductions, else thread per column";
  register_kernel("softmax", DeviceType::cuda, "native", 0, softmax_kernel<Mode::softmax>,
                  floating_inputs, doc);
  register_kernel("log_softmax", DeviceType::cuda, "native", 0, softmax_kernel<Mode::log_softmax>,
                  floating_inputs, doc);
  register_kernel("softmax_backward", DeviceType::cuda, "native", 0,
                  softmax_kernel<Mode::softmax_backward>, floating_inputs, doc);
  register_kernel("log_softmax_backward", DeviceType::cuda, "native", 0,
                  softmax_kernel<Mode::log_softmax_backward>, floating_inputs, doc);
  return true;
}();

}  // namespace
}  // namespace osprey::ops
