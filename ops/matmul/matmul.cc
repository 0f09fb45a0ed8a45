// Schemas, shape rules and derivatives of matmul, bmm and linear (math in matmul.h).
#include "ops/matmul/matmul.h"

#include "framework/dispatch/registry.h"
#include "ops/common/op_helpers.h"
#include "ops/matmul/gemm_plan.h"

namespace osprey::ops {

dispatch::CaseFn matmul_cases();  // matmul_cases.cc
dispatch::CaseFn bmm_cases();
dispatch::CaseFn linear_cases();

namespace {

Tensor swap_last(const Tensor& t) {
  return t.transpose(-1, -2);
}

void validate_matmul(const KernelContext& ctx) {
  check_same_dtype(ctx);
  check_floating(ctx, 0);
  plan_matmul(ctx.input(0), ctx.input(1), "matmul");
}

void validate_bmm(const KernelContext& ctx) {
  check_same_dtype(ctx);
  check_floating(ctx, 0);
  const Tensor& a = ctx.input(0);
  const Tensor& b = ctx.input(1);
  OSPREY_CHECK_KIND(shape, a.dim() == 3 && b.dim() == 3,
                    "bmm: input and mat2 must be 3-d, got input {} and mat2 {}", a.describe(),
                    b.describe());
  OSPREY_CHECK_KIND(shape, a.size(0) == b.size(0) && a.size(2) == b.size(1),
                    "bmm: input {} and mat2 {} do not fit ([b, m, k] x [b, k, n])", a.describe(),
                    b.describe());
}

void validate_linear(const KernelContext& ctx) {
  check_same_dtype(ctx);
  check_floating(ctx, 0);
  const Tensor& x = ctx.input(0);
  const Tensor& w = ctx.input(1);
  const Tensor& bias = ctx.input(2);
  OSPREY_CHECK_KIND(shape, x.dim() >= 1 && w.dim() == 2,
                    "linear: input must have at least one dim and weight must be 2-d [out, in], "
                    "got input {} and weight {}",
                    x.describe(), w.describe());
  OSPREY_CHECK_KIND(shape, x.size(-1) == w.size(1),
                    "linear: input {} has {} features but weight {} expects {}", x.describe(),
                    x.size(-1), w.describe(), w.size(1));
  if (bias.defined()) {
    OSPREY_CHECK_KIND(shape, bias.dim() == 1 && bias.size(0) == w.size(0),
                      "linear: bias {} does not match weight {} (expected [{}])", bias.describe(),
                      w.describe(), w.size(0));
  }
}

std::vector<Tensor> matmul_backward(const BackwardContext& ctx) {
  const Tensor& a = ctx.input(0);
  const Tensor& b = ctx.input(1);
  GemmPlan plan = plan_matmul(a, b, "matmul");
  // Give 1-d operands their unit dims back so every operand is a batch of matrices.
  Tensor a2 = a.dim() == 1 ? a.unsqueeze(0) : a;
  Tensor b2 = b.dim() == 1 ? b.unsqueeze(1) : b;
  Shape full = plan.batch;
  full.push_back(plan.m);
  full.push_back(plan.n);
  Tensor g = ctx.grad_output().reshape(full);
  std::vector<Tensor> grads(2);
  if (ctx.needs_grad(0)) {
    grads[0] = sum_to(matmul(g, swap_last(b2)), a2.shape()).reshape(a.shape());
  }
  if (ctx.needs_grad(1)) {
    grads[1] = sum_to(matmul(swap_last(a2), g), b2.shape()).reshape(b.shape());
  }
  return grads;
}

std::vector<Tensor> bmm_backward(const BackwardContext& ctx) {
  const Tensor& g = ctx.grad_output();
  std::vector<Tensor> grads(2);
  if (ctx.needs_grad(0)) grads[0] = bmm(g, swap_last(ctx.input(1)));
  if (ctx.needs_grad(1)) grads[1] = bmm(swap_last(ctx.input(0)), g);
  return grads;
}

std::vector<Tensor> linear_backward(const BackwardContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& w = ctx.input(1);
  const Tensor& g = ctx.grad_output();
  const int64_t out_features = w.size(0), in_features = w.size(1);
  std::vector<Tensor> grads(3);
  if (ctx.needs_grad(0)) grads[0] = matmul(g, w);
  if (ctx.needs_grad(1)) {
    // Every leading dim of input is a row of one big product.
    int64_t rows = shape_numel(Shape(x.shape().begin(), x.shape().end() - 1));
    grads[1] = matmul(swap_last(g.reshape({rows, out_features})), x.reshape({rows, in_features}));
  }
  if (ctx.needs_grad(2)) grads[2] = sum_to(g, {out_features});
  return grads;
}

OpDef product_def(const char* name, std::vector<InputSpec> inputs, dispatch::ValidateFn validate,
                  dispatch::BackwardFn backward, dispatch::CaseFn cases, const char* doc) {
  OpDef def;
  def.schema.name = name;
  def.schema.inputs = std::move(inputs);
  def.schema.outputs = {{"output"}};
  def.schema.doc = doc;
  def.validate = std::move(validate);
  def.backward = std::move(backward);
  def.cases = std::move(cases);
  return def;
}

const bool registered = [] {
  auto& r = dispatch::Registry::instance();
  r.add_op(product_def("matmul", {{"input"}, {"other"}}, validate_matmul, matmul_backward,
                       matmul_cases(),
                       "matrix product with broadcast batch dims; 1-d operands are vectors"));
  r.add_op(product_def("bmm", {{"input"}, {"mat2"}}, validate_bmm, bmm_backward, bmm_cases(),
                       "batched matrix product [b, m, k] x [b, k, n]"));
  InputSpec bias{"bias"};
  bias.optional = true;
  r.add_op(product_def("linear", {{"input"}, {"weight"}, bias}, validate_linear, linear_backward,
                       linear_cases(), "input @ weight^T + bias"));
  return true;
}();

}  // namespace

Tensor matmul(const Tensor& input, const Tensor& other) {
  DType d = promote_types(input.dtype(), other.dtype());
  return dispatch::call1("matmul", {input.to(d), other.to(d)});
}

Tensor bmm(const Tensor& input, const Tensor& mat2) {
  DType d = promote_types(input.dtype(), mat2.dtype());
  return dispatch::call1("bmm", {input.to(d), mat2.to(d)});
}

Tensor linear(const Tensor& input, const Tensor& weight, const Tensor& bias) {
  DType d = promote_types(input.dtype(), weight.dtype());
  if (bias.defined()) d = promote_types(d, bias.dtype());
  return dispatch::call1("linear",
                         {input.to(d), weight.to(d), bias.defined() ? bias.to(d) : Tensor()});
}

}  // namespace osprey::ops
