// Schemas, derivatives and cases of relu, sigmoid, tanh, softplus and their backward ops.
#include "ops/activation/activation.h"

#include "framework/dispatch/registry.h"
#include "ops/elementwise/compare.h"
#include "ops/elementwise/elementwise.h"
#include "ops/elementwise/elementwise_cases.h"
#include "ops/elementwise/where.h"
#include "ops/factory/factory.h"

namespace osprey::ops {
namespace {

Attrs softplus_attrs(const Attrs& attrs) {
  return {{"beta", attrs.get_float("beta")}, {"threshold", attrs.get_float("threshold")}};
}

// --- forward ops ---

std::vector<Tensor> relu_grads(const BackwardContext& ctx) {
  return {threshold_backward(ctx.grad_output(), ctx.output(0), 0.0)};
}
std::vector<Tensor> sigmoid_grads(const BackwardContext& ctx) {
  return {sigmoid_backward(ctx.grad_output(), ctx.output(0))};
}
std::vector<Tensor> tanh_grads(const BackwardContext& ctx) {
  return {tanh_backward(ctx.grad_output(), ctx.output(0))};
}
std::vector<Tensor> softplus_grads(const BackwardContext& ctx) {
  return {dispatch::call1("softplus_backward", {ctx.grad_output(), ctx.input(0)},
                          softplus_attrs(ctx.attrs))};
}

OpDef activation_def(const char* name, const char* doc, dispatch::BackwardFn backward,
                     dispatch::CaseFn cases, bool saves_output, bool floating_only) {
  OpDef def;
  def.schema = {name, {{"input"}}, {}, {{"output"}}, doc};
  if (floating_only) def.validate = [](const KernelContext& ctx) { check_floating(ctx, 0); };
  def.backward = std::move(backward);
  def.save_inputs = !saves_output;
  def.save_outputs = saves_output;
  def.cases = std::move(cases);
  return def;
}

// --- backward ops: (grad_output, saved) -> grad_input; all linear in grad_output ---

std::vector<Tensor> threshold_backward_grads(const BackwardContext& ctx) {
  std::vector<Tensor> grads(2);
  if (ctx.needs_grad(0)) {
    grads[0] =
        threshold_backward(ctx.grad_output(), ctx.input(1), ctx.attrs.get_float("threshold"));
  }
  return grads;
}

// sigmoid_backward(g, y) = g*y*(1-y): d/dg = gg*y*(1-y), d/dy = gg*g*(1-2y).
std::vector<Tensor> sigmoid_backward_grads(const BackwardContext& ctx) {
  const Tensor& gg = ctx.grad_output();
  const Tensor& g = ctx.input(0);
  const Tensor& y = ctx.input(1);
  std::vector<Tensor> grads(2);
  if (ctx.needs_grad(0)) grads[0] = sigmoid_backward(gg, y);
  if (ctx.needs_grad(1)) grads[1] = mul(mul(gg, g), affine(y, -2.0, 1.0));
  return grads;
}

// tanh_backward(g, y) = g*(1-y^2): d/dg = gg*(1-y^2), d/dy = -2*gg*g*y.
std::vector<Tensor> tanh_backward_grads(const BackwardContext& ctx) {
  const Tensor& gg = ctx.grad_output();
  const Tensor& g = ctx.input(0);
  const Tensor& y = ctx.input(1);
  std::vector<Tensor> grads(2);
  if (ctx.needs_grad(0)) grads[0] = tanh_backward(gg, y);
  if (ctx.needs_grad(1)) grads[1] = mul(mul(gg, g), affine(y, -2.0));
  return grads;
}

// softplus_backward(g, x) = g*s with s = sigmoid(beta*x) (g above the threshold):
// d/dg = softplus_backward(gg, x), d/dx = gg*g*beta*s*(1-s) below the threshold, 0 above.
std::vector<Tensor> softplus_backward_grads(const BackwardContext& ctx) {
  const Tensor& gg = ctx.grad_output();
  const Tensor& g = ctx.input(0);
  const Tensor& x = ctx.input(1);
  double beta = ctx.attrs.get_float("beta"), threshold = ctx.attrs.get_float("threshold");
  std::vector<Tensor> grads(2);
  if (ctx.needs_grad(0)) grads[0] = softplus_backward(gg, x, beta, threshold);
  if (ctx.needs_grad(1)) {
    Tensor bx = affine(x, beta);
    Tensor curve = affine(sigmoid_backward(mul(gg, g), sigmoid(bx)), beta);
    grads[1] = where(le(bx, full({}, threshold, bx.dtype(), bx.device())), curve, 0.0);
  }
  return grads;
}

void validate_backward_op(const KernelContext& ctx) {
  check_same_dtype(ctx);
  check_floating(ctx, 0);
  OSPREY_CHECK_KIND(shape, ctx.input(0).shape() == ctx.input(1).shape(),
                    "{}: grad_output {} and {} {} differ in shape", ctx.op().schema.name,
                    ctx.input(0).describe(), ctx.op().schema.inputs[1].name,
                    ctx.input(1).describe());
}

using PairGen = std::function<std::pair<Tensor, Tensor>(CaseRandom&, const Shape&, DType)>;

// (grad_output, saved) pairs in the usual layouts.
dispatch::CaseFn backward_cases(ValueGen saved, Attrs attrs = {}) {
  return [saved = std::move(saved), attrs = std::move(attrs)](DType dtype, uint64_t seed) {
    CaseRandom rng(seed);
    std::vector<OpCase> cases;
    auto add = [&](const char* name, const Shape& shape, bool strided, bool values_only = false) {
      Tensor g = rng.uniform(shape, dtype), s = saved(rng, shape, dtype);
      if (strided) g = non_contiguous(g), s = non_contiguous(s);
      cases.push_back({name, {g, s}, attrs, values_only});
    };
    add("matrix", {3, 4}, false);
    add("scalar", {}, false);
    add("empty", {0, 3}, false);
    add("non-contiguous", {4, 3}, true);
    add("large", {70000}, false, true);
    return cases;
  };
}

OpDef backward_def(const char* name, const char* saved_name, bool saved_differentiable,
                   dispatch::BackwardFn backward, dispatch::CaseFn cases, const char* doc) {
  OpDef def;
  def.schema = {
      name, {{"grad_output"}, {saved_name, saved_differentiable}}, {}, {{"grad_input"}}, doc};
  def.validate = validate_backward_op;
  def.backward = std::move(backward);
  def.cases = std::move(cases);
  return def;
}

std::vector<AttrSpec> softplus_schema_attrs() {
  return {{"beta", AttrType::real, 1.0, "scale of the input inside the curve"},
          {"threshold", AttrType::real, 20.0, "linear where beta*input exceeds this"}};
}

dispatch::CaseFn softplus_cases() {
  return [](DType dtype, uint64_t seed) {
    auto cases = unary_value_cases(uniform_values(-3.0, 3.0))(dtype, seed);
    CaseRandom rng(seed + 1);
    // beta*x crosses the threshold inside the range: both branches, away from the jump.
    cases.push_back({"beta-and-threshold",
                     {rng.away_from_zero({3, 4}, dtype, 0.1, 2.0)},
                     {{"beta", 2.0}, {"threshold", 0.0}}});
    cases.push_back({"large-values", {rng.uniform({2, 3}, dtype, 25.0, 40.0)}, {}});
    cases.push_back({"very-negative", {rng.uniform({2, 3}, dtype, -60.0, -30.0)}, {}});
    return cases;
  };
}

const bool registered = [] {
  auto& r = dispatch::Registry::instance();
  r.add_op(activation_def("relu", "max(input, 0)", relu_grads,
                          unary_value_cases(away_from_zero_values()), true, false));
  r.add_op(activation_def("sigmoid", "1 / (1 + exp(-input))", sigmoid_grads,
                          unary_value_cases(uniform_values(-4.0, 4.0)), true, true));
  r.add_op(activation_def("tanh", "hyperbolic tangent", tanh_grads,
                          unary_value_cases(uniform_values(-3.0, 3.0)), true, true));
  OpDef softplus =
      activation_def("softplus", "log(1 + exp(beta*input)) / beta; linear above threshold",
                     softplus_grads, softplus_cases(), false, true);
  softplus.schema.attrs = softplus_schema_attrs();
  r.add_op(std::move(softplus));

  OpDef threshold = backward_def(
      "threshold_backward", "input", false, threshold_backward_grads,
      backward_cases(away_from_zero_values(), {{"threshold", 0.0}}),
      "grad_output where input > threshold, else 0 (relu's backward, given relu's output)");
  threshold.schema.attrs = {
      {"threshold", AttrType::real, 0.0, "gradient passes where input > threshold"}};
  r.add_op(std::move(threshold));
  r.add_op(backward_def("sigmoid_backward", "output", true, sigmoid_backward_grads,
                        backward_cases(uniform_values(0.05, 0.95)),
                        "grad_output * output * (1 - output)"));
  r.add_op(backward_def("tanh_backward", "output", true, tanh_backward_grads,
                        backward_cases(uniform_values(-0.95, 0.95)),
                        "grad_output * (1 - output^2)"));
  OpDef softplus_bw =
      backward_def("softplus_backward", "input", true, softplus_backward_grads,
                   backward_cases(uniform_values(-3.0, 3.0)),
                   "grad_output * sigmoid(beta*input); grad_output above threshold");
  softplus_bw.schema.attrs = softplus_schema_attrs();
  r.add_op(std::move(softplus_bw));
  return true;
}();

}  // namespace

Tensor relu(const Tensor& input) {
  return dispatch::call1("relu", {input});
}
Tensor sigmoid(const Tensor& input) {
  return dispatch::call1("sigmoid", {input});
}
Tensor tanh(const Tensor& input) {
  return dispatch::call1("tanh", {input});
}
Tensor softplus(const Tensor& input, double beta, double threshold) {
  return dispatch::call1("softplus", {input}, {{"beta", beta}, {"threshold", threshold}});
}

Tensor threshold_backward(const Tensor& grad_output, const Tensor& input, double threshold) {
  return dispatch::call1("threshold_backward", {grad_output, input}, {{"threshold", threshold}});
}
Tensor sigmoid_backward(const Tensor& grad_output, const Tensor& output) {
  return dispatch::call1("sigmoid_backward", {grad_output, output});
}
Tensor tanh_backward(const Tensor& grad_output, const Tensor& output) {
  return dispatch::call1("tanh_backward", {grad_output, output});
}
Tensor softplus_backward(const Tensor& grad_output, const Tensor& input, double beta,
                         double threshold) {
  return dispatch::call1("softplus_backward", {grad_output, input},
                         {{"beta", beta}, {"threshold", threshold}});
}

}  // namespace osprey::ops
