// CUDA kernels of the copy family. One converting element-wise loop (cuda_map: vectorised when
// contiguous and aligned, strided otherwise) serves copy, fill, contiguous, clone and cast;
// to_device copies from a CUDA tensor to the host or another GPU through the backend.
#include "framework/core/backend.h"
#include "ops/common/cuda_loops.cuh"
#include "ops/copy/copy.h"

namespace osprey::ops {
namespace {

template <typename D, typename S>
struct ConvertFn {
  OSPREY_INLINE D operator()(S v) const {
    if constexpr (std::is_same_v<D, S>) {
      return v;
    } else if constexpr (std::is_same_v<D, Half> || std::is_same_v<D, BFloat16>) {
      return D(static_cast<float>(v));
    } else if constexpr (std::is_same_v<S, Half> || std::is_same_v<S, BFloat16>) {
      return static_cast<D>(static_cast<float>(v));
    } else {
      return static_cast<D>(v);
    }
  }
};

template <typename T>
struct ConstantFn {
  T value;
  OSPREY_INLINE T operator()() const { return value; }
};

void convert_copy(const Tensor& dst, const Tensor& src) {
  OSPREY_DISPATCH_ALL(dst.dtype(), "copy", [&]<typename D>() {
    OSPREY_DISPATCH_ALL(src.dtype(), "copy",
                        [&]<typename S>() { cuda_map<D, S>(dst, ConvertFn<D, S>{}, src); });
  });
}

void copy_kernel(KernelContext& ctx) {
  check_cuda_operands(ctx);
  convert_copy(copy_output(ctx), ctx.input(0));
}

void fill_kernel(KernelContext& ctx) {
  OSPREY_CHECK(ctx.has_preset_output(0), "fill needs an output to write into");
  const Tensor& out = ctx.outputs()[0];
  double value = ctx.attrs().get_float("value");
  OSPREY_DISPATCH_ALL(out.dtype(), "fill", [&]<typename T>() {
    const T v = fill_value<T>(value);
    cuda_map<T>(out, ConstantFn<T>{v});
  });
}

void contiguous_kernel(KernelContext& ctx) {
  check_cuda_operands(ctx);
  convert_copy(contiguous_output(ctx), ctx.input(0));
}

void clone_kernel(KernelContext& ctx) {
  check_cuda_operands(ctx);
  convert_copy(clone_output(ctx), ctx.input(0));
}

void cast_kernel(KernelContext& ctx) {
  check_cuda_operands(ctx);
  convert_copy(cast_output(ctx), ctx.input(0));
}

// From a CUDA tensor to the host or to another (or the same) GPU: made contiguous on its own
// device first, then one backend copy. A host destination is synchronised before returning.
void to_device_kernel(KernelContext& ctx) {
  const Tensor& input = ctx.input(0);
  Device target = Device::parse(ctx.attrs().get_string("device"));
  Tensor src = input.is_contiguous() ? input : input.detach().contiguous();
  Tensor out = Tensor::empty(input.shape(), input.dtype(), target);
  Backend& cuda = backend(DeviceType::cuda);
  cuda.copy(out.raw_data(), target, src.raw_data(), src.device(), src.nbytes());
  if (target.is_cpu()) cuda.synchronize(src.device());
  ctx.set_output(0, out);
}

const bool registered = [] {
  const char* doc = "converting element-wise loop: 16-byte vectors when contiguous, else strided";
  register_kernel("copy", DeviceType::cuda, "native", 0, copy_kernel, {}, doc);
  register_kernel("fill", DeviceType::cuda, "native", 0, fill_kernel, {}, doc);
  register_kernel("contiguous", DeviceType::cuda, "native", 0, contiguous_kernel, {}, doc);
  register_kernel("clone", DeviceType::cuda, "native", 0, clone_kernel, {}, doc);
  register_kernel("cast", DeviceType::cuda, "native", 0, cast_kernel, {}, doc);
  register_kernel("to_device", DeviceType::cuda, "native", 0, to_device_kernel, {},
                  "contiguous on the source GPU, then one copy to the host or another GPU");
  return true;
}();

}  // namespace
}  // namespace osprey::ops
