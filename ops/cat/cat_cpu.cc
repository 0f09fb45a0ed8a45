// cpu/reference kernels of cat and stack: each input is copied into its slot of the output with
// the strided converting copy (flat and vectorised when both sides are contiguous). Any dtype.
#include "ops/cat/cat.h"
#include "ops/common/op_helpers.h"
#include "ops/copy/copy.h"

namespace osprey::ops {
namespace {

void cat_kernel(KernelContext& ctx) {
  cat_into_slots(ctx, cpu_convert_copy);
}

void stack_kernel(KernelContext& ctx) {
  stack_into_slots(ctx, cpu_convert_copy);
}

const bool registered = [] {
  auto all = [](const KernelContext&) { return true; };
  const char* doc = "strided copy of each input into its slot of the output; any dtype";
  register_kernel("cat", DeviceType::cpu, "reference", 0, cat_kernel, all, doc);
  register_kernel("stack", DeviceType::cpu, "reference", 0, stack_kernel, all, doc);
  return true;
}();

}  // namespace
}  // namespace osprey::ops
