// The part of the arange kernels that is the same on every device (arange_cpu.cc,
// arange_cuda.cu): reading the attributes, allocating the output and picking the element type.
#pragma once

#include <type_traits>

#include "ops/common/op_helpers.h"
#include "ops/factory/factory.h"

namespace osprey::ops {

// Allocates out ({n} of the dtype attribute) and calls fill.template operator()<T>(out, start,
// step) with T the output's C++ type; the device's fill writes value i = start + i*step. bool,
// which validation rejects, throws here too.
template <typename Fill>
void arange_kernel_body(KernelContext& ctx, Fill fill) {
  const Attrs& a = ctx.attrs();
  double start = a.get_float("start"), step = a.get_float("step");
  int64_t n = arange_length(start, a.get_float("end"), step);
  DType dtype = a.get_dtype("dtype");
  const Tensor& out = ctx.output(0, {n}, dtype);
  OSPREY_DISPATCH_ALL(dtype, "arange", [&]<typename T>() {
    if constexpr (std::is_same_v<T, bool>) {
      throw_unsupported_dtype(dtype, "arange");
    } else {
      fill.template operator()<T>(out, start, step);
    }
  });
}

}  // namespace osprey::ops
