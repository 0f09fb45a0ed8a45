// CUDA kernels of max, min, argmax and argmin along one dim, for every numeric dtype (f16/bf16
// compared in float), reading the input through its strides (no copy):
//   - short dims (<= 64 elements), or a strided dim with enough outputs to fill the device (the
//     column case: neighbouring threads then read neighbouring addresses): one thread per output
//     scans its elements in order, exactly as the CPU reference does;
//   - longer dims: one block per output; threads scan strided slices and combine (value, index)
//     pairs in shared memory. The combine keeps the smaller index among equal values and lets a
//     NaN beat any number (the smaller index among NaNs), so the result is the CPU's: the first
//     NaN if there is one, else the first position of the extreme value.
#include "ops/common/cuda_loops.cuh"
#include "ops/reduce/reduce_util.h"

namespace osprey::ops {
namespace {

constexpr int kBlock = 256;
constexpr int64_t kManyOutputs = 8192;  // enough threads to fill the device with one per output

template <typename C>
OSPREY_INLINE bool is_nan(C v) {
  if constexpr (std::is_floating_point_v<C>) {
    return v != v;
  } else {
    return false;
  }
}

// Whether (v, i) should replace (best, at) as the running extreme: a NaN beats any number, equal
// values (NaNs included) go to the smaller index.
template <bool Largest, typename C>
OSPREY_INLINE bool takes_over(C v, int64_t i, C best, int64_t at) {
  const bool v_nan = is_nan(v), best_nan = is_nan(best);
  if (v_nan || best_nan) return v_nan && (!best_nan || i < at);
  if (v == best) return i < at;
  return Largest ? v > best : v < best;
}

// Kept dims of the input: offsets into input, values (unused for arg ops) and indices.
struct Geometry {
  OffsetCalculator<3> outer;
  int64_t outputs = 1;
  int64_t n = 1;       // elements along the reduced dim
  int64_t stride = 0;  // the input's stride along it
};

template <bool Largest, typename T>
__global__ void extremum_thread_per_output(Geometry g, const T* in, T* values, int64_t* indices) {
  using C = compute_t<T>;  // float for the 16-bit floats
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t o = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; o < g.outputs;
       o += step) {
    int64_t off[3];
    g.outer.offsets(o, off);
    const T* row = in + off[0];
    C best = static_cast<C>(row[0]);
    int64_t at = 0;
    for (int64_t i = 1; i < g.n; ++i) {
      C v = static_cast<C>(row[i * g.stride]);
      if (takes_over<Largest>(v, i, best, at)) {
        best = v;
        at = i;
      }
    }
    if (values) values[off[1]] = row[at * g.stride];
    indices[off[2]] = at;
  }
}

template <bool Largest, typename T>
__global__ void extremum_block_per_output(Geometry g, const T* in, T* values, int64_t* indices) {
  using C = compute_t<T>;  // float for the 16-bit floats
  __shared__ C best_value[kBlock];
  __shared__ int64_t best_index[kBlock];
  for (int64_t o = blockIdx.x; o < g.outputs; o += gridDim.x) {
    int64_t off[3];
    g.outer.offsets(o, off);
    const T* row = in + off[0];
    // Every thread starts from element 0 (n >= 1), which any better element replaces.
    C best = static_cast<C>(row[0]);
    int64_t at = 0;
    for (int64_t i = threadIdx.x; i < g.n; i += blockDim.x) {
      C v = static_cast<C>(row[i * g.stride]);
      if (takes_over<Largest>(v, i, best, at)) {
        best = v;
        at = i;
      }
    }
    best_value[threadIdx.x] = best;
    best_index[threadIdx.x] = at;
    __syncthreads();
    for (int half = kBlock / 2; half > 0; half /= 2) {
      if (threadIdx.x < half) {
        C v = best_value[threadIdx.x + half];
        int64_t i = best_index[threadIdx.x + half];
        if (takes_over<Largest>(v, i, best_value[threadIdx.x], best_index[threadIdx.x])) {
          best_value[threadIdx.x] = v;
          best_index[threadIdx.x] = i;
        }
      }
      __syncthreads();
    }
    if (threadIdx.x == 0) {
      const int64_t winner = best_index[0];
      if (values) values[off[1]] = row[winner * g.stride];
      indices[off[2]] = winner;
    }
    __syncthreads();  // the shared arrays are reused by this block's next output
  }
}

// Strides of `out` (the reduced shape) at the input's rank: the reduced dim gets stride 0.
Shape strides_at_input_rank(const Tensor& out, int64_t ndim, int64_t dim, bool keepdim) {
  Shape strides;
  for (int64_t d = 0, o = 0; d < ndim; ++d) {
    if (d == dim) {
      strides.push_back(0);
      if (keepdim) ++o;
    } else {
      strides.push_back(out.stride(o++));
    }
  }
  return strides;
}

template <bool Largest>
void extremum_kernel(KernelContext& ctx, bool with_values) {
  check_cuda_operands(ctx);
  const Tensor& input = ctx.input(0);
  const char* op = ctx.op().schema.name.c_str();
  const int64_t dim = single_dim(ctx.attrs().get_int("dim"), input.dim(), op);
  const bool keepdim = ctx.attrs().get_bool("keepdim");
  Shape shape = input.dim() == 0 ? Shape{} : reduced_shape(input.shape(), {dim}, keepdim);
  Tensor values = with_values ? ctx.output(0, shape, input.dtype()) : Tensor();
  const Tensor& indices = ctx.output(with_values ? 1 : 0, shape, DType::i64);
  OSPREY_CHECK_KIND(shape, input.dim() <= kMaxDims, "{}: rank {} > {}", op, input.dim(), kMaxDims);

  Geometry g;
  if (input.dim() > 0) {
    g.n = input.size(dim);
    g.stride = input.stride(dim);
    Shape value_strides = with_values ? strides_at_input_rank(values, input.dim(), dim, keepdim)
                                      : Shape(input.dim(), 0);
    Shape index_strides = strides_at_input_rank(indices, input.dim(), dim, keepdim);
    for (int64_t d = 0; d < input.dim(); ++d) {
      if (d == dim) continue;
      int k = g.outer.ndim++;
      g.outer.sizes[k] = input.size(d);
      g.outer.strides[0][k] = input.stride(d);
      g.outer.strides[1][k] = value_strides[d];
      g.outer.strides[2][k] = index_strides[d];
      g.outputs *= input.size(d);
    }
  }
  if (g.outputs == 0) return;
  OSPREY_CHECK_KIND(shape, g.n > 0, "{}: cannot reduce an empty dim", op);

  cuda::DeviceGuard guard(input.device().index);
  cudaStream_t stream = cuda::current_stream();
  OSPREY_DISPATCH_ALL(input.dtype(), op, [&]<typename T>() {
    if constexpr (std::is_same_v<T, bool>) {
      throw_unsupported_dtype(input.dtype(), op);
    } else {
      const T* in = static_cast<const T*>(input.raw_data());
      T* v = with_values ? static_cast<T*>(values.raw_data()) : nullptr;
      auto* idx = static_cast<int64_t*>(indices.raw_data());
      if (g.n <= 64 || (g.stride != 1 && g.outputs >= kManyOutputs)) {
        extremum_thread_per_output<Largest, T>
            <<<cuda_detail::blocks_for(g.outputs), cuda_detail::kThreads, 0, stream>>>(g, in, v,
                                                                                       idx);
      } else {
        unsigned blocks = static_cast<unsigned>(std::min<int64_t>(g.outputs, 1 << 20));
        extremum_block_per_output<Largest, T><<<blocks, kBlock, 0, stream>>>(g, in, v, idx);
      }
      OSPREY_CUDA_LAUNCH_CHECK();
    }
  });
}

const bool registered = [] {
  const char* doc =
      "strided, no copy: thread per output for short dims or many columns, else block per output";
  register_kernel(
      "max", DeviceType::cuda, "native", 0,
      [](KernelContext& c) { extremum_kernel<true>(c, true); }, {}, doc);
  register_kernel(
      "min", DeviceType::cuda, "native", 0,
      [](KernelContext& c) { extremum_kernel<false>(c, true); }, {}, doc);
  register_kernel(
      "argmax", DeviceType::cuda, "native", 0,
      [](KernelContext& c) { extremum_kernel<true>(c, false); }, {}, doc);
  register_kernel(
      "argmin", DeviceType::cuda, "native", 0,
      [](KernelContext& c) { extremum_kernel<false>(c, false); }, {}, doc);
  return true;
}();

}  // namespace
}  // namespace osprey::ops
