// CUDA kernel of masked_select: input and mask are broadcast together and made contiguous, then
// CUB's DeviceSelect::Flagged compacts the selected elements in row-major order. The output size
// depends on the data, so the count is read back to the host (one synchronisation) before the
// 1-d result is cut to it.
#include <climits>
#include <cub/device/device_select.cuh>

#include "framework/autograd/grad_mode.h"
#include "framework/dispatch/registry.h"
#include "ops/common/cuda_loops.cuh"

namespace osprey::ops {
namespace {

void masked_select_kernel(KernelContext& ctx) {
  check_cuda_operands(ctx);
  autograd::NoGradGuard no_grad;  // layout copies made here are not part of the graph
  const Tensor& input = ctx.input(0);
  Shape shape = broadcast_shapes(input.shape(), ctx.input(1).shape(), "masked_select");
  Tensor values = input.expand(shape).contiguous();
  Tensor mask = ctx.input(1).expand(shape).contiguous();
  const int64_t n = shape_numel(shape);
  OSPREY_CHECK(n <= INT_MAX, "masked_select/cuda: {} elements exceed CUB's int range", n);
  Device device = input.device();
  cuda::DeviceGuard guard(device.index);
  cudaStream_t stream = cuda::current_stream();
  Tensor selected = Tensor::empty({n}, input.dtype(), device);
  Tensor count = Tensor::empty({1}, DType::i32, device);
  OSPREY_DISPATCH_ALL(input.dtype(), "masked_select", [&]<typename T>() {
    auto select = [&]<typename F>(const F* flags) {
      size_t bytes = 0;
      OSPREY_CUDA_CHECK(cub::DeviceSelect::Flagged(nullptr, bytes, values.data<T>(), flags,
                                                   selected.data<T>(), count.data<int32_t>(),
                                                   static_cast<int>(n), stream));
      Tensor temp =
          Tensor::empty({static_cast<int64_t>(std::max<size_t>(bytes, 1))}, DType::u8, device);
      OSPREY_CUDA_CHECK(cub::DeviceSelect::Flagged(temp.raw_data(), bytes, values.data<T>(), flags,
                                                   selected.data<T>(), count.data<int32_t>(),
                                                   static_cast<int>(n), stream));
      OSPREY_CUDA_LAUNCH_CHECK();
    };
    if (mask.dtype() == DType::boolean) {
      select(mask.data<bool>());
    } else {
      select(mask.data<uint8_t>());
    }
  });
  const int64_t kept = n == 0 ? 0 : count.item<int32_t>();
  const Tensor& out = ctx.output(0, {kept}, input.dtype());
  if (kept > 0) {
    dispatch::call_out("copy", out,
                       {Tensor::from_storage(selected.storage(), {kept}, {1}, 0, input.dtype())});
  }
}

const bool registered = [] {
  register_kernel("masked_select", DeviceType::cuda, "cub", 0, masked_select_kernel, {},
                  "broadcast + contiguous, then CUB DeviceSelect::Flagged; one sync for the size");
  return true;
}();

}  // namespace
}  // namespace osprey::ops
