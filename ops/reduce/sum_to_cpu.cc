// sum_to on the CPU: one pass over the input accumulating, in a wider type, into the output
// through broadcast strides (0 on summed dims).
#include "ops/common/cpu_loops.h"
#include "ops/reduce/reduce_util.h"

namespace osprey::ops {
namespace {

void sum_to_reference(KernelContext& ctx) {
  const Tensor& input = ctx.input(0);
  const Tensor& out = ctx.output(0, ctx.attrs().get_ints("shape"), input.dtype());
  OSPREY_DISPATCH_NUMERIC(input.dtype(), "sum_to", [&]<typename T>() {
    using Acc = std::conditional_t<std::is_floating_point_v<T>, double, int64_t>;
    Tensor result = cpu_scratch_for(out);
    // The contiguous result read as if it had input's shape: each input element's destination.
    Tensor destinations = Tensor::from_storage(result.storage(), input.shape(),
                                               broadcast_strides(result, input.shape()),
                                               result.offset(), result.dtype());
    auto calc = make_offset_calculator<2>(input, {&input, &destinations});
    std::vector<Acc> acc(result.numel(), Acc(0));
    const T* in = static_cast<const T*>(input.raw_data());
    for (int64_t i = 0; i < input.numel(); ++i) {
      int64_t off[2];
      calc.offsets(i, off);
      acc[off[1]] += static_cast<Acc>(in[off[0]]);
    }
    T* dst = result.data<T>();
    for (int64_t i = 0; i < result.numel(); ++i) dst[i] = static_cast<T>(acc[i]);
    cpu_store<T>(out, result);
  });
}

const bool registered = [] {
  register_kernel("sum_to", DeviceType::cpu, "reference", 0, sum_to_reference, {},
                  "one accumulation pass in double (int64 for integers)");
  return true;
}();

}  // namespace
}  // namespace osprey::ops
