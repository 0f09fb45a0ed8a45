// cuda/native kernel of add_relu: the element-wise loop (cuda_map: 16-byte vectors when
// contiguous, strided and broadcasting otherwise), f16/bf16 in float; the formula is
// add_relu_math.h's, shared with the CPU kernels.
#include "ops/add_relu/add_relu_math.h"
#include "ops/common/cuda_unary.cuh"

namespace osprey::ops {
namespace {

void add_relu_kernel(KernelContext& ctx) {
  float_binary_cuda<AddReluFn>(ctx);
}

const bool registered = [] {
  register_kernel("add_relu", DeviceType::cuda, "native", 0, add_relu_kernel, {},
                  "element-wise loop (cuda_map); f16/bf16 compute in float");
  return true;
}();

}  // namespace
}  // namespace osprey::ops
