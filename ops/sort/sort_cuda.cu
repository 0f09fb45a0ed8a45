// CUDA kernels of sort and topk: the sort dim is moved last (a copy), each row becomes a segment
// of CUB's stable segmented radix sort of (key, position) pairs, and topk keeps the first k of
// each sorted row. Keys are a canonicalised copy of the values (every NaN made +NaN so that it
// sorts as the largest, -0 made +0 so that it ties with +0 like the CPU comparison); the values
// returned are the input's, read back through the sorted positions. Radix sorting is stable in
// both directions, so equal elements keep their input order, as on the CPU. Temporary storage
// comes from the caching allocator.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <climits>
#include <cub/device/device_segmented_sort.cuh>

#include "framework/autograd/grad_mode.h"
#include "framework/dispatch/registry.h"
#include "ops/common/cuda_loops.cuh"

namespace osprey::ops {
namespace {

// The CUDA type CUB knows for each storage type (same bits).
template <typename T>
struct CubKey {
  using type = T;
};
template <>
struct CubKey<Half> {
  using type = __half;
};
template <>
struct CubKey<BFloat16> {
  using type = __nv_bfloat16;
};

template <typename T>
struct CanonicalKeyFn {
  OSPREY_INLINE T operator()(T x) const {
    using C = cuda_compute_t<T>;
    if constexpr (std::is_floating_point_v<C>) {
      C v = C(x);
      if (v != v) return T(C(NAN));
      if (v == C(0)) return T(C(0));
    }
    return x;
  }
};

__global__ void row_positions(int64_t* out, int64_t n, int64_t size) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += stride) {
    out[i] = i % size;
  }
}

__global__ void row_offsets(int* out, int64_t rows, int64_t size) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i <= rows;
       i += stride) {
    out[i] = static_cast<int>(i * size);
  }
}

// values[r, j] = rows[r, positions[r, j]] for the first k positions of each sorted row.
template <typename T>
__global__ void take_rows(T* values, int64_t* indices, const T* rows, const int64_t* positions,
                          int64_t n, int64_t size, int64_t k) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += stride) {
    int64_t r = i / k, j = i % k;
    int64_t p = positions[r * size + j];
    values[i] = rows[r * size + p];
    indices[i] = p;
  }
}

// Sorts the rows of `rows` ([count, size], contiguous) and returns the first k values and
// positions of each, as [count, k] tensors.
template <typename T>
std::pair<Tensor, Tensor> sort_rows(const Tensor& rows, int64_t count, int64_t size, int64_t k,
                                    bool descending) {
  using Key = typename CubKey<T>::type;
  const int64_t n = count * size;
  OSPREY_CHECK(n <= INT_MAX && count < INT_MAX, "sort/cuda: {} elements exceed CUB's int range", n);
  Device device = rows.device();
  cudaStream_t stream = cuda::current_stream();
  Tensor keys = Tensor::empty(rows.shape(), rows.dtype(), device);
  cuda_map<T, T>(keys, CanonicalKeyFn<T>{}, rows);
  Tensor sorted_keys = Tensor::empty(rows.shape(), rows.dtype(), device);
  Tensor positions = Tensor::empty(rows.shape(), DType::i64, device);
  Tensor sorted_positions = Tensor::empty(rows.shape(), DType::i64, device);
  Tensor offsets = Tensor::empty({count + 1}, DType::i32, device);
  row_positions<<<cuda_detail::blocks_for(n), cuda_detail::kThreads, 0, stream>>>(
      positions.data<int64_t>(), n, size);
  OSPREY_CUDA_LAUNCH_CHECK();
  row_offsets<<<cuda_detail::blocks_for(count + 1), cuda_detail::kThreads, 0, stream>>>(
      offsets.data<int32_t>(), count, size);
  OSPREY_CUDA_LAUNCH_CHECK();
  const Key* kin = static_cast<const Key*>(keys.raw_data());
  Key* kout = static_cast<Key*>(sorted_keys.raw_data());
  const int64_t* vin = positions.data<int64_t>();
  int64_t* vout = sorted_positions.data<int64_t>();
  const int* begin = offsets.data<int32_t>();
  auto run = [&](void* temp, size_t& bytes) {
    if (descending) {
      OSPREY_CUDA_CHECK(cub::DeviceSegmentedSort::StableSortPairsDescending(
          temp, bytes, kin, kout, vin, vout, static_cast<int>(n), static_cast<int>(count), begin,
          begin + 1, stream));
    } else {
      OSPREY_CUDA_CHECK(cub::DeviceSegmentedSort::StableSortPairs(
          temp, bytes, kin, kout, vin, vout, static_cast<int>(n), static_cast<int>(count), begin,
          begin + 1, stream));
    }
  };
  size_t bytes = 0;
  run(nullptr, bytes);
  Tensor temp =
      Tensor::empty({static_cast<int64_t>(std::max<size_t>(bytes, 1))}, DType::u8, device);
  run(temp.raw_data(), bytes);
  OSPREY_CUDA_LAUNCH_CHECK();
  Tensor values = Tensor::empty({count, k}, rows.dtype(), device);
  Tensor indices = Tensor::empty({count, k}, DType::i64, device);
  if (count * k > 0) {
    take_rows<T><<<cuda_detail::blocks_for(count * k), cuda_detail::kThreads, 0, stream>>>(
        values.data<T>(), indices.data<int64_t>(), rows.data<T>(), vout, count * k, size, k);
    OSPREY_CUDA_LAUNCH_CHECK();
  }
  return {values, indices};
}

// sort (k = size) and topk: rows along the dim, sorted, the first k written to the outputs.
void sort_kernel(KernelContext& ctx, bool is_topk) {
  check_cuda_operands(ctx);
  autograd::NoGradGuard no_grad;  // layout copies made here are not part of the graph
  const Tensor& input = ctx.input(0);
  const int64_t rank = input.dim();
  const int64_t dim = rank == 0 ? 0 : wrap_dim(ctx.attrs().get_int("dim"), rank);
  const int64_t size = rank == 0 ? 1 : input.size(dim);
  const int64_t k = is_topk ? ctx.attrs().get_int("k") : size;
  OSPREY_CHECK(k >= 0 && k <= size, "topk: k = {} is outside [0, {}]", k, size);
  const bool descending =
      is_topk ? ctx.attrs().get_bool("largest") : ctx.attrs().get_bool("descending");
  Shape shape = input.shape();
  if (rank > 0) shape[dim] = k;
  Tensor& values_out = ctx.output(0, shape, input.dtype());
  Tensor& indices_out = ctx.output(1, shape, DType::i64);
  if (shape_numel(shape) == 0) return;
  // The dim last: perm moves it, inverse puts it back.
  Shape perm, inverse(rank);
  for (int64_t d = 0; d < rank; ++d) {
    if (d != dim) perm.push_back(d);
  }
  if (rank > 0) perm.push_back(dim);
  for (int64_t d = 0; d < rank; ++d) inverse[perm[d]] = d;
  Tensor rows = (rank > 0 ? input.permute(perm) : input).contiguous();
  const int64_t count = input.numel() / size;
  cuda::DeviceGuard guard(input.device().index);
  std::pair<Tensor, Tensor> result;
  OSPREY_DISPATCH_ALL(input.dtype(), ctx.op().schema.name.c_str(), [&]<typename T>() {
    if constexpr (std::is_same_v<T, bool>) {
      throw_unsupported_dtype(input.dtype(), ctx.op().schema.name.c_str());
    } else {
      result = sort_rows<T>(rows.reshape({count, size}), count, size, k, descending);
    }
  });
  Shape permuted_shape;
  for (int64_t d : perm) permuted_shape.push_back(shape[d]);
  auto restore = [&](const Tensor& t) {
    Tensor view = t.reshape(permuted_shape);
    return rank > 0 ? view.permute(inverse) : view;
  };
  dispatch::call_out("copy", values_out, {restore(result.first)});
  dispatch::call_out("copy", indices_out, {restore(result.second)});
}

bool supported(const KernelContext& ctx) {
  return ctx.input(0).dtype() != DType::boolean;
}

const bool registered = [] {
  const char* doc = "dim moved last, CUB stable segmented radix sort of (key, position) pairs";
  register_kernel(
      "sort", DeviceType::cuda, "cub", 0, [](KernelContext& ctx) { sort_kernel(ctx, false); },
      supported, doc);
  register_kernel(
      "topk", DeviceType::cuda, "cub", 0, [](KernelContext& ctx) { sort_kernel(ctx, true); },
      supported, doc);
  return true;
}();

}  // namespace
}  // namespace osprey::ops
