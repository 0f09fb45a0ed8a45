// CPU reference kernels of smooth_l1_loss and smooth_l1_loss_backward (math in smooth_l1_loss.h):
// the element-wise formulas of smooth_l1_loss_math.h through cpu_map (any strides; an absent
// weight is a broadcast 1), then the "sum"/"mean" reduction serially in double. f32 and f64.
#include "ops/common/cpu_loops.h"
#include "ops/common/op_helpers.h"
#include "ops/smooth_l1_loss/smooth_l1_loss_math.h"

namespace osprey::ops {
namespace {

Tensor weight_or_one(const Tensor& weight, DType dtype) {
  return weight.defined() ? weight : Tensor::empty({}, dtype).fill_(1.0);
}

template <typename T>
void forward(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor w = weight_or_one(ctx.input(2), x.dtype());
  const smooth_l1::Loss loss{ctx.attrs().get_float("beta")};
  const std::string& reduction = ctx.attrs().get_string("reduction");
  if (reduction == "none") {
    cpu_map<T, T, T, T>(ctx.output(0, x.shape(), x.dtype()), loss, x, ctx.input(1), w);
    return;
  }
  Tensor elements = Tensor::empty(x.shape(), x.dtype());
  cpu_map<T, T, T, T>(elements, loss, x, ctx.input(1), w);
  double total = 0;
  const T* e = elements.data<T>();
  for (int64_t i = 0; i < elements.numel(); ++i) total += static_cast<double>(e[i]);
  if (reduction == "mean") total /= static_cast<double>(x.numel());
  ctx.output(0, {}, x.dtype()).template data<T>()[0] = static_cast<T>(total);
}

template <typename T>
void backward(KernelContext& ctx) {
  const Tensor& x = ctx.input(1);
  const Tensor w = weight_or_one(ctx.input(3), x.dtype());
  const bool mean = ctx.attrs().get_string("reduction") == "mean";
  const smooth_l1::Grad grad{ctx.attrs().get_float("beta"),
                             mean ? 1.0 / static_cast<double>(x.numel()) : 1.0};
  cpu_map<T, T, T, T, T>(ctx.output(0, x.shape(), x.dtype()), grad, ctx.input(0), x, ctx.input(2),
                         w);
}

const bool registered = [] {
  const char* doc = "element-wise in double through cpu_map, serial double sum";
  register_kernel(
      "smooth_l1_loss", DeviceType::cpu, "reference", 0,
      [](KernelContext& ctx) {
        OSPREY_DISPATCH_FLOAT(ctx.input(0).dtype(), "smooth_l1_loss",
                              [&]<typename T>() { forward<T>(ctx); });
      },
      {}, doc);
  register_kernel(
      "smooth_l1_loss_backward", DeviceType::cpu, "reference", 0,
      [](KernelContext& ctx) {
        OSPREY_DISPATCH_FLOAT(ctx.input(1).dtype(), "smooth_l1_loss_backward",
                              [&]<typename T>() { backward<T>(ctx); });
      },
      {}, doc);
  return true;
}();

}  // namespace
}  // namespace osprey::ops
