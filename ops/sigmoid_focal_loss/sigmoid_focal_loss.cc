// Schemas, argument checks, derivative and cases of sigmoid_focal_loss and
// sigmoid_focal_loss_backward (math in sigmoid_focal_loss.h).
#include "ops/sigmoid_focal_loss/sigmoid_focal_loss.h"

#include <cmath>

#include "framework/dispatch/registry.h"
#include "ops/common/case_helpers.h"
#include "ops/common/op_helpers.h"

namespace osprey::ops {
namespace {

// Checks input/target/weight (at `first`, first + 1, first + 2) and the attributes.
void check_common(const KernelContext& ctx, int first) {
  const char* op = ctx.op().schema.name.c_str();
  const Tensor& input = ctx.input(first);
  check_floating(ctx, first);
  check_same_dtype(ctx);
  const char* names[] = {"target", "weight"};
  for (int i = 1; i <= 2; ++i) {
    const Tensor& t = ctx.input(first + i);
    if (!t.defined()) continue;
    OSPREY_CHECK_KIND(shape, t.shape() == input.shape(), "{}: {} {} must have input's shape {}", op,
                      names[i - 1], t.describe(), input.describe());
  }
  const double alpha = ctx.attrs().get_float("alpha");
  OSPREY_CHECK(alpha < 0.0 || alpha <= 1.0,
               "{}: alpha must be in [0, 1] (or < 0 for no class balancing), got {}", op, alpha);
  const double gamma = ctx.attrs().get_float("gamma");
  OSPREY_CHECK(std::isfinite(gamma) && gamma >= 0.0, "{}: gamma must be finite and >= 0, got {}",
               op, gamma);
  const std::string& reduction = ctx.attrs().get_string("reduction");
  OSPREY_CHECK(reduction == "mean" || reduction == "sum" || reduction == "none",
               "{}: reduction must be 'mean', 'sum' or 'none', got '{}'", op, reduction);
}

void validate_forward(const KernelContext& ctx) {
  check_common(ctx, 0);
}

void validate_backward(const KernelContext& ctx) {
  check_common(ctx, 1);
  const char* op = ctx.op().schema.name.c_str();
  const Tensor& g = ctx.input(0);
  const bool none = ctx.attrs().get_string("reduction") == "none";
  const Shape expected = none ? ctx.input(1).shape() : Shape{};
  OSPREY_CHECK_KIND(shape, g.shape() == expected,
                    "{}: grad_output {} must be shaped like the loss ({} for reduction '{}')", op,
                    g.describe(), none ? "input's shape" : "a scalar",
                    ctx.attrs().get_string("reduction"));
}

SigmoidFocalLossOptions options_of(const Attrs& attrs, Tensor weight) {
  return {std::move(weight), attrs.get_float("alpha"), attrs.get_float("gamma"),
          attrs.get_string("reduction")};
}

std::vector<Tensor> sigmoid_focal_loss_grad(const BackwardContext& ctx) {
  std::vector<Tensor> grads(3);
  if (ctx.needs_grad(0)) {
    const Tensor weight = ctx.input_defined[2] ? ctx.input(2) : Tensor{};
    grads[0] = sigmoid_focal_loss_backward(ctx.grad_output(), ctx.input(0), ctx.input(1),
                                           options_of(ctx.attrs, weight));
  }
  return grads;
}

Attrs attrs_of(const std::string& reduction, double alpha = 0.25, double gamma = 2.0) {
  return Attrs{{"alpha", alpha}, {"gamma", gamma}, {"reduction", reduction}};
}

// Forward cases; the backward cases prepend a matching grad_output.
std::vector<OpCase> forward_cases(DType dtype, uint64_t seed) {
  CaseRandom rng(seed);
  auto logits = [&](const Shape& s) { return rng.uniform(s, dtype, -3, 3); };
  auto labels = [&](const Shape& s) { return rng.uniform(s, DType::i64, 0, 2).to(dtype); };
  auto soft = [&](const Shape& s) { return rng.uniform(s, dtype, 0, 1); };
  auto weights = [&](const Shape& s) { return rng.uniform(s, dtype, 0, 2); };
  return {
      {"none", {logits({3, 4}), labels({3, 4}), {}}, attrs_of("none")},
      {"sum", {logits({3, 4}), labels({3, 4}), {}}, attrs_of("sum")},
      {"mean", {logits({3, 4}), labels({3, 4}), weights({3, 4})}, attrs_of("mean")},
      {"soft-targets", {logits({4, 3}), soft({4, 3}), weights({4, 3})}, attrs_of("sum")},
      {"no-alpha", {logits({4, 3}), labels({4, 3}), {}}, attrs_of("sum", -1.0)},
      {"gamma-1", {logits({4, 3}), soft({4, 3}), {}}, attrs_of("none", 0.5, 1.0)},
      {"gamma-half", {logits({4, 3}), soft({4, 3}), {}}, attrs_of("sum", 0.25, 0.5)},
      {"cross-entropy",
       {logits({5, 2}), labels({5, 2}), weights({5, 2})},
       attrs_of("mean", -1.0, 0.0)},
      {"cross-entropy-soft", {logits({5, 2}), soft({5, 2}), {}}, attrs_of("none", -1.0, 0.0)},
      {"anchors",
       {logits({2, 3, 2, 2}), labels({2, 3, 2, 2}), weights({2, 3, 2, 2})},
       attrs_of("sum")},
      {"non-contiguous",
       {non_contiguous(logits({4, 3})), labels({4, 3}), non_contiguous(weights({4, 3}))},
       attrs_of("none")},
      {"large-logits",
       {rng.uniform({2, 3}, dtype, 20, 40), labels({2, 3}), {}},
       attrs_of("sum", 0.25, 2.0)},
      {"scalar", {logits({}), soft({}), {}}, attrs_of("sum")},
      {"empty-sum", {logits({0, 3}), labels({0, 3}), {}}, attrs_of("sum")},
      {"empty-none", {logits({0, 3}), labels({0, 3}), weights({0, 3})}, attrs_of("none")},
      {"large", {logits({64, 80}), labels({64, 80}), weights({64, 80})}, attrs_of("mean"), true},
  };
}

std::vector<OpCase> backward_cases(DType dtype, uint64_t seed) {
  CaseRandom rng(seed + 1);
  std::vector<OpCase> cases = forward_cases(dtype, seed);
  for (auto& c : cases) {
    const bool none = c.attrs.get_string("reduction") == "none";
    c.inputs.insert(c.inputs.begin(), rng.uniform(none ? c.inputs[0].shape() : Shape{}, dtype));
  }
  return cases;
}

std::vector<AttrSpec> attr_specs() {
  return {{"alpha", AttrType::real, 0.25, "weight of positives (1 - alpha: negatives); < 0: none"},
          {"gamma", AttrType::real, 2.0, "focusing exponent on (1 - p_t); 0: cross-entropy"},
          {"reduction", AttrType::string, std::string("none"), "'none', 'mean' or 'sum'"}};
}

const bool registered = [] {
  auto& r = dispatch::Registry::instance();
  InputSpec target{"target", false};
  InputSpec weight{"weight", false, true};
  OpDef forward;
  forward.schema = {"sigmoid_focal_loss",
                    {{"input"}, target, weight},
                    attr_specs(),
                    {{"output"}},
                    "weighted sigmoid focal loss on logits (gamma 0, alpha < 0: binary "
                    "cross-entropy)"};
  forward.validate = validate_forward;
  forward.backward = sigmoid_focal_loss_grad;
  forward.cases = forward_cases;
  r.add_op(std::move(forward));

  OpDef backward;
  backward.schema = {"sigmoid_focal_loss_backward",
                     {{"grad_output"}, {"input"}, target, weight},
                     attr_specs(),
                     {{"grad_input"}},
                     "the input gradient of sigmoid_focal_loss"};
  backward.validate = validate_backward;
  backward.cases = backward_cases;
  r.add_op(std::move(backward));
  return true;
}();

Attrs call_attrs(const SigmoidFocalLossOptions& o) {
  return attrs_of(o.reduction, o.alpha, o.gamma);
}

}  // namespace

Tensor sigmoid_focal_loss(const Tensor& input, const Tensor& target,
                          const SigmoidFocalLossOptions& options) {
  return dispatch::call1("sigmoid_focal_loss", {input, target, options.weight},
                         call_attrs(options));
}

Tensor sigmoid_focal_loss_backward(const Tensor& grad_output, const Tensor& input,
                                   const Tensor& target, const SigmoidFocalLossOptions& options) {
  return dispatch::call1("sigmoid_focal_loss_backward",
                         {grad_output, input, target, options.weight}, call_attrs(options));
}

Tensor sigmoid_cross_entropy(const Tensor& input, const Tensor& target, const Tensor& weight,
                             const std::string& reduction) {
  return sigmoid_focal_loss(input, target, {weight, -1.0, 0.0, reduction});
}

}  // namespace osprey::ops
