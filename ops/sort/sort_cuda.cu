// CUDA kernels of sort and topk, every dtype the CPU reference takes. Each element becomes an
// unsigned radix key that orders exactly like the CPU comparator:
//   floats (f16/bf16/f32/f64): NaN maps to the largest key (all ones), -0.0 to the key of +0.0
//     (the CPU compares them equal), others flip the sign bit (non-negative) or all bits
//     (negative), which orders the bit patterns like the values;
//   signed integers flip the sign bit; u8 and bool are their own keys;
//   descending order (and topk's largest) takes the complement, which reverses the order while
//     ties are still broken by position: NaN comes first, equal elements keep input order.
// Two variants, both ordering by (key, position), which is the CPU's total order:
//   bitonic (rows <= 1024, preferred there): one block per row sorts (key, position) pairs in
//     shared memory with a bitonic network; one launch, no scratch memory. Wins for the usual
//     short rows (topk over class scores, per-image sorts).
//   radix (any length): CUB's DeviceSegmentedRadixSort over (key, position) pairs, one segment
//     per row; radix sort is stable, so equal keys keep their input order. Needs scratch memory
//     and several launches; the total element count must fit CUB's int item count.
// The sort dim is read in place through strides (keys come from a permuted view) and the outputs
// are written through their strides. topk sorts whole rows and keeps the first k: exact and
// simple; a selection would be faster when k << n and is left out.
#include <cub/device/device_segmented_radix_sort.cuh>

#include <climits>

#include "ops/common/cuda_loops.cuh"
#include "ops/reduce/reduce_util.h"

namespace osprey::ops {
namespace {

template <size_t Bytes>
struct UnsignedOf;
template <>
struct UnsignedOf<1> {
  using type = uint8_t;
};
template <>
struct UnsignedOf<2> {
  using type = uint16_t;
};
template <>
struct UnsignedOf<4> {
  using type = uint32_t;
};
template <>
struct UnsignedOf<8> {
  using type = uint64_t;
};

template <typename T>
using key_t = typename UnsignedOf<sizeof(T)>::type;

constexpr int kBitonicMax = 1024;  // longest row the shared-memory sort takes

// The float key of a value's bit pattern with `sign` its sign bit and `inf` the bits of +inf.
template <typename K>
OSPREY_INLINE K float_key(K bits, K sign, K inf) {
  if ((bits & static_cast<K>(~sign)) > inf) return static_cast<K>(~K(0));  // NaN: largest
  if (bits == sign) bits = 0;                                              // -0.0 as +0.0
  return (bits & sign) ? static_cast<K>(~bits) : static_cast<K>(bits | sign);
}

template <typename T>
OSPREY_INLINE key_t<T> sort_key(T v) {
  using K = key_t<T>;
  if constexpr (std::is_same_v<T, Half>) {
    return float_key<K>(v.bits, K(0x8000), K(0x7c00));
  } else if constexpr (std::is_same_v<T, BFloat16>) {
    return float_key<K>(v.bits, K(0x8000), K(0x7f80));
  } else if constexpr (std::is_same_v<T, float>) {
    return float_key<K>(__float_as_uint(v), K(0x80000000u), K(0x7f800000u));
  } else if constexpr (std::is_same_v<T, double>) {
    return float_key<K>(static_cast<K>(__double_as_longlong(v)), K(0x8000000000000000ull),
                        K(0x7ff0000000000000ull));
  } else if constexpr (std::is_same_v<T, bool>) {
    return v ? K(1) : K(0);
  } else if constexpr (std::is_signed_v<T>) {
    return static_cast<K>(static_cast<K>(v) ^ (K(1) << (sizeof(K) * 8 - 1)));
  } else {
    return static_cast<K>(v);
  }
}

// keys[i] and positions[i] = i % n for the rows (offsets over [kept..., n]: the input).
template <typename T>
__global__ void make_keys(int64_t numel, int64_t n, OffsetCalculator<1> calc, const T* in,
                          bool descending, key_t<T>* keys, int64_t* positions) {
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < numel;
       i += step) {
    int64_t off[1];
    calc.offsets(i, off);
    key_t<T> key = sort_key(in[off[0]]);
    keys[i] = descending ? static_cast<key_t<T>>(~key) : key;
    positions[i] = i % n;
  }
}

__global__ void segment_offsets(int64_t count, int64_t n, int* offsets) {
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t r = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; r <= count;
       r += step) {
    offsets[r] = static_cast<int>(r * n);
  }
}

// The first k of each sorted row to the outputs. Offsets over [kept..., k]: (input with the sort
// dim's stride zeroed, values, indices).
template <typename T>
__global__ void write_outputs(int64_t numel, int64_t n, int64_t k, OffsetCalculator<3> calc,
                              const int64_t* sorted, const T* in, int64_t dim_stride, T* values,
                              int64_t* indices) {
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < numel;
       i += step) {
    int64_t off[3];
    calc.offsets(i, off);
    const int64_t position = sorted[(i / k) * n + i % k];
    values[off[1]] = in[off[0] + position * dim_stride];
    indices[off[2]] = position;
  }
}

// Per-row sort in shared memory: a bitonic network over (key, position) pairs, the row padded
// to a power of two with keys after every element (the largest key, and positions >= n). Ties are
// broken by position, so the network's result is the stable order. One block per row.
template <typename T>
__global__ void bitonic_rows(int64_t count, int64_t n, int64_t k, int padded,
                             OffsetCalculator<1> key_calc, OffsetCalculator<3> out_calc,
                             const T* in, bool descending, int64_t dim_stride, T* values,
                             int64_t* indices) {
  using K = key_t<T>;
  __shared__ K keys[kBitonicMax];
  __shared__ int positions[kBitonicMax];
  for (int64_t r = blockIdx.x; r < count; r += gridDim.x) {
    for (int j = threadIdx.x; j < padded; j += blockDim.x) {
      if (j < n) {
        int64_t off[1];
        key_calc.offsets(r * n + j, off);
        const K key = sort_key(in[off[0]]);
        keys[j] = descending ? static_cast<K>(~key) : key;
      } else {
        keys[j] = static_cast<K>(~K(0));
      }
      positions[j] = j;
    }
    __syncthreads();
    for (int size = 2; size <= padded; size *= 2) {
      for (int stride = size / 2; stride > 0; stride /= 2) {
        for (int t = threadIdx.x; t < padded / 2; t += blockDim.x) {
          const int i = 2 * stride * (t / stride) + t % stride, j = i + stride;
          const bool ascending = (i & size) == 0;
          const bool j_first =
              keys[j] < keys[i] || (keys[j] == keys[i] && positions[j] < positions[i]);
          if (j_first == ascending) {
            const K key = keys[i];
            keys[i] = keys[j];
            keys[j] = key;
            const int position = positions[i];
            positions[i] = positions[j];
            positions[j] = position;
          }
        }
        __syncthreads();
      }
    }
    for (int j = threadIdx.x; j < k; j += blockDim.x) {
      int64_t off[3];
      out_calc.offsets(r * k + j, off);
      const int64_t position = positions[j];
      values[off[1]] = in[off[0] + position * dim_stride];
      indices[off[2]] = position;
    }
    __syncthreads();  // the shared arrays are reused by this block's next row
  }
}

Tensor bytes(int64_t count, Device device) {
  return Tensor::empty({std::max<int64_t>(count, 1)}, DType::u8, device);
}

// The attributes of a sort or topk call, its outputs, and the walks over its rows: the input as
// [kept..., n] (keys) and the outputs as [kept..., k] (with the input's sort-dim stride zeroed).
struct SortSetup {
  int64_t n = 1, k = 1, count = 0, numel = 0, dim_stride = 0;
  bool descending = false;
  Tensor values, indices;
  OffsetCalculator<1> key_calc;
  OffsetCalculator<3> out_calc;
};

// n, the length of the sorted dim (1 for a 0-d input).
int64_t row_length(const KernelContext& ctx) {
  const Tensor& input = ctx.input(0);
  const int64_t dim = single_dim(ctx.attrs().get_int("dim"), input.dim(), "sort");
  return input.dim() == 0 ? 1 : input.size(dim);
}

SortSetup sort_setup(KernelContext& ctx) {
  check_cuda_operands(ctx);
  const Tensor& input = ctx.input(0);
  const char* op = ctx.op().schema.name.c_str();
  const bool topk = ctx.attrs().has("k");
  const int64_t dim = single_dim(ctx.attrs().get_int("dim"), input.dim(), op);
  SortSetup s;
  s.n = input.dim() == 0 ? 1 : input.size(dim);
  s.k = topk ? ctx.attrs().get_int("k") : s.n;
  s.descending = topk ? ctx.attrs().get_bool("largest") : ctx.attrs().get_bool("descending");
  Shape shape = input.shape();
  if (!shape.empty()) shape[dim] = s.k;
  s.values = ctx.output(0, shape, input.dtype());
  s.indices = ctx.output(1, shape, DType::i64);
  s.numel = input.numel();
  if (s.numel == 0 || s.k == 0) return s;  // count = 0: nothing to do
  OSPREY_CHECK_KIND(shape, input.dim() <= kMaxDims, "{}: rank {} > {}", op, input.dim(), kMaxDims);
  OSPREY_CHECK_KIND(shape, s.numel < INT_MAX, "{}: {} has too many elements for the CUDA sort", op,
                    input.describe());
  s.count = s.numel / s.n;
  const std::vector<int64_t> dims = input.dim() == 0 ? std::vector<int64_t>{} : std::vector{dim};
  const Shape perm = kept_then_reduced(input.dim(), dims);
  const Tensor rows = permuted_view(input, perm);
  const Tensor value_rows = permuted_view(s.values, perm);
  const Tensor index_rows = permuted_view(s.indices, perm);
  s.key_calc = make_offset_calculator<1>(rows, {&rows});
  s.out_calc.ndim = static_cast<int>(rows.dim());
  for (int64_t d = 0; d < rows.dim(); ++d) {
    s.out_calc.sizes[d] = value_rows.size(d);
    s.out_calc.strides[0][d] = d == rows.dim() - 1 ? 0 : rows.stride(d);
    s.out_calc.strides[1][d] = value_rows.stride(d);
    s.out_calc.strides[2][d] = index_rows.stride(d);
  }
  s.dim_stride = input.dim() == 0 ? 0 : input.stride(dim);
  return s;
}

void radix_kernel(KernelContext& ctx) {
  SortSetup s = sort_setup(ctx);
  if (s.count == 0) return;
  const Tensor& input = ctx.input(0);
  const Device device = input.device();
  cuda::DeviceGuard guard(device.index);
  cudaStream_t stream = cuda::current_stream();
  const int64_t numel = s.numel, count = s.count, n = s.n, k = s.k;
  OSPREY_DISPATCH_ALL(input.dtype(), ctx.op().schema.name.c_str(), [&]<typename T>() {
    using K = key_t<T>;
    Tensor keys_in = bytes(numel * static_cast<int64_t>(sizeof(K)), device);
    Tensor keys_out = bytes(numel * static_cast<int64_t>(sizeof(K)), device);
    Tensor positions_in = Tensor::empty({numel}, DType::i64, device);
    Tensor positions_out = Tensor::empty({numel}, DType::i64, device);
    Tensor offsets = Tensor::empty({count + 1}, DType::i32, device);
    auto* ki = static_cast<K*>(keys_in.raw_data());
    auto* ko = static_cast<K*>(keys_out.raw_data());
    auto* pi = static_cast<int64_t*>(positions_in.raw_data());
    auto* po = static_cast<int64_t*>(positions_out.raw_data());
    auto* seg = static_cast<int*>(offsets.raw_data());
    const T* in = static_cast<const T*>(input.raw_data());
    make_keys<T><<<cuda_detail::blocks_for(numel), cuda_detail::kThreads, 0, stream>>>(
        numel, n, s.key_calc, in, s.descending, ki, pi);
    OSPREY_CUDA_LAUNCH_CHECK();
    segment_offsets<<<cuda_detail::blocks_for(count + 1), cuda_detail::kThreads, 0, stream>>>(
        count, n, seg);
    OSPREY_CUDA_LAUNCH_CHECK();
    size_t scratch_bytes = 0;
    OSPREY_CUDA_CHECK(cub::DeviceSegmentedRadixSort::SortPairs(
        nullptr, scratch_bytes, ki, ko, pi, po, static_cast<int>(numel), static_cast<int>(count),
        seg, seg + 1, 0, static_cast<int>(sizeof(K) * 8), stream));
    Tensor scratch = bytes(static_cast<int64_t>(scratch_bytes), device);
    OSPREY_CUDA_CHECK(cub::DeviceSegmentedRadixSort::SortPairs(
        scratch.raw_data(), scratch_bytes, ki, ko, pi, po, static_cast<int>(numel),
        static_cast<int>(count), seg, seg + 1, 0, static_cast<int>(sizeof(K) * 8), stream));
    const int64_t kept = count * k;
    write_outputs<T><<<cuda_detail::blocks_for(kept), cuda_detail::kThreads, 0, stream>>>(
        kept, n, k, s.out_calc, po, in, s.dim_stride, static_cast<T*>(s.values.raw_data()),
        static_cast<int64_t*>(s.indices.raw_data()));
    OSPREY_CUDA_LAUNCH_CHECK();
  });
}

bool bitonic_supports(const KernelContext& ctx) {
  return row_length(ctx) <= kBitonicMax;
}

void bitonic_kernel(KernelContext& ctx) {
  SortSetup s = sort_setup(ctx);
  if (s.count == 0) return;
  const Tensor& input = ctx.input(0);
  int padded = 1;
  while (padded < s.n) padded *= 2;
  OSPREY_INTERNAL_ASSERT(padded <= kBitonicMax);
  const int threads = std::min(std::max(padded / 2, 32), 512);
  const auto blocks = static_cast<unsigned>(std::min<int64_t>(s.count, 1 << 20));
  cuda::DeviceGuard guard(input.device().index);
  cudaStream_t stream = cuda::current_stream();
  OSPREY_DISPATCH_ALL(input.dtype(), ctx.op().schema.name.c_str(), [&]<typename T>() {
    bitonic_rows<T><<<blocks, threads, 0, stream>>>(
        s.count, s.n, s.k, padded, s.key_calc, s.out_calc, static_cast<const T*>(input.raw_data()),
        s.descending, s.dim_stride, static_cast<T*>(s.values.raw_data()),
        static_cast<int64_t*>(s.indices.raw_data()));
    OSPREY_CUDA_LAUNCH_CHECK();
  });
}

const bool registered = [] {
  const char* radix = "order-preserving radix keys, CUB segmented radix sort (stable), any dtype";
  const char* bitonic = "rows <= 1024: block per row, bitonic network in shared memory";
  for (const char* op : {"sort", "topk"}) {
    register_kernel(op, DeviceType::cuda, "radix", 0, radix_kernel, {}, radix);
    register_kernel(op, DeviceType::cuda, "bitonic", 10, bitonic_kernel, bitonic_supports, bitonic);
  }
  return true;
}();

}  // namespace
}  // namespace osprey::ops
