// sum_to on CUDA: the summed dims become the reduced dims of cuda_sum_into (one thread per output
// for short reductions, one block per output otherwise); out is viewed at the input's rank.
#include "ops/common/cuda_reduce.cuh"
#include "ops/reduce/sum_to.h"

namespace osprey::ops {
namespace {

void sum_to_kernel(KernelContext& ctx) {
  check_cuda_operands(ctx);
  const Tensor& input = ctx.input(0);
  Shape target = ctx.attrs().get_ints("shape");
  const Tensor& out = ctx.output(0, target, input.dtype());
  // out at input's rank: missing leading dims have size 1.
  size_t lead = input.shape().size() - target.size();
  Shape shape(lead, 1), strides(lead, 0);
  shape.insert(shape.end(), target.begin(), target.end());
  strides.insert(strides.end(), out.strides().begin(), out.strides().end());
  Tensor view = Tensor::from_storage(out.storage(), shape, strides, out.offset(), out.dtype());
  OSPREY_DISPATCH_ALL(input.dtype(), "sum_to", [&]<typename T>() {
    if constexpr (std::is_same_v<T, bool>) {
      throw_unsupported_dtype(input.dtype(), "sum_to");
    } else {
      cuda_sum_into<T>(view, input);
    }
  });
}

const bool registered = [] {
  register_kernel("sum_to", DeviceType::cuda, "native", 0, sum_to_kernel, {},
                  "thread per output for short sums, block per output with warp shuffles else");
  return true;
}();

}  // namespace
}  // namespace osprey::ops
