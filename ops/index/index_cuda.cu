// CUDA kernels of index_select, gather, scatter_add and the index-gradient ops index_gather_grad
// and index_scatter_grad (the backward of max/min/sort/topk). One thread per position of the
// iterated tensor (the output for gathers, the index for scatters), its operands reached through
// OffsetCalculator strides, so expanded (stride-0) indices are read in place. Index values are
// checked on the device: the first bad one is recorded and raised as a value error after the
// launch, which costs one synchronisation per call. Scatters add with atomicAdd, so the order of
// additions into one element varies between runs (f32 sums may differ in the last bits); f16/bf16
// scatter through an f32 buffer. masked_select (a data-dependent output size) has no CUDA kernel.
#include "framework/autograd/grad_mode.h"
#include "framework/dispatch/registry.h"
#include "ops/common/cuda_loops.cuh"

namespace osprey::ops {
namespace {

// status[0] = 1 once a bad index is seen; status[1] = that index.
template <typename I>
OSPREY_INLINE bool check_index(I k, int64_t size, unsigned long long* status) {
#if defined(__CUDA_ARCH__)
  if (k >= 0 && static_cast<int64_t>(k) < size) return true;
  if (atomicCAS(status, 0ull, 1ull) == 0ull) status[1] = static_cast<unsigned long long>(k);
  return false;
#else
  return k >= 0 && static_cast<int64_t>(k) < size;
#endif
}

// out[o0] = in[o1 + index[o2] * in_dim_stride] over out's positions.
template <typename T, typename I>
__global__ void gather_kernel(int64_t n, OffsetCalculator<3> calc, T* out, const T* in,
                              const I* index, int64_t in_dim_stride, int64_t size,
                              unsigned long long* status) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += stride) {
    int64_t off[3];
    calc.offsets(i, off);
    I k = index[off[2]];
    if (check_index(k, size, status)) out[off[0]] = in[off[1] + k * in_dim_stride];
  }
}

template <typename T>
__device__ void atomic_add(T* p, T v) {
  if constexpr (std::is_same_v<T, int64_t>) {
    atomicAdd(reinterpret_cast<unsigned long long*>(p), static_cast<unsigned long long>(v));
  } else {
    atomicAdd(p, v);
  }
}

// out[o1 + index[o2] * out_dim_stride] += src[o0] over the index's positions.
template <typename T, typename I>
__global__ void scatter_add_kernel(int64_t n, OffsetCalculator<3> calc, T* out, const T* src,
                                   const I* index, int64_t out_dim_stride, int64_t size,
                                   unsigned long long* status) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += stride) {
    int64_t off[3];
    calc.offsets(i, off);
    I k = index[off[2]];
    if (check_index(k, size, status)) atomic_add(out + off[1] + k * out_dim_stride, src[off[0]]);
  }
}

// Strides of the three operands over `shape`, each given as a full stride vector of its rank.
OffsetCalculator<3> make_calc(const Shape& shape, const std::array<Shape, 3>& strides) {
  OSPREY_CHECK_KIND(shape, static_cast<int>(shape.size()) <= kMaxDims, "tensors of rank {} > {}",
                    shape.size(), kMaxDims);
  OffsetCalculator<3> calc;
  calc.ndim = static_cast<int>(shape.size());
  for (int d = 0; d < calc.ndim; ++d) {
    calc.sizes[d] = shape[d];
    for (int k = 0; k < 3; ++k) calc.strides[k][d] = strides[k][d];
  }
  return calc;
}

Shape with_dim_zeroed(Shape strides, int64_t dim) {
  if (!strides.empty()) strides[dim] = 0;
  return strides;
}

// A device word pair for index errors, zeroed.
Tensor make_status(Device device) {
  Tensor status = Tensor::empty({2}, DType::i64, device);
  status.zero_();
  return status;
}

void raise_if_bad(const Tensor& status, const char* op, int64_t dim, int64_t size) {
  auto s = status.to_vector<int64_t>();
  OSPREY_CHECK(s[0] == 0, "{}: index value {} is out of range for dim {} of size {}", op, s[1], dim,
               size);
}

template <typename F>
void dispatch_index(const Tensor& index, const char* op, F f) {
  if (index.dtype() == DType::i64) {
    f.template operator()<int64_t>();
  } else if (index.dtype() == DType::i32) {
    f.template operator()<int32_t>();
  } else {
    throw_unsupported_dtype(index.dtype(), op);
  }
}

// out (out_shape) = input gathered along dim by an index whose strides over out's positions are
// `index_strides`.
void run_gather(const Tensor& out, const Tensor& input, const Tensor& index,
                const Shape& index_strides, int64_t dim, const char* op) {
  const int64_t n = out.numel();
  if (n == 0) return;
  const int64_t size = input.dim() == 0 ? 1 : input.size(dim);
  const int64_t dim_stride = input.dim() == 0 ? 0 : input.stride(dim);
  auto calc =
      make_calc(out.shape(), {out.strides(), with_dim_zeroed(input.strides(), dim), index_strides});
  Tensor status = make_status(out.device());
  cuda::DeviceGuard guard(out.device().index);
  OSPREY_DISPATCH_ALL(input.dtype(), op, [&]<typename T>() {
    dispatch_index(index, op, [&]<typename I>() {
      gather_kernel<T, I>
          <<<cuda_detail::blocks_for(n), cuda_detail::kThreads, 0, cuda::current_stream()>>>(
              n, calc, static_cast<T*>(out.raw_data()), static_cast<const T*>(input.raw_data()),
              static_cast<const I*>(index.raw_data()), dim_stride, size,
              static_cast<unsigned long long*>(status.raw_data()));
      OSPREY_CUDA_LAUNCH_CHECK();
    });
  });
  raise_if_bad(status, op, dim, size);
}

// out += src scattered along dim by index (index and src iterated over index's shape).
void run_scatter_add(const Tensor& out, const Tensor& index, const Tensor& src, int64_t dim,
                     const char* op) {
  const int64_t n = index.numel();
  if (n == 0) return;
  if (out.dtype() == DType::f16 || out.dtype() == DType::bf16) {
    autograd::NoGradGuard no_grad;
    Tensor wide = out.to(DType::f32);
    run_scatter_add(wide, index, src.to(DType::f32), dim, op);
    dispatch::call_out("copy", out, {wide.to(out.dtype())});
    return;
  }
  const int64_t size = out.dim() == 0 ? 1 : out.size(dim);
  const int64_t dim_stride = out.dim() == 0 ? 0 : out.stride(dim);
  Shape src_strides(src.strides().begin(), src.strides().begin() + index.dim());
  auto calc =
      make_calc(index.shape(), {src_strides, with_dim_zeroed(out.strides(), dim), index.strides()});
  Tensor status = make_status(out.device());
  cuda::DeviceGuard guard(out.device().index);
  OSPREY_DISPATCH_NUMERIC(out.dtype(), op, [&]<typename T>() {
    if constexpr (std::is_same_v<T, uint8_t>) {
      throw_unsupported_dtype(out.dtype(), op);
    } else {
      dispatch_index(index, op, [&]<typename I>() {
        scatter_add_kernel<T, I>
            <<<cuda_detail::blocks_for(n), cuda_detail::kThreads, 0, cuda::current_stream()>>>(
                n, calc, static_cast<T*>(out.raw_data()), static_cast<const T*>(src.raw_data()),
                static_cast<const I*>(index.raw_data()), dim_stride, size,
                static_cast<unsigned long long*>(status.raw_data()));
        OSPREY_CUDA_LAUNCH_CHECK();
      });
    }
  });
  raise_if_bad(status, op, dim, size);
}

void index_select_kernel(KernelContext& ctx) {
  check_cuda_operands(ctx);
  const Tensor& input = ctx.input(0);
  const Tensor& index = ctx.input(1);
  const int64_t dim = wrap_dim(ctx.attrs().get_int("dim"), input.dim());
  Shape shape = input.shape();
  if (!shape.empty()) shape[dim] = index.numel();
  const Tensor& out = ctx.output(0, shape, input.dtype());
  Shape index_strides(shape.size(), 0);
  if (!shape.empty() && index.dim() == 1) index_strides[dim] = index.stride(0);
  run_gather(out, input, index, index_strides, dim, "index_select");
}

void gather_kernel_fn(KernelContext& ctx) {
  check_cuda_operands(ctx);
  const Tensor& input = ctx.input(0);
  const Tensor& index = ctx.input(1);
  const int64_t dim = wrap_dim(ctx.attrs().get_int("dim"), input.dim());
  const Tensor& out = ctx.output(0, index.shape(), input.dtype());
  run_gather(out, input, index, index.strides(), dim, "gather");
}

void scatter_add_kernel_fn(KernelContext& ctx) {
  check_cuda_operands(ctx);
  const Tensor& input = ctx.input(0);
  const Tensor& index = ctx.input(1);
  const Tensor& src = ctx.input(2);
  const int64_t dim = wrap_dim(ctx.attrs().get_int("dim"), input.dim());
  const Tensor& out = ctx.output(0, input.shape(), input.dtype());
  autograd::NoGradGuard no_grad;  // the copy below is part of this kernel, not of the graph
  dispatch::call_out("copy", out, {input});
  run_scatter_add(out, index, src, dim, "scatter_add");
}

void index_gather_grad_kernel(KernelContext& ctx) {
  check_cuda_operands(ctx);
  const Tensor& input = ctx.input(0);
  const Tensor& indices = ctx.input(1);
  const int64_t dim = input.dim() == 0 ? 0 : wrap_dim(ctx.attrs().get_int("dim"), input.dim());
  const Tensor& out = ctx.output(0, indices.shape(), input.dtype());
  run_gather(out, input, indices, indices.strides(), dim, "index_gather_grad");
}

void index_scatter_grad_kernel(KernelContext& ctx) {
  check_cuda_operands(ctx);
  const Tensor& grad = ctx.input(0);
  const Tensor& indices = ctx.input(1);
  const int64_t dim = grad.dim() == 0 ? 0 : wrap_dim(ctx.attrs().get_int("dim"), grad.dim());
  OSPREY_CHECK_KIND(shape, grad.shape() == indices.shape(),
                    "index_scatter_grad: grad {} and indices {} differ in shape", grad.describe(),
                    indices.describe());
  Shape shape = grad.shape();
  if (!shape.empty()) shape[dim] = ctx.attrs().get_int("size");
  Tensor out = ctx.output(0, shape, grad.dtype());
  out.zero_();
  run_scatter_add(out, indices, grad, dim, "index_scatter_grad");
}

const bool registered = [] {
  const char* gather_doc = "thread per output position; device-side index check (one sync)";
  const char* scatter_doc = "thread per index position, atomicAdd; device-side index check";
  register_kernel("index_select", DeviceType::cuda, "native", 0, index_select_kernel, {},
                  gather_doc);
  register_kernel("gather", DeviceType::cuda, "native", 0, gather_kernel_fn, {}, gather_doc);
  register_kernel("scatter_add", DeviceType::cuda, "native", 0, scatter_add_kernel_fn, {},
                  scatter_doc);
  register_kernel("index_gather_grad", DeviceType::cuda, "native", 0, index_gather_grad_kernel, {},
                  gather_doc);
  register_kernel("index_scatter_grad", DeviceType::cuda, "native", 0, index_scatter_grad_kernel,
                  {}, scatter_doc);
  return true;
}();

}  // namespace
}  // namespace osprey::ops
