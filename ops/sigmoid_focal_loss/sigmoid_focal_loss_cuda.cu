// cuda/native kernels of sigmoid_focal_loss and sigmoid_focal_loss_backward (math in
// sigmoid_focal_loss.h): the element-wise formulas of sigmoid_focal_loss_math.h (the same code the
// CPU reference runs) through cuda_map, any strides; "sum"/"mean" sum the element losses with the
// dispatched sum op (the library's CUDA reduction) and scale by 1 / numel.
#include "framework/autograd/grad_mode.h"
#include "framework/dispatch/registry.h"
#include "ops/common/cuda_loops.cuh"
#include "ops/elementwise/elementwise.h"
#include "ops/reduce/reduce.h"
#include "ops/sigmoid_focal_loss/sigmoid_focal_loss_math.h"

namespace osprey::ops {
namespace {

Tensor weight_or_one(const Tensor& weight, const Tensor& like) {
  return weight.defined() ? weight : Tensor::empty({}, like.dtype(), like.device()).fill_(1.0);
}

void forward_kernel(KernelContext& ctx) {
  check_cuda_operands(ctx);
  autograd::NoGradGuard no_grad;
  const Tensor& x = ctx.input(0);
  const Tensor w = weight_or_one(ctx.input(2), x);
  const focal::Loss loss{ctx.attrs().get_float("alpha"), ctx.attrs().get_float("gamma")};
  const std::string& reduction = ctx.attrs().get_string("reduction");
  const bool none = reduction == "none";
  const Tensor& given = ctx.output(0, none ? x.shape() : Shape{}, x.dtype());
  Tensor elements = none ? given : Tensor::empty(x.shape(), x.dtype(), x.device());
  OSPREY_DISPATCH_FLOAT(x.dtype(), "sigmoid_focal_loss", [&]<typename T>() {
    cuda_map<T, T, T, T>(elements, loss, x, ctx.input(1), w);
  });
  if (none) return;
  Tensor total = sum(elements);
  if (reduction == "mean") total = affine(total, 1.0 / static_cast<double>(x.numel()));
  dispatch::call_out("copy", given, {total});
}

void backward_kernel(KernelContext& ctx) {
  check_cuda_operands(ctx);
  const Tensor& x = ctx.input(1);
  const Tensor w = weight_or_one(ctx.input(3), x);
  const bool mean = ctx.attrs().get_string("reduction") == "mean";
  const focal::Grad grad{ctx.attrs().get_float("alpha"), ctx.attrs().get_float("gamma"),
                         mean ? 1.0 / static_cast<double>(x.numel()) : 1.0};
  const Tensor& out = ctx.output(0, x.shape(), x.dtype());
  OSPREY_DISPATCH_FLOAT(x.dtype(), "sigmoid_focal_loss_backward", [&]<typename T>() {
    cuda_map<T, T, T, T, T>(out, grad, ctx.input(0), x, ctx.input(2), w);
  });
}

bool float_input(const KernelContext& ctx, int index) {
  const DType d = ctx.input(index).dtype();
  return d == DType::f32 || d == DType::f64;
}

const bool registered = [] {
  const char* doc = "cuda_map of the element formula (double arithmetic), library sum to reduce";
  register_kernel(
      "sigmoid_focal_loss", DeviceType::cuda, "native", 0, forward_kernel,
      [](const KernelContext& ctx) { return float_input(ctx, 0); }, doc);
  register_kernel(
      "sigmoid_focal_loss_backward", DeviceType::cuda, "native", 0, backward_kernel,
      [](const KernelContext& ctx) { return float_input(ctx, 1); }, doc);
  return true;
}();

}  // namespace
}  // namespace osprey::ops
