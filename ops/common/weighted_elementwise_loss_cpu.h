// CPU reference kernels of a weighted element-wise loss (see weighted_elementwise_loss.h): the op's
// per-element Loss / Grad functors through cpu_map (any strides; an absent weight is a broadcast
// 1), then the "sum"/"mean" reduction serially in double. f32 and f64.
#pragma once

#include <string>

#include "ops/common/cpu_loops.h"
#include "ops/common/weighted_elementwise_loss.h"

namespace osprey::ops::weighted_loss {

// Forward: inputs (input, target, weight); `loss(x, t, w)` is the weighted element loss.
template <typename T, typename Loss>
void forward_cpu(KernelContext& ctx, const Loss& loss) {
  const Tensor& x = ctx.input(0);
  const Tensor w = weight_or_one(ctx.input(2), x);
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

// Backward: inputs (grad_output, input, target, weight); `grad(g, x, t, w)` is the input gradient
// with grad_scale(ctx, input) already folded into the functor.
template <typename T, typename Grad>
void backward_cpu(KernelContext& ctx, const Grad& grad) {
  const Tensor& x = ctx.input(1);
  const Tensor w = weight_or_one(ctx.input(3), x);
  cpu_map<T, T, T, T, T>(ctx.output(0, x.shape(), x.dtype()), grad, ctx.input(0), x, ctx.input(2),
                         w);
}

// Registers the cpu/reference kernels of `op` and `backward_op`: make_loss(attrs) gives the Loss
// functor, make_grad(attrs, scale) the Grad functor.
template <typename MakeLoss, typename MakeGrad>
void register_cpu(const char* op, const char* backward_op, MakeLoss make_loss, MakeGrad make_grad) {
  const char* doc = "element-wise in double through cpu_map, serial double sum";
  register_kernel(
      op, DeviceType::cpu, "reference", 0,
      [op, make_loss](KernelContext& ctx) {
        OSPREY_DISPATCH_FLOAT(ctx.input(0).dtype(), op,
                              [&]<typename T>() { forward_cpu<T>(ctx, make_loss(ctx.attrs())); });
      },
      {}, doc);
  register_kernel(
      backward_op, DeviceType::cpu, "reference", 0,
      [backward_op, make_grad](KernelContext& ctx) {
        OSPREY_DISPATCH_FLOAT(ctx.input(1).dtype(), backward_op, [&]<typename T>() {
          backward_cpu<T>(ctx, make_grad(ctx.attrs(), grad_scale(ctx, ctx.input(1))));
        });
      },
      {}, doc);
}

}  // namespace osprey::ops::weighted_loss
