// Schemas, shape rules and derivatives of softmax, log_softmax and their backward ops.
#include "ops/softmax/softmax.h"

#include "framework/dispatch/registry.h"
#include "ops/common/op_helpers.h"
#include "ops/elementwise/elementwise.h"
#include "ops/elementwise/unary.h"
#include "ops/reduce/reduce.h"
#include "ops/reduce/reduce_util.h"

namespace osprey::ops {
namespace {

void validate(const KernelContext& ctx) {
  const char* op = ctx.op().schema.name.c_str();
  single_dim(ctx.attrs().get_int("dim"), ctx.input(0).dim(), op);
  for (int i = 0; i < ctx.num_inputs(); ++i) check_floating(ctx, i);
  check_same_dtype(ctx);
  if (ctx.num_inputs() == 2) {
    OSPREY_CHECK_KIND(shape, ctx.input(0).shape() == ctx.input(1).shape(),
                      "{}: grad_output {} and output {} must have the same shape", op,
                      ctx.input(0).describe(), ctx.input(1).describe());
  }
}

int64_t dim_of(const BackwardContext& ctx) {
  return ctx.attrs.get_int("dim");
}

std::vector<Tensor> softmax_grad(const BackwardContext& ctx) {
  return {softmax_backward(ctx.grad_output(), ctx.output(0), dim_of(ctx))};
}

std::vector<Tensor> log_softmax_grad(const BackwardContext& ctx) {
  return {log_softmax_backward(ctx.grad_output(), ctx.output(0), dim_of(ctx))};
}

// Σ over dim, kept for broadcasting.
Tensor sum_along(const Tensor& t, int64_t dim) {
  return sum(t, {dim}, true);
}

std::vector<Tensor> softmax_backward_grad(const BackwardContext& ctx) {
  const Tensor& h = ctx.grad_output();
  const Tensor& g = ctx.input(0);
  const Tensor& y = ctx.input(1);
  int64_t dim = dim_of(ctx);
  std::vector<Tensor> grads(2);
  if (ctx.needs_grad(0)) grads[0] = softmax_backward(h, y, dim);
  if (ctx.needs_grad(1)) {
    Tensor centered = sub(g, sum_along(mul(g, y), dim));
    grads[1] = sub(mul(h, centered), mul(g, sum_along(mul(h, y), dim)));
  }
  return grads;
}

// out = g - p S with p = exp(y), S = Σ g:  d/dg = h - Σ h p,  d/dy = -h p S.
std::vector<Tensor> log_softmax_backward_grad(const BackwardContext& ctx) {
  const Tensor& h = ctx.grad_output();
  int64_t dim = dim_of(ctx);
  Tensor hp = mul(h, exp(ctx.input(1)));
  std::vector<Tensor> grads(2);
  if (ctx.needs_grad(0)) grads[0] = sub(h, sum_along(hp, dim));
  if (ctx.needs_grad(1)) grads[1] = neg(mul(hp, sum_along(ctx.input(0), dim)));
  return grads;
}

std::vector<OpCase> forward_cases(DType dtype, uint64_t seed) {
  CaseRandom rng(seed);
  return {
      {"rows", {rng.uniform({3, 5}, dtype, -2, 2)}, {{"dim", 1}}},
      {"columns", {rng.uniform({3, 5}, dtype, -2, 2)}, {{"dim", 0}}},
      {"middle-dim", {rng.uniform({2, 3, 4}, dtype, -2, 2)}, {{"dim", 1}}},
      {"last-dim", {rng.uniform({2, 3, 4}, dtype, -2, 2)}, {{"dim", -1}}},
      {"size-1-dim", {rng.uniform({3, 1}, dtype)}, {{"dim", 1}}},
      {"scalar", {rng.uniform({}, dtype)}, {{"dim", 0}}},
      {"non-contiguous", {non_contiguous(rng.uniform({4, 3}, dtype, -2, 2))}, {{"dim", 1}}},
      {"empty", {rng.uniform({0, 3}, dtype)}, {{"dim", 1}}},
      // Large logits: the max subtraction keeps exp finite.
      {"large-values", {rng.uniform({2, 4}, dtype, 500, 505)}, {{"dim", 1}}},
      {"large-rows", {rng.uniform({200, 300}, dtype, -3, 3)}, {{"dim", 1}}, true},
      {"large-columns", {rng.uniform({300, 40}, dtype, -3, 3)}, {{"dim", 0}}, true},
  };
}

std::vector<OpCase> backward_cases(DType dtype, uint64_t seed) {
  CaseRandom rng(seed);
  auto pair = [&](const Shape& s) {
    return std::vector<Tensor>{rng.uniform(s, dtype), rng.uniform(s, dtype, -2.0, -0.1)};
  };
  auto nc = [](std::vector<Tensor> v) {
    for (auto& t : v) t = non_contiguous(t);
    return v;
  };
  return {
      {"rows", pair({3, 5}), {{"dim", 1}}},
      {"columns", pair({3, 5}), {{"dim", 0}}},
      {"middle-dim", pair({2, 3, 4}), {{"dim", 1}}},
      {"scalar", pair({}), {{"dim", 0}}},
      {"non-contiguous", nc(pair({4, 3})), {{"dim", 1}}},
      {"empty", pair({0, 3}), {{"dim", 1}}},
      {"large-rows", pair({200, 300}), {{"dim", 1}}, true},
  };
}

OpDef forward_def(const char* name, dispatch::BackwardFn backward, const char* doc) {
  OpDef def;
  def.schema = {
      name, {{"input"}}, {{"dim", AttrType::integer, std::nullopt, "the dim"}}, {{"output"}}, doc};
  def.validate = validate;
  def.backward = std::move(backward);
  def.save_inputs = false;
  def.save_outputs = true;
  def.cases = forward_cases;
  return def;
}

OpDef backward_def(const char* name, dispatch::BackwardFn backward, const char* doc) {
  OpDef def;
  def.schema = {name,
                {{"grad_output"}, {"output"}},
                {{"dim", AttrType::integer, std::nullopt, "the dim"}},
                {{"grad_input"}},
                doc};
  def.validate = validate;
  def.backward = std::move(backward);
  def.cases = backward_cases;
  return def;
}

const bool registered = [] {
  auto& r = dispatch::Registry::instance();
  r.add_op(forward_def("softmax", softmax_grad, "exp(x - max) / sum(exp(x - max)) along dim"));
  r.add_op(forward_def("log_softmax", log_softmax_grad, "x - max - log(sum(exp(x - max)))"));
  r.add_op(backward_def("softmax_backward", softmax_backward_grad,
                        "y * (g - sum(g * y)) along dim: the gradient of softmax"));
  r.add_op(backward_def("log_softmax_backward", log_softmax_backward_grad,
                        "g - exp(y) * sum(g) along dim: the gradient of log_softmax"));
  return true;
}();

}  // namespace

Tensor softmax(const Tensor& input, int64_t dim) {
  return dispatch::call1("softmax", {input}, Attrs{{"dim", dim}});
}
Tensor log_softmax(const Tensor& input, int64_t dim) {
  return dispatch::call1("log_softmax", {input}, Attrs{{"dim", dim}});
}
Tensor softmax_backward(const Tensor& grad_output, const Tensor& output, int64_t dim) {
  return dispatch::call1("softmax_backward", {grad_output, output}, Attrs{{"dim", dim}});
}
Tensor log_softmax_backward(const Tensor& grad_output, const Tensor& output, int64_t dim) {
  return dispatch::call1("log_softmax_backward", {grad_output, output}, Attrs{{"dim", dim}});
}

}  // namespace osprey::ops
