// CUDA kernels of sum and mean over `dims` (empty: all), through cuda_sum_into: one thread per
// output for short reductions, one block per output with warp shuffles otherwise. Floating inputs
// keep their dtype (float accumulation, double for f64); integer and bool inputs sum in int64 to an
// i64 output, as on the CPU. mean scales by 1/N inside the same kernel (0/0 gives NaN).
#include "ops/common/cuda_reduce.cuh"

namespace osprey::ops {
namespace {

std::vector<bool> reduced_mask(const Tensor& input, const std::vector<int64_t>& dims) {
  std::vector<bool> mask(input.dim(), dims.empty());
  for (int64_t d : dims) mask[wrap_dim(d, input.dim())] = true;
  return mask;
}

template <bool Mean>
void reduce_kernel(KernelContext& ctx) {
  check_cuda_operands(ctx);
  Tensor input = ctx.input(0);
  bool keepdim = ctx.attrs().get_bool("keepdim");
  std::vector<bool> mask = reduced_mask(input, ctx.attrs().get_ints("dims"));
  Shape out_shape;
  int64_t count = 1;
  for (int64_t d = 0; d < input.dim(); ++d) {
    if (mask[d]) {
      count *= input.size(d);
      if (keepdim) out_shape.push_back(1);
    } else {
      out_shape.push_back(input.size(d));
    }
  }
  if (!is_floating(input.dtype())) input = input.to(DType::i64);
  const Tensor& out = ctx.output(0, out_shape, input.dtype());
  // out at the input's rank, reduced dims of size 1.
  Shape shape, strides;
  for (int64_t d = 0, o = 0; d < input.dim(); ++d) {
    if (mask[d]) {
      shape.push_back(1);
      strides.push_back(0);
      if (keepdim) ++o;
    } else {
      shape.push_back(out.size(o));
      strides.push_back(out.stride(o));
      ++o;
    }
  }
  Tensor view = Tensor::from_storage(out.storage(), shape, strides, out.offset(), out.dtype());
  double scale = Mean ? 1.0 / static_cast<double>(count) : 1.0;
  OSPREY_DISPATCH_ALL(input.dtype(), ctx.op().schema.name.c_str(), [&]<typename T>() {
    if constexpr (std::is_same_v<T, bool>) {
      throw_unsupported_dtype(input.dtype(), ctx.op().schema.name.c_str());
    } else {
      cuda_sum_into<T>(view, input, scale);
    }
  });
}

const bool registered = [] {
  const char* doc = "thread per output for short sums, block per output with warp shuffles else";
  register_kernel("sum", DeviceType::cuda, "native", 0, reduce_kernel<false>, {}, doc);
  register_kernel("mean", DeviceType::cuda, "native", 0, reduce_kernel<true>, {}, doc);
  return true;
}();

}  // namespace
}  // namespace osprey::ops
