// Schema, derivative and cases of pow_tensor (tensor exponent with broadcasting).
#include "framework/dispatch/registry.h"
#include "ops/common/case_helpers.h"
#include "ops/common/op_helpers.h"
#include "ops/elementwise/binary_math.h"
#include "ops/elementwise/compare.h"
#include "ops/elementwise/elementwise.h"
#include "ops/elementwise/unary.h"
#include "ops/elementwise/where.h"
#include "ops/factory/factory.h"

namespace osprey::ops {
namespace {

void validate_pow_tensor(const KernelContext& ctx) {
  check_same_dtype(ctx);
  check_floating(ctx, 0);
  broadcast_shapes(ctx.input(0).shape(), ctx.input(1).shape(), "pow_tensor");
}

std::vector<Tensor> pow_tensor_backward(const BackwardContext& ctx) {
  const Tensor& g = ctx.grad_output();
  const Tensor& x = ctx.input(0);
  const Tensor& e = ctx.input(1);
  std::vector<Tensor> grads(2);
  if (ctx.needs_grad(0)) {
    grads[0] = sum_to(mul(g, mul(e, pow_tensor(x, affine(e, 1.0, -1.0)))), ctx.input_shapes[0]);
  }
  if (ctx.needs_grad(1)) {
    Tensor zero = zeros({}, x.dtype(), x.device());
    Tensor d = where(eq(x, zero), zero, mul(ctx.output(0), log(x)));
    grads[1] = sum_to(mul(g, d), ctx.input_shapes[1]);
  }
  return grads;
}

std::vector<OpCase> pow_tensor_cases(DType dtype, uint64_t seed) {
  CaseRandom rng(seed);
  auto base = [&](const Shape& s) { return rng.uniform(s, dtype, 0.5, 2.0); };
  auto exponent = [&](const Shape& s) { return rng.uniform(s, dtype, -2.0, 3.0); };
  std::vector<OpCase> cases;
  cases.push_back({"same-shape", {base({3, 4}), exponent({3, 4})}, {}});
  cases.push_back({"broadcast-exponent", {base({3, 4}), exponent({4})}, {}});
  cases.push_back({"broadcast-both", {base({3, 1, 2}), exponent({1, 5, 1})}, {}});
  cases.push_back({"scalar-exponent", {base({2, 3}), exponent({})}, {}});
  cases.push_back({"empty", {base({0, 3}), exponent({1, 3})}, {}});
  cases.push_back(
      {"non-contiguous", {non_contiguous(base({4, 3})), non_contiguous(exponent({4, 3}))}, {}});
  cases.push_back({"zero-base",
                   {Tensor::from_vector<double>({0.0, 0.0, 2.0}, {3}).to(dtype),
                    Tensor::from_vector<double>({2.0, 0.0, 0.5}, {3}).to(dtype)},
                   {},
                   true});
  cases.push_back({"large", {base({70000}), exponent({70000})}, {}, true});
  return cases;
}

const bool registered = [] {
  OpDef def;
  def.schema = {"pow_tensor",
                {{"input"}, {"exponent"}},
                {},
                {{"output"}},
                "input^exponent with a tensor exponent (broadcasting)"};
  def.validate = validate_pow_tensor;
  def.backward = pow_tensor_backward;
  def.save_outputs = true;
  def.cases = pow_tensor_cases;
  dispatch::Registry::instance().add_op(std::move(def));
  return true;
}();

}  // namespace

Tensor pow_tensor(const Tensor& input, const Tensor& exponent) {
  DType d = promote_types(input.dtype(), exponent.dtype());
  if (!is_floating(d)) d = DType::f32;
  return dispatch::call1("pow_tensor", {input.to(d), exponent.to(d)});
}

}  // namespace osprey::ops
