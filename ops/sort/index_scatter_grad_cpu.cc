// CPU reference kernels of index_scatter_grad and index_gather_grad: one serial loop over the
// indices, mapping each index element to the element it names in the other tensor (its own
// coordinates with indices[i] at dim) through that tensor's strides. Serial, so repeated indices
// accumulate without races; out-of-range indices are an error.
#include "ops/common/cpu_loops.h"
#include "ops/reduce/reduce_util.h"
#include "ops/sort/index_scatter_grad.h"

namespace osprey::ops {
namespace {

// Calls fn(i, k, other_offset) for every element i (row-major) of indices, k = indices[i], with
// the offset, through `other_strides`, of i's coordinates with k at `dim`.
template <typename Fn>
void for_each_index(const Tensor& indices, int64_t dim, int64_t size, const Shape& other_strides,
                    const char* op, Fn fn) {
  Tensor idx = cpu_scratch_for(indices);
  if (!indices.is_contiguous())
    cpu_map<int64_t, int64_t>(
        idx, [](int64_t v) { return v; }, indices);
  const int64_t* k_ptr = idx.data<int64_t>();
  for (int64_t i = 0; i < indices.numel(); ++i) {
    const int64_t k = k_ptr[i];
    OSPREY_CHECK(k >= 0 && k < size, "{}: index {} is out of range [0, {})", op, k, size);
    int64_t rest = i, offset = 0;
    for (int64_t d = indices.dim() - 1; d >= 0; --d) {
      const int64_t coord = rest % indices.size(d);
      rest /= indices.size(d);
      offset += (d == dim ? k : coord) * other_strides[d];
    }
    fn(i, offset);
  }
}

void scatter_reference(KernelContext& ctx) {
  const Tensor& grad = ctx.input(0);
  const Tensor& indices = ctx.input(1);
  int64_t dim = 0;
  const Shape shape = index_scatter_grad_shape(ctx, dim);
  const int64_t size = shape[dim];
  const Tensor& out = ctx.output(0, shape, grad.dtype());
  OSPREY_DISPATCH_FLOAT_AND_HALF(grad.dtype(), "index_scatter_grad", [&]<typename T>() {
    Tensor result = Tensor::empty(shape, grad.dtype());
    T* dst = result.data<T>();
    std::fill(dst, dst + result.numel(), T(0.0f));
    Tensor g = cpu_rows<T>(grad, {});  // row-major values, like the index loop
    const T* src = g.data<T>();
    for_each_index(indices, dim, size, contiguous_strides(shape), "index_scatter_grad",
                   [&](int64_t i, int64_t offset) {
                     dst[offset] = static_cast<T>(static_cast<double>(dst[offset]) +
                                                  static_cast<double>(src[i]));
                   });
    cpu_store<T>(out, result);
  });
}

void gather_reference(KernelContext& ctx) {
  const Tensor& input = ctx.input(0);
  const Tensor& indices = ctx.input(1);
  const int64_t dim = single_dim(ctx.attrs().get_int("dim"), input.dim(), "index_gather_grad");
  const Tensor& out = ctx.output(0, indices.shape(), input.dtype());
  OSPREY_DISPATCH_FLOAT_AND_HALF(input.dtype(), "index_gather_grad", [&]<typename T>() {
    Tensor result = cpu_scratch_for(out);
    T* dst = result.data<T>();
    const T* src = input.data<T>();
    for_each_index(indices, dim, input.size(dim), input.strides(), "index_gather_grad",
                   [&](int64_t i, int64_t offset) { dst[i] = src[offset]; });
    cpu_store<T>(out, result);
  });
}

const bool registered = [] {
  register_kernel("index_scatter_grad", DeviceType::cpu, "reference", 0, scatter_reference, {},
                  "serial scatter-add into zeros");
  register_kernel("index_gather_grad", DeviceType::cpu, "reference", 0, gather_reference, {},
                  "serial strided gather");
  return true;
}();

}  // namespace
}  // namespace osprey::ops
