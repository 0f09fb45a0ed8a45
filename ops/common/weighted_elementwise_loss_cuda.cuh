// cuda/native kernels of a weighted element-wise loss (see weighted_elementwise_loss.h): the op's
// per-element Loss / Grad functors (the same code the CPU reference runs) through cuda_map, any
// strides; "sum"/"mean" sum the element losses with the dispatched sum op (the library's CUDA
// reduction) and scale by 1 / numel.
#pragma once

#include <string>

#include "framework/autograd/grad_mode.h"
#include "framework/dispatch/registry.h"
#include "ops/common/cuda_loops.cuh"
#include "ops/common/weighted_elementwise_loss.h"
#include "ops/elementwise/elementwise.h"
#include "ops/reduce/reduce.h"

namespace osprey::ops::weighted_loss {

// Forward: inputs (input, target, weight); `make_loss(attrs)` gives the Loss functor.
template <typename MakeLoss>
void forward_cuda(KernelContext& ctx, const char* op, const MakeLoss& make_loss) {
  check_cuda_operands(ctx);
  autograd::NoGradGuard no_grad;
  const Tensor& x = ctx.input(0);
  const Tensor w = weight_or_one(ctx.input(2), x);
  const auto loss = make_loss(ctx.attrs());
  const std::string& reduction = ctx.attrs().get_string("reduction");
  const bool none = reduction == "none";
  const Tensor& given = ctx.output(0, none ? x.shape() : Shape{}, x.dtype());
  Tensor elements = none ? given : Tensor::empty(x.shape(), x.dtype(), x.device());
  OSPREY_DISPATCH_FLOAT(x.dtype(), op, [&]<typename T>() {
    cuda_map<T, T, T, T>(elements, loss, x, ctx.input(1), w);
  });
  if (none) return;
  Tensor total = sum(elements);
  if (reduction == "mean") total = affine(total, 1.0 / static_cast<double>(x.numel()));
  dispatch::call_out("copy", given, {total});
}

// Backward: inputs (grad_output, input, target, weight); `make_grad(attrs, scale)` gives the Grad
// functor with grad_scale folded in.
template <typename MakeGrad>
void backward_cuda(KernelContext& ctx, const char* op, const MakeGrad& make_grad) {
  check_cuda_operands(ctx);
  const Tensor& x = ctx.input(1);
  const Tensor w = weight_or_one(ctx.input(3), x);
  const auto grad = make_grad(ctx.attrs(), grad_scale(ctx, x));
  const Tensor& out = ctx.output(0, x.shape(), x.dtype());
  OSPREY_DISPATCH_FLOAT(x.dtype(), op, [&]<typename T>() {
    cuda_map<T, T, T, T, T>(out, grad, ctx.input(0), x, ctx.input(2), w);
  });
}

inline bool float_input(const KernelContext& ctx, int index) {
  const DType d = ctx.input(index).dtype();
  return d == DType::f32 || d == DType::f64;
}

// Registers the cuda/native kernels of `op` and `backward_op` (make_loss / make_grad as above).
template <typename MakeLoss, typename MakeGrad>
void register_cuda(const char* op, const char* backward_op, MakeLoss make_loss,
                   MakeGrad make_grad) {
  const char* doc = "cuda_map of the element formula (double arithmetic), library sum to reduce";
  register_kernel(
      op, DeviceType::cuda, "native", 0,
      [op, make_loss](KernelContext& ctx) { forward_cuda(ctx, op, make_loss); },
      [](const KernelContext& ctx) { return float_input(ctx, 0); }, doc);
  register_kernel(
      backward_op, DeviceType::cuda, "native", 0,
      [backward_op, make_grad](KernelContext& ctx) { backward_cuda(ctx, backward_op, make_grad); },
      [](const KernelContext& ctx) { return float_input(ctx, 1); }, doc);
}

}  // namespace osprey::ops::weighted_loss
