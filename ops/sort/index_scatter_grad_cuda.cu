// CUDA kernel of index_scatter_grad (the backward of max, min, sort and topk): the output is
// zeroed, then one thread per gradient element adds it at its index with an atomic add, reading
// grad and indices and writing the output through their strides. Repeated indices accumulate (in
// arrival order: float sums may differ from the CPU's sequential order in the last bits). Index
// values are checked on the device (cuda_check_index: a trap, no host round trip). f32, f64, f16
// and bf16, like the reference.
// index_gather_grad is, element for element, `gather(input, indices; dim)`: its CUDA kernel runs
// gather's CUDA kernel rather than keeping a second copy of the same loop.
#include "ops/common/cuda_index.cuh"
#include "ops/common/cuda_loops.cuh"
#include "ops/reduce/reduce_util.h"
#include "ops/sort/index_scatter_grad.h"

namespace osprey::ops {
namespace {

template <typename T>
struct ZeroFn {
  OSPREY_INLINE T operator()() const { return T(0.0f); }
};

// Offsets over grad's shape: (grad, indices, out with the dim's stride zeroed).
template <typename T>
__global__ void scatter_grad_elements(int64_t numel, OffsetCalculator<3> calc, const T* grad,
                                      const int64_t* indices, int64_t size, int64_t dim_stride,
                                      T* out) {
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < numel;
       i += step) {
    int64_t off[3];
    calc.offsets(i, off);
    const int64_t k = indices[off[1]];
    cuda_check_index("index_scatter_grad", "indices", k, size);
    cuda_atomic_add(out + off[2] + k * dim_stride, grad[off[0]]);
  }
}

void index_scatter_grad_kernel(KernelContext& ctx) {
  check_cuda_operands(ctx);
  const Tensor& grad = ctx.input(0);
  const Tensor& indices = ctx.input(1);
  int64_t dim = 0;
  const Shape shape = index_scatter_grad_shape(ctx, dim);
  const int64_t size = shape[dim];
  const Tensor& out = ctx.output(0, shape, grad.dtype());
  OSPREY_CHECK_KIND(shape, grad.dim() <= kMaxDims, "index_scatter_grad: rank {} > {}", grad.dim(),
                    kMaxDims);
  OSPREY_DISPATCH_FLOAT_AND_HALF(grad.dtype(), "index_scatter_grad", [&]<typename T>() {
    cuda_map<T>(out, ZeroFn<T>{});
    const int64_t numel = grad.numel();
    if (numel == 0) return;
    OffsetCalculator<3> calc;
    calc.ndim = static_cast<int>(grad.dim());
    for (int64_t d = 0; d < grad.dim(); ++d) {
      calc.sizes[d] = grad.size(d);
      calc.strides[0][d] = grad.stride(d);
      calc.strides[1][d] = indices.stride(d);
      calc.strides[2][d] = d == dim ? 0 : out.stride(d);
    }
    cuda::DeviceGuard guard(grad.device().index);
    cudaStream_t stream = cuda::current_stream();
    scatter_grad_elements<T><<<cuda_detail::blocks_for(numel), cuda_detail::kThreads, 0, stream>>>(
        numel, calc, static_cast<const T*>(grad.raw_data()),
        static_cast<const int64_t*>(indices.raw_data()), size, out.stride(dim),
        static_cast<T*>(out.raw_data()));
    OSPREY_CUDA_LAUNCH_CHECK();
  });
}

void index_gather_grad_kernel(KernelContext& ctx) {
  const Tensor& input = ctx.input(0);
  const Tensor& indices = ctx.input(1);
  const int64_t dim = single_dim(ctx.attrs().get_int("dim"), input.dim(), "index_gather_grad");
  Tensor gathered = dispatch::call1("gather", {input, indices}, {{"dim", dim}});
  if (ctx.has_preset_output(0)) {
    ctx.output(0, gathered.shape(), gathered.dtype()).copy_(gathered);
  } else {
    ctx.set_output(0, gathered);
  }
}

const bool registered = [] {
  register_kernel("index_scatter_grad", DeviceType::cuda, "native", 0, index_scatter_grad_kernel,
                  {}, "zero fill, then atomic adds, thread per gradient element; strided");
  register_kernel("index_gather_grad", DeviceType::cuda, "gather", 0, index_gather_grad_kernel, {},
                  "the gather op's CUDA kernel (the same map from indices to elements)");
  return true;
}();

}  // namespace
}  // namespace osprey::ops
