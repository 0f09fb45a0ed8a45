// CUDA kernels of index_select, gather, scatter_add and masked_select. Operands are read and
// written through their strides (no copies; an expanded index stays expanded). i64 or i32 index
// tensors are read in place.
//   index_select, gather: one thread per output element, any dtype.
//   scatter_add: the output is a copy of input, then one thread per index element adds its src
//     element with an atomic add (every numeric dtype, f16/bf16 too). Float sums therefore add in
//     arrival order, which may differ from the CPU's sequential order in the last bits.
// Index values are checked on the device, in the kernels that read them (cuda_check_index in
// ops/common/cuda_index.cuh): no host round trip, at the cost of a device-side trap for a bad
// value (see there).
//   masked_select: the output's length is the number of true mask elements, which the host must
//     know to allocate the output, so this kernel synchronises once: flags of the broadcast mask
//     are turned into output positions by an inclusive scan (CUB DeviceScan), the last position
//     (the count) is copied to the host, then one thread per element copies the selected ones.
#include <array>
#include <cub/device/device_scan.cuh>

#include "ops/common/cuda_index.cuh"
#include "ops/common/cuda_launch.cuh"
#include "ops/common/cuda_loops.cuh"
#include "ops/index/index.h"

namespace osprey::ops {
namespace {

template <typename T>
struct IdentityFn {
  OSPREY_INLINE T operator()(T v) const { return v; }
};

// Walks `shape` (row-major) with one stride list per operand. Operands may be larger than `shape`
// (gather's input, scatter_add's src): only their first positions are visited.
template <int N>
OffsetCalculator<N> walker(const Shape& shape, const std::array<Shape, N>& strides) {
  OSPREY_CHECK_KIND(shape, static_cast<int>(shape.size()) <= kMaxDims, "tensors of rank {} > {}",
                    shape.size(), kMaxDims);
  OffsetCalculator<N> calc;
  calc.ndim = static_cast<int>(shape.size());
  for (int d = 0; d < calc.ndim; ++d) {
    calc.sizes[d] = shape[d];
    for (int k = 0; k < N; ++k) calc.strides[k][d] = strides[k][d];
  }
  return calc;
}

// How gather reads (and scatter_add writes) `t` along `dim`: the dim's size and stride and the
// strides of the other dims. 0-d tensors have no dims to walk: one element at offset 0, stride 0.
struct AlongDim {
  int64_t size, stride;
  Shape rest;
};

AlongDim along_dim(const Tensor& t, int64_t dim) {
  if (t.dim() == 0) return {1, 0, t.strides()};
  return {t.size(dim), t.stride(dim), without_dim(t.strides(), dim)};
}

// Index element `at`, checked against the indexed dim's size.
template <typename I>
__device__ int64_t index_at(const char* op, const I* index, int64_t at, int64_t dim_size) {
  const int64_t v = static_cast<int64_t>(index[at]);
  cuda_check_index(op, "index", v, dim_size);
  return v;
}

// ---- index_select

template <typename T, typename I>
__global__ void index_select_elements(int64_t numel, OffsetCalculator<2> calc, int64_t inner,
                                      int64_t n, const I* index, int64_t index_stride,
                                      int64_t dim_size, int64_t dim_stride, const T* in, T* out) {
  for (int64_t i = grid_first(); i < numel; i += grid_step()) {
    int64_t off[2];
    calc.offsets(i, off);
    const int64_t j = (i / inner) % n;
    const int64_t v = index_at("index_select", index, j * index_stride, dim_size);
    out[off[1]] = in[off[0] + v * dim_stride];
  }
}

void index_select_kernel(KernelContext& ctx) {
  check_cuda_operands(ctx);
  const Tensor& input = ctx.input(0);
  const Tensor& index = ctx.input(1);
  const int64_t dim = wrap_dim(ctx.attrs().get_int("dim"), input.dim());
  const int64_t n = index.numel();
  Shape shape = index_select_shape(input.shape(), dim, n);
  const Tensor& out = ctx.output(0, shape, input.dtype());
  if (out.numel() == 0) return;
  int64_t inner = 1;
  for (int64_t d = dim + 1; d < input.dim(); ++d) inner *= shape[d];
  auto calc = walker<2>(shape, {without_dim(input.strides(), dim), out.strides()});
  const int64_t index_stride = index.dim() == 0 ? 0 : index.stride(0);
  cuda::DeviceGuard guard(input.device().index);
  cudaStream_t stream = cuda::current_stream();
  OSPREY_DISPATCH_ALL(input.dtype(), "index_select", [&]<typename T>() {
    with_index_type(index, [&]<typename I>() {
      launch_per_element(index_select_elements<T, I>, out.numel(), stream, calc, inner, n,
                         static_cast<const I*>(index.raw_data()), index_stride, input.size(dim),
                         input.stride(dim), static_cast<const T*>(input.raw_data()),
                         static_cast<T*>(out.raw_data()));
    });
  });
}

// ---- gather

// Offsets over index's shape: (index, input without dim, out).
template <typename T, typename I>
__global__ void gather_elements(int64_t numel, OffsetCalculator<3> calc, const I* index,
                                int64_t dim_size, int64_t dim_stride, const T* in, T* out) {
  for (int64_t i = grid_first(); i < numel; i += grid_step()) {
    int64_t off[3];
    calc.offsets(i, off);
    const int64_t v = index_at("gather", index, off[0], dim_size);
    out[off[2]] = in[off[1] + v * dim_stride];
  }
}

void gather_kernel(KernelContext& ctx) {
  check_cuda_operands(ctx);
  const Tensor& input = ctx.input(0);
  const Tensor& index = ctx.input(1);
  const int64_t dim = wrap_dim(ctx.attrs().get_int("dim"), input.dim());
  const Tensor& out = ctx.output(0, index.shape(), input.dtype());
  if (out.numel() == 0) return;
  const AlongDim in = along_dim(input, dim);
  auto calc = walker<3>(index.shape(), {index.strides(), in.rest, out.strides()});
  cuda::DeviceGuard guard(input.device().index);
  cudaStream_t stream = cuda::current_stream();
  OSPREY_DISPATCH_ALL(input.dtype(), "gather", [&]<typename T>() {
    with_index_type(index, [&]<typename I>() {
      launch_per_element(gather_elements<T, I>, out.numel(), stream, calc,
                         static_cast<const I*>(index.raw_data()), in.size, in.stride,
                         static_cast<const T*>(input.raw_data()), static_cast<T*>(out.raw_data()));
    });
  });
}

// ---- scatter_add

// Offsets over index's shape: (index, src, out without dim).
template <typename T, typename I>
__global__ void scatter_add_elements(int64_t numel, OffsetCalculator<3> calc, const I* index,
                                     int64_t dim_size, int64_t dim_stride, const T* src, T* out) {
  for (int64_t i = grid_first(); i < numel; i += grid_step()) {
    int64_t off[3];
    calc.offsets(i, off);
    const int64_t v = index_at("scatter_add", index, off[0], dim_size);
    cuda_atomic_add(out + off[2] + v * dim_stride, src[off[1]]);
  }
}

void scatter_add_kernel(KernelContext& ctx) {
  check_cuda_operands(ctx);
  const Tensor& input = ctx.input(0);
  const Tensor& index = ctx.input(1);
  const Tensor& src = ctx.input(2);
  const int64_t dim = wrap_dim(ctx.attrs().get_int("dim"), input.dim());
  const Tensor& out = ctx.output(0, input.shape(), input.dtype());
  const AlongDim dst = along_dim(out, dim);  // out has input's shape
  OSPREY_DISPATCH_ALL(input.dtype(), "scatter_add", [&]<typename T>() {
    if constexpr (std::is_same_v<T, bool>) {
      throw_unsupported_dtype(input.dtype(), "scatter_add");
    } else {
      cuda_map<T, T>(out, IdentityFn<T>{}, input);
      if (index.numel() == 0) return;
      auto calc = walker<3>(index.shape(), {index.strides(), src.strides(), dst.rest});
      cuda::DeviceGuard guard(input.device().index);
      cudaStream_t stream = cuda::current_stream();
      with_index_type(index, [&]<typename I>() {
        launch_per_element(scatter_add_elements<T, I>, index.numel(), stream, calc,
                           static_cast<const I*>(index.raw_data()), dst.size, dst.stride,
                           static_cast<const T*>(src.raw_data()), static_cast<T*>(out.raw_data()));
      });
    }
  });
}

// ---- masked_select

// flags[i] = 1 where the broadcast mask is true (offsets over the broadcast shape: mask).
__global__ void mask_flags(int64_t numel, OffsetCalculator<1> calc, const uint8_t* mask,
                           int64_t* flags) {
  for (int64_t i = grid_first(); i < numel; i += grid_step()) {
    int64_t off[1];
    calc.offsets(i, off);
    flags[i] = mask[off[0]] != 0 ? 1 : 0;
  }
}

// positions = inclusive scan of the flags: a selected element i goes to positions[i] - 1.
// Offsets over the broadcast shape: (input, mask).
template <typename T>
__global__ void masked_copy(int64_t numel, OffsetCalculator<2> calc, const uint8_t* mask,
                            const int64_t* positions, const T* in, T* out, int64_t out_stride) {
  for (int64_t i = grid_first(); i < numel; i += grid_step()) {
    int64_t off[2];
    calc.offsets(i, off);
    if (mask[off[1]] != 0) out[(positions[i] - 1) * out_stride] = in[off[0]];
  }
}

void masked_select_kernel(KernelContext& ctx) {
  check_cuda_operands(ctx);
  const Tensor& input = ctx.input(0);
  const Tensor& mask = ctx.input(1);  // bool or u8: one byte, read as 0 / nonzero
  Shape shape = broadcast_shapes(input.shape(), mask.shape(), "masked_select");
  const int64_t numel = shape_numel(shape);
  if (numel == 0) {
    ctx.output(0, {0}, input.dtype());
    return;
  }
  OSPREY_CHECK_KIND(shape, static_cast<int>(shape.size()) <= kMaxDims, "tensors of rank {} > {}",
                    shape.size(), kMaxDims);
  cuda::DeviceGuard guard(input.device().index);
  cudaStream_t stream = cuda::current_stream();
  const auto* m = static_cast<const uint8_t*>(mask.raw_data());
  Tensor flags = Tensor::empty({numel}, DType::i64, input.device());
  Tensor positions = Tensor::empty({numel}, DType::i64, input.device());
  auto* flag = static_cast<int64_t*>(flags.raw_data());
  auto* pos = static_cast<int64_t*>(positions.raw_data());
  launch_per_element(mask_flags, numel, stream, walker<1>(shape, {broadcast_strides(mask, shape)}),
                     m, flag);
  size_t scratch_bytes = 0;
  OSPREY_CUDA_CHECK(
      cub::DeviceScan::InclusiveSum(nullptr, scratch_bytes, flag, pos, numel, stream));
  Tensor scratch = Tensor::empty({static_cast<int64_t>(std::max<size_t>(scratch_bytes, 1))},
                                 DType::u8, input.device());
  OSPREY_CUDA_CHECK(
      cub::DeviceScan::InclusiveSum(scratch.raw_data(), scratch_bytes, flag, pos, numel, stream));
  // The one host synchronisation: the output's length.
  int64_t count = 0;
  OSPREY_CUDA_CHECK(
      cudaMemcpyAsync(&count, pos + numel - 1, sizeof(int64_t), cudaMemcpyDeviceToHost, stream));
  OSPREY_CUDA_CHECK(cudaStreamSynchronize(stream));
  const Tensor& out = ctx.output(0, {count}, input.dtype());
  if (count == 0) return;
  auto calc = walker<2>(shape, {broadcast_strides(input, shape), broadcast_strides(mask, shape)});
  OSPREY_DISPATCH_ALL(input.dtype(), "masked_select", [&]<typename T>() {
    launch_per_element(masked_copy<T>, numel, stream, calc, m, pos,
                       static_cast<const T*>(input.raw_data()), static_cast<T*>(out.raw_data()),
                       out.stride(0));
  });
}

const bool registered = [] {
  register_kernel("index_select", DeviceType::cuda, "native", 0, index_select_kernel, {},
                  "thread per output element, strided; any dtype");
  register_kernel("gather", DeviceType::cuda, "native", 0, gather_kernel, {},
                  "thread per output element, strided; any dtype");
  register_kernel("scatter_add", DeviceType::cuda, "native", 0, scatter_add_kernel, {},
                  "copy of input, then atomic adds, thread per index element");
  register_kernel("masked_select", DeviceType::cuda, "native", 0, masked_select_kernel, {},
                  "flags, CUB inclusive scan, one host sync for the count, scattered copy");
  return true;
}();

}  // namespace
}  // namespace osprey::ops
