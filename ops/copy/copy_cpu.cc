// CPU kernels of the copy family: one converting strided loop serves copy, contiguous, clone and
// cast (the flat path is a straight vectorised loop); to_device goes through the backends.
#include <limits>

#include "framework/core/backend.h"
#include "ops/common/cpu_loops.h"
#include "ops/copy/copy.h"

namespace osprey::ops {

namespace {

void convert_copy(const Tensor& dst, const Tensor& src) {
  OSPREY_DISPATCH_ALL(dst.dtype(), "copy", [&]<typename D>() {
    OSPREY_DISPATCH_ALL(src.dtype(), "copy", [&]<typename S>() {
      if constexpr (std::is_same_v<D, Half> || std::is_same_v<D, BFloat16>) {
        cpu_map<D, S>(
            dst, [](S v) { return D(static_cast<float>(v)); }, src);
      } else if constexpr (std::is_same_v<S, Half> || std::is_same_v<S, BFloat16>) {
        cpu_map<D, S>(
            dst, [](S v) { return static_cast<D>(static_cast<float>(v)); }, src);
      } else {
        cpu_map<D, S>(
            dst, [](S v) { return static_cast<D>(v); }, src);  // exact where D can hold v
      }
    });
  });
}

void copy_kernel(KernelContext& ctx) {
  convert_copy(copy_output(ctx), ctx.input(0));
}

void fill_kernel(KernelContext& ctx) {
  OSPREY_CHECK(ctx.has_preset_output(0), "fill needs an output to write into");
  const Tensor& out = ctx.outputs()[0];
  double value = ctx.attrs().get_float("value");
  OSPREY_DISPATCH_ALL(out.dtype(), "fill", [&]<typename T>() {
    const T v = fill_value<T>(value);
    cpu_map<T>(out, [v]() { return v; });
  });
}

void contiguous_kernel(KernelContext& ctx) {
  convert_copy(contiguous_output(ctx), ctx.input(0));
}

void clone_kernel(KernelContext& ctx) {
  convert_copy(clone_output(ctx), ctx.input(0));
}

void cast_kernel(KernelContext& ctx) {
  convert_copy(cast_output(ctx), ctx.input(0));
}

}  // namespace

void cpu_convert_copy(const Tensor& dst, const Tensor& src) {
  convert_copy(dst, src);
}

// Copies between the host and another device: the source is made contiguous on its own device,
// then moved by the backend (which stages through pinned memory for CUDA).
void to_device_kernel(KernelContext& ctx) {
  const Tensor& input = ctx.input(0);
  Device target = Device::parse(ctx.attrs().get_string("device"));
  Tensor src = input.is_contiguous() ? input : input.detach().contiguous();
  Tensor out = Tensor::empty(input.shape(), input.dtype(), target);
  Backend& b = backend(target.is_cpu() ? src.device().type : target.type);
  b.copy(out.raw_data(), target, src.raw_data(), src.device(), src.nbytes());
  if (target.is_cpu()) b.synchronize(src.device());  // host data must be ready when we return
  ctx.set_output(0, out);
}

namespace {
const bool registered = [] {
  auto all = [](const KernelContext&) { return true; };
  register_kernel("copy", DeviceType::cpu, "reference", 0, copy_kernel, all,
                  "strided converting loop; flat vectorised loop for contiguous operands");
  register_kernel("fill", DeviceType::cpu, "reference", 0, fill_kernel, all);
  register_kernel("contiguous", DeviceType::cpu, "reference", 0, contiguous_kernel, all);
  register_kernel("clone", DeviceType::cpu, "reference", 0, clone_kernel, all);
  register_kernel("cast", DeviceType::cpu, "reference", 0, cast_kernel, all);
  register_kernel("to_device", DeviceType::cpu, "reference", 0, to_device_kernel, all,
                  "host to device through the target backend");
  return true;
}();
}  // namespace

}  // namespace osprey::ops
