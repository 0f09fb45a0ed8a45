// Schemas, derivatives and cases of exp, log, sqrt, abs, sign, pow (scalar exponent), clamp and
// clamp_backward.
#include "ops/elementwise/unary.h"

#include "framework/dispatch/registry.h"
#include "ops/elementwise/elementwise.h"
#include "ops/elementwise/elementwise_cases.h"
#include "ops/factory/factory.h"

namespace osprey::ops {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

void validate_floating(const KernelContext& ctx) {
  check_floating(ctx, 0);
}

OpDef unary_def(const char* name, const char* doc, dispatch::BackwardFn backward,
                dispatch::CaseFn cases, bool floating_only) {
  OpDef def;
  def.schema.name = name;
  def.schema.inputs = {{"input"}};
  def.schema.outputs = {{"output"}};
  def.schema.doc = doc;
  if (floating_only) def.validate = validate_floating;
  def.backward = std::move(backward);
  def.cases = std::move(cases);
  return def;
}

std::vector<Tensor> exp_backward(const BackwardContext& ctx) {
  return {mul(ctx.grad_output(), ctx.output(0))};
}
std::vector<Tensor> log_backward(const BackwardContext& ctx) {
  return {div(ctx.grad_output(), ctx.input(0))};
}
std::vector<Tensor> sqrt_backward(const BackwardContext& ctx) {
  return {div(ctx.grad_output(), affine(ctx.output(0), 2.0))};
}
std::vector<Tensor> abs_backward(const BackwardContext& ctx) {
  return {mul(ctx.grad_output(), sign(ctx.input(0)))};
}
std::vector<Tensor> pow_backward(const BackwardContext& ctx) {
  const Tensor& g = ctx.grad_output();
  double p = ctx.attrs.get_float("exponent");
  if (p == 0.0) return {zeros_like(g)};
  if (p == 1.0) return {g};
  return {mul(g, affine(pow(ctx.input(0), p - 1.0), p))};
}

Attrs bounds(const dispatch::Attrs& attrs) {
  return {{"min", attrs.get_float("min")}, {"max", attrs.get_float("max")}};
}

std::vector<Tensor> clamp_backward(const BackwardContext& ctx) {
  return {dispatch::call1("clamp_backward", {ctx.grad_output(), ctx.input(0)}, bounds(ctx.attrs))};
}

// clamp_backward is linear in grad_output; the input only selects.
std::vector<Tensor> clamp_backward_backward(const BackwardContext& ctx) {
  std::vector<Tensor> grads(2);
  if (ctx.needs_grad(0)) {
    grads[0] =
        dispatch::call1("clamp_backward", {ctx.grad_output(), ctx.input(1)}, bounds(ctx.attrs));
  }
  return grads;
}

dispatch::CaseFn clamp_cases() {
  return [](DType dtype, uint64_t seed) {
    std::vector<OpCase> cases =
        unary_value_cases(uniform_values(), {{"min", -0.5}, {"max", 0.5}})(dtype, seed);
    CaseRandom rng(seed + 1);
    cases.push_back({"min-only", {rng.uniform({3, 4}, dtype)}, {{"min", 0.0}}});
    cases.push_back({"max-only", {rng.uniform({3, 4}, dtype)}, {{"max", 0.25}}});
    cases.push_back({"no-bounds", {rng.uniform({3, 4}, dtype)}, {}});
    cases.push_back({"min-above-max", {rng.uniform({3, 4}, dtype)}, {{"min", 0.5}, {"max", -0.5}}});
    return cases;
  };
}

dispatch::CaseFn clamp_backward_cases() {
  return [](DType dtype, uint64_t seed) {
    CaseRandom rng(seed);
    Attrs attrs{{"min", -0.5}, {"max", 0.5}};
    std::vector<OpCase> cases;
    cases.push_back({"matrix", {rng.uniform({3, 4}, dtype), rng.uniform({3, 4}, dtype)}, attrs});
    cases.push_back({"empty", {rng.uniform({0, 2}, dtype), rng.uniform({0, 2}, dtype)}, attrs});
    cases.push_back(
        {"non-contiguous",
         {non_contiguous(rng.uniform({4, 3}, dtype)), non_contiguous(rng.uniform({4, 3}, dtype))},
         attrs});
    cases.push_back({"on-bounds",
                     {rng.uniform({4}, dtype),
                      Tensor::from_vector<double>({-0.5, 0.5, -0.6, 0.6}, {4}).to(dtype)},
                     attrs});
    return cases;
  };
}

OpDef saving_output(OpDef def) {
  def.save_inputs = false;
  def.save_outputs = true;
  return def;
}

const bool registered = [] {
  auto& r = dispatch::Registry::instance();
  r.add_op(saving_output(unary_def("exp", "e^input", exp_backward,
                                   unary_value_cases(uniform_values(-2.0, 2.0)), true)));
  r.add_op(unary_def("log", "natural logarithm", log_backward,
                     unary_value_cases(uniform_values(0.2, 3.0)), true));
  r.add_op(saving_output(unary_def("sqrt", "square root", sqrt_backward,
                                   unary_value_cases(uniform_values(0.2, 3.0)), true)));
  r.add_op(
      unary_def("abs", "|input|", abs_backward, unary_value_cases(away_from_zero_values()), false));
  r.add_op(unary_def("sign", "-1, 0 or +1 (NaN stays NaN)", nullptr,
                     unary_value_cases(uniform_values()), false));

  OpDef pow_def = unary_def("pow", "input^exponent (scalar exponent)", pow_backward,
                            unary_value_cases(uniform_values(0.5, 2.0), {{"exponent", 2.5}}), true);
  pow_def.schema.attrs = {{"exponent", AttrType::real, std::nullopt, "scalar power"}};
  auto base_cases = pow_def.cases;
  pow_def.cases = [base_cases](DType dtype, uint64_t seed) {
    auto cases = base_cases(dtype, seed);
    CaseRandom rng(seed + 1);
    for (double p : {0.0, 1.0, -1.5, 3.0}) {
      cases.push_back({fmt::format("exponent-{}", p),
                       {rng.uniform({2, 3}, dtype, 0.5, 2.0)},
                       {{"exponent", p}}});
    }
    cases.push_back({"integer-exponent-negative-base",
                     {rng.away_from_zero({5}, dtype, 0.3, 1.5)},
                     {{"exponent", 3.0}}});
    return cases;
  };
  r.add_op(std::move(pow_def));

  OpDef clamp_def =
      unary_def("clamp", "min(max(input, min), max)", clamp_backward, clamp_cases(), false);
  clamp_def.schema.attrs = {{"min", AttrType::real, -kInf, "lower bound (-inf: none)"},
                            {"max", AttrType::real, kInf, "upper bound (+inf: none)"}};
  r.add_op(std::move(clamp_def));

  OpDef clamp_bw;
  clamp_bw.schema = {
      "clamp_backward",
      {{"grad_output"}, {"input", false}},
      {{"min", AttrType::real, -kInf, "lower bound"}, {"max", AttrType::real, kInf, "upper bound"}},
      {{"grad_input"}},
      "grad_output where min <= input <= max, else 0"};
  clamp_bw.validate = [](const KernelContext& ctx) {
    check_same_dtype(ctx);
    OSPREY_CHECK_KIND(shape, ctx.input(0).shape() == ctx.input(1).shape(),
                      "clamp_backward: grad_output {} and input {} differ in shape",
                      ctx.input(0).describe(), ctx.input(1).describe());
  };
  clamp_bw.backward = clamp_backward_backward;
  clamp_bw.cases = clamp_backward_cases();
  r.add_op(std::move(clamp_bw));
  return true;
}();

}  // namespace

namespace {
// The C++ functions promote integral inputs of the floating-only ops to f32.
Tensor floating(const Tensor& input) {
  return is_floating(input.dtype()) ? input : input.to(DType::f32);
}
}  // namespace

Tensor exp(const Tensor& input) {
  return dispatch::call1("exp", {floating(input)});
}
Tensor log(const Tensor& input) {
  return dispatch::call1("log", {floating(input)});
}
Tensor sqrt(const Tensor& input) {
  return dispatch::call1("sqrt", {floating(input)});
}
Tensor abs(const Tensor& input) {
  return dispatch::call1("abs", {input});
}
Tensor sign(const Tensor& input) {
  return dispatch::call1("sign", {input});
}
Tensor pow(const Tensor& input, double exponent) {
  return dispatch::call1("pow", {floating(input)}, {{"exponent", exponent}});
}
Tensor clamp(const Tensor& input, double min, double max) {
  return dispatch::call1("clamp", {input}, {{"min", min}, {"max", max}});
}
Tensor clamp_min(const Tensor& input, double min) {
  return clamp(input, min, kInf);
}
Tensor clamp_max(const Tensor& input, double max) {
  return clamp(input, -kInf, max);
}

}  // namespace osprey::ops
