// CPU reference kernel of var: the input permuted to rows of reduced elements (a copy unless
// already laid out that way); per row a two-pass mean and sum of squared deviations in double,
// which avoids the cancellation of the one-pass E[x²] - E[x]² formula.
#include "ops/reduce/reduce_util.h"

namespace osprey::ops {
namespace {

void var_reference(KernelContext& ctx) {
  const Tensor& input = ctx.input(0);
  auto dims = reduction_dims(input.shape(), ctx.attrs().get_ints("dims"), "var");
  const Tensor& out = ctx.output(
      0, reduced_shape(input.shape(), dims, ctx.attrs().get_bool("keepdim")), input.dtype());
  const int64_t n = reduced_count(input.shape(), dims);
  // PyTorch clamps the divisor at 0: N <= correction gives inf or NaN.
  const double denom =
      static_cast<double>(std::max<int64_t>(0, n - ctx.attrs().get_int("correction")));
  OSPREY_DISPATCH_FLOAT_AND_HALF(input.dtype(), "var", [&]<typename T>() {
    Tensor rows = cpu_rows<T>(input, dims);
    Tensor result = cpu_scratch_for(out);
    const T* in = rows.data<T>();
    for (int64_t o = 0; o < out.numel(); ++o) {
      const T* row = in + o * n;
      double total = 0;
      for (int64_t i = 0; i < n; ++i) total += static_cast<double>(row[i]);
      const double mean = total / static_cast<double>(n);
      double squares = 0;
      for (int64_t i = 0; i < n; ++i) {
        double d = static_cast<double>(row[i]) - mean;
        squares += d * d;
      }
      result.data<T>()[o] = static_cast<T>(squares / denom);
    }
    cpu_store<T>(out, result);
  });
}

const bool registered = [] {
  register_kernel("var", DeviceType::cpu, "reference", 0, var_reference, {},
                  "rows of reduced elements, two passes in double");
  return true;
}();

}  // namespace
}  // namespace osprey::ops
