// Schemas, argument checks, derivative and cases of sigmoid_focal_loss and
// sigmoid_focal_loss_backward (math in sigmoid_focal_loss.h).
#include "ops/sigmoid_focal_loss/sigmoid_focal_loss.h"

#include <cmath>

#include "framework/dispatch/registry.h"
#include "ops/common/case_helpers.h"
#include "ops/common/op_helpers.h"
#include "ops/common/weighted_elementwise_loss.h"

namespace osprey::ops {
namespace {

// The op's own attributes (operands, reduction and grad_output: weighted_loss::validate).
void check_attrs(const KernelContext& ctx) {
  const char* op = ctx.op().schema.name.c_str();
  const double alpha = ctx.attrs().get_float("alpha");
  OSPREY_CHECK(alpha < 0.0 || alpha <= 1.0,
               "{}: alpha must be in [0, 1] (or < 0 for no class balancing), got {}", op, alpha);
  const double gamma = ctx.attrs().get_float("gamma");
  OSPREY_CHECK(std::isfinite(gamma) && gamma >= 0.0, "{}: gamma must be finite and >= 0, got {}",
               op, gamma);
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

// Forward cases; the backward op's cases prepend a matching grad_output (register_op_pair).
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

std::vector<AttrSpec> attr_specs() {
  return {{"alpha", AttrType::real, 0.25, "weight of positives (1 - alpha: negatives); < 0: none"},
          {"gamma", AttrType::real, 2.0, "focusing exponent on (1 - p_t); 0: cross-entropy"},
          {"reduction", AttrType::string, std::string("none"), "'none', 'mean' or 'sum'"}};
}

const bool registered = [] {
  weighted_loss::register_op_pair(
      {"sigmoid_focal_loss", false, attr_specs(), check_attrs, sigmoid_focal_loss_grad,
       forward_cases,
       "weighted sigmoid focal loss on logits (gamma 0, alpha < 0: binary "
       "cross-entropy)",
       "the input gradient of sigmoid_focal_loss"});
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
