// CPU reference kernel of index_scatter_grad: zero the output, then walk grad and indices with
// one strided loop and add each gradient at its index. Serial, so repeated indices accumulate
// without races; out-of-range indices are an error.
#include "ops/common/cpu_loops.h"
#include "ops/reduce/reduce_util.h"

namespace osprey::ops {
namespace {

void index_scatter_grad_reference(KernelContext& ctx) {
  const Tensor& grad = ctx.input(0);
  const Tensor& indices = ctx.input(1);
  const int64_t dim = single_dim(ctx.attrs().get_int("dim"), grad.dim(), "index_scatter_grad");
  const int64_t size = ctx.attrs().get_int("size");
  Shape shape = grad.shape();
  shape[dim] = size;
  const Tensor& out = ctx.output(0, shape, grad.dtype());
  OSPREY_DISPATCH_FLOAT_AND_HALF(grad.dtype(), "index_scatter_grad", [&]<typename T>() {
    Tensor result = Tensor::empty(shape, grad.dtype());
    T* dst = result.data<T>();
    std::fill(dst, dst + result.numel(), T(0.0f));
    const Shape out_strides = contiguous_strides(shape);
    auto calc = make_offset_calculator<2>(grad, {&grad, &indices});
    const T* g = static_cast<const T*>(grad.raw_data());
    const int64_t* idx = static_cast<const int64_t*>(indices.raw_data());
    for (int64_t i = 0; i < grad.numel(); ++i) {
      int64_t off[2];
      calc.offsets(i, off);
      const int64_t k = idx[off[1]];
      OSPREY_CHECK(k >= 0 && k < size, "index_scatter_grad: index {} is out of range [0, {})", k,
                   size);
      // The output offset of element i with its dim coordinate replaced by k.
      int64_t rest = i, offset = 0;
      for (int64_t d = grad.dim() - 1; d >= 0; --d) {
        int64_t coord = rest % grad.size(d);
        rest /= grad.size(d);
        offset += (d == dim ? k : coord) * out_strides[d];
      }
      dst[offset] =
          static_cast<T>(static_cast<double>(dst[offset]) + static_cast<double>(g[off[0]]));
    }
    cpu_store<T>(out, result);
  });
}

const bool registered = [] {
  register_kernel("index_scatter_grad", DeviceType::cpu, "reference", 0,
                  index_scatter_grad_reference, {}, "serial strided scatter-add into zeros");
  return true;
}();

}  // namespace
}  // namespace osprey::ops
