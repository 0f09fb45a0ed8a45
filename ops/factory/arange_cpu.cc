// CPU reference kernel of arange: value i is start + i*step computed in double, then converted
// (f16/bf16 round to nearest even; integral dtypes truncate like a C++ cast).
#include "ops/common/cpu_loops.h"
#include "ops/factory/arange_kernel.h"

namespace osprey::ops {
namespace {

void arange_kernel(KernelContext& ctx) {
  arange_kernel_body(ctx, []<typename T>(const Tensor& out, double start, double step) {
    T* p = static_cast<T*>(out.raw_data());
    const int64_t n = out.numel(), stride = out.stride(0);
    for (int64_t i = 0; i < n; ++i) {
      double v = start + static_cast<double>(i) * step;
      if constexpr (std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>) {
        p[i * stride] = T(static_cast<float>(v));
      } else {
        p[i * stride] = static_cast<T>(v);
      }
    }
  });
}

const bool registered = [] {
  register_kernel("arange", DeviceType::cpu, "reference", 0, arange_kernel, {},
                  "sequential loop, values computed in double");
  return true;
}();

}  // namespace
}  // namespace osprey::ops
