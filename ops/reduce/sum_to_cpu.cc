// sum_to on the CPU: one pass over the input accumulating into the output through broadcast
// strides (0 on summed dims), in a wider accumulator type.
#include "ops/common/cpu_loops.h"

namespace osprey::ops {
namespace {

void sum_to_reference(KernelContext& ctx) {
  const Tensor& input = ctx.input(0);
  Shape target = ctx.attrs().get_ints("shape");
  const Tensor& out = ctx.output(0, target, input.dtype());
  OSPREY_DISPATCH_NUMERIC(input.dtype(), "sum_to", [&]<typename T>() {
    using Acc = std::conditional_t<std::is_floating_point_v<T>, double, int64_t>;
    std::vector<Acc> acc(out.numel(), Acc(0));
    Tensor acc_view = Tensor::from_storage(
        out.storage(), input.shape(),
        broadcast_strides(Tensor::empty(target, input.dtype()), input.shape()), 0, out.dtype());
    auto calc = make_offset_calculator<2>(input, {&input, &acc_view});
    const T* in = static_cast<const T*>(input.raw_data());
    for (int64_t i = 0; i < input.numel(); ++i) {
      int64_t off[2];
      calc.offsets(i, off);
      acc[off[1]] += static_cast<Acc>(in[off[0]]);
    }
    T* dst = static_cast<T*>(out.raw_data());
    // out may be a preset non-contiguous tensor; write through its strides.
    Tensor staged = Tensor::empty(target, input.dtype());
    T* staged_ptr = staged.data<T>();
    for (int64_t i = 0; i < out.numel(); ++i) staged_ptr[i] = static_cast<T>(acc[i]);
    if (out.is_contiguous()) {
      std::copy(staged_ptr, staged_ptr + out.numel(), dst);
    } else {
      cpu_map<T, T>(
          out, [](T v) { return v; }, staged);
    }
  });
}

const bool registered = [] {
  register_kernel("sum_to", DeviceType::cpu, "reference", 0, sum_to_reference, {},
                  "one accumulation pass in double (int64 for integers)");
  return true;
}();

}  // namespace
}  // namespace osprey::ops
