// CUDA kernels of max, min, argmax and argmin along one dim. The input is made contiguous and read
// as [outer, size, inner]:
//   - inner == 1: one block per row, (value, index) pairs combined with warp shuffles;
//   - otherwise: one thread per (outer, inner) column scanning the dim (coalesced across inner).
// The first index wins among ties and the first NaN wins over numbers, as on the CPU; f16/bf16
// compare in float.
#include "framework/autograd/grad_mode.h"
#include "framework/dispatch/registry.h"
#include "ops/common/cuda_loops.cuh"

namespace osprey::ops {
namespace {

template <typename C>
struct Best {
  C value;
  int64_t index;
};

// Whether v replaces best: strictly better, or the first NaN.
template <bool Largest, typename C>
OSPREY_INLINE bool better(C v, C best) {
  if constexpr (std::is_floating_point_v<C>) {
    if (v != v) return best == best;
  }
  return Largest ? v > best : v < best;
}

// The winner of two candidates, independent of the order they are combined in.
template <bool Largest, typename C>
OSPREY_INLINE Best<C> pick(Best<C> a, Best<C> b) {
  if (b.index < 0) return a;
  if (a.index < 0) return b;
  if (better<Largest>(b.value, a.value)) return b;
  if (better<Largest>(a.value, b.value)) return a;
  return b.index < a.index ? b : a;
}

// Warp shuffles move 32-bit words at least: narrow types travel as int.
template <typename C>
__device__ C shuffle_down(C v, int offset) {
  if constexpr (sizeof(C) < 4) {
    return static_cast<C>(__shfl_down_sync(0xffffffffu, static_cast<int>(v), offset));
  } else {
    return __shfl_down_sync(0xffffffffu, v, offset);
  }
}

template <bool Largest, typename C>
__device__ Best<C> block_pick(Best<C> best) {
  __shared__ C values[32];
  __shared__ int64_t indices[32];
  for (int offset = 16; offset > 0; offset /= 2) {
    Best<C> other{shuffle_down(best.value, offset), shuffle_down(best.index, offset)};
    best = pick<Largest>(best, other);
  }
  int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  if (lane == 0) {
    values[warp] = best.value;
    indices[warp] = best.index;
  }
  __syncthreads();
  int warps = (blockDim.x + 31) / 32;
  best =
      threadIdx.x < warps ? Best<C>{values[threadIdx.x], indices[threadIdx.x]} : Best<C>{C(0), -1};
  if (warp == 0) {
    for (int offset = 16; offset > 0; offset /= 2) {
      Best<C> other{shuffle_down(best.value, offset), shuffle_down(best.index, offset)};
      best = pick<Largest>(best, other);
    }
  }
  __syncthreads();
  return best;  // valid in thread 0
}

template <typename T, bool Largest>
__global__ void extremum_rows(int64_t rows, int64_t size, const T* in, T* values,
                              int64_t* indices) {
  using C = cuda_compute_t<T>;
  for (int64_t row = blockIdx.x; row < rows; row += gridDim.x) {
    const T* r = in + row * size;
    Best<C> best{C(0), -1};
    for (int64_t j = threadIdx.x; j < size; j += blockDim.x) {
      best = pick<Largest>(best, Best<C>{C(r[j]), j});
    }
    best = block_pick<Largest>(best);
    if (threadIdx.x == 0) {
      if (values) values[row] = r[best.index];
      indices[row] = best.index;
    }
  }
}

template <typename T, bool Largest>
__global__ void extremum_columns(int64_t outer, int64_t size, int64_t inner, const T* in, T* values,
                                 int64_t* indices) {
  using C = cuda_compute_t<T>;
  const int64_t columns = outer * inner;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t c = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; c < columns;
       c += stride) {
    const T* col = in + (c / inner) * size * inner + c % inner;
    int64_t best = 0;
    C best_value = C(col[0]);
    for (int64_t j = 1; j < size; ++j) {
      C v = C(col[j * inner]);
      if (better<Largest>(v, best_value)) {
        best_value = v;
        best = j;
      }
    }
    if (values) values[c] = col[best * inner];
    indices[c] = best;
  }
}

template <bool Largest>
void extremum_kernel(KernelContext& ctx) {
  check_cuda_operands(ctx);
  autograd::NoGradGuard no_grad;  // layout copies made here are not part of the graph
  const bool with_values = ctx.op().schema.outputs.size() == 2;
  Tensor input = ctx.input(0).contiguous();
  const int64_t dim = input.dim() == 0 ? 0 : wrap_dim(ctx.attrs().get_int("dim"), input.dim());
  const bool keepdim = ctx.attrs().get_bool("keepdim");
  Shape shape;
  int64_t outer = 1, inner = 1, size = input.dim() == 0 ? 1 : input.size(dim);
  for (int64_t d = 0; d < input.dim(); ++d) {
    if (d == dim) {
      if (keepdim) shape.push_back(1);
      continue;
    }
    shape.push_back(input.size(d));
    (d < dim ? outer : inner) *= input.size(d);
  }
  OSPREY_CHECK(size > 0 || outer * inner == 0, "{}: cannot reduce an empty dim {} of {}",
               ctx.op().schema.name, dim, input.describe());
  const Tensor& given_values = with_values ? ctx.output(0, shape, input.dtype()) : Tensor();
  const Tensor& given_indices = ctx.output(with_values ? 1 : 0, shape, DType::i64);
  auto writable = [&](const Tensor& t) {
    return !t.defined() || t.is_contiguous() ? t : Tensor::empty(shape, t.dtype(), t.device());
  };
  Tensor values = writable(given_values), indices = writable(given_indices);
  if (outer * inner > 0) {
    cuda::DeviceGuard guard(input.device().index);
    cudaStream_t stream = cuda::current_stream();
    OSPREY_DISPATCH_ALL(input.dtype(), ctx.op().schema.name.c_str(), [&]<typename T>() {
      const T* in = static_cast<const T*>(input.raw_data());
      T* vp = with_values ? static_cast<T*>(values.raw_data()) : nullptr;
      int64_t* ip = static_cast<int64_t*>(indices.raw_data());
      if (inner == 1) {
        unsigned blocks = static_cast<unsigned>(std::min<int64_t>(outer, 1 << 20));
        extremum_rows<T, Largest>
            <<<blocks, cuda_detail::kThreads, 0, stream>>>(outer, size, in, vp, ip);
      } else {
        extremum_columns<T, Largest>
            <<<cuda_detail::blocks_for(outer * inner), cuda_detail::kThreads, 0, stream>>>(
                outer, size, inner, in, vp, ip);
      }
      OSPREY_CUDA_LAUNCH_CHECK();
    });
  }
  if (with_values && !values.is_same(given_values)) {
    dispatch::call_out("copy", given_values, {values});
  }
  if (!indices.is_same(given_indices)) dispatch::call_out("copy", given_indices, {indices});
}

const bool registered = [] {
  const char* doc = "block per row with warp-shuffled (value, index) pairs, else thread per column";
  register_kernel("max", DeviceType::cuda, "native", 0, extremum_kernel<true>, {}, doc);
  register_kernel("min", DeviceType::cuda, "native", 0, extremum_kernel<false>, {}, doc);
  register_kernel("argmax", DeviceType::cuda, "native", 0, extremum_kernel<true>, {}, doc);
  register_kernel("argmin", DeviceType::cuda, "native", 0, extremum_kernel<false>, {}, doc);
  return true;
}();

}  // namespace
}  // namespace osprey::ops
