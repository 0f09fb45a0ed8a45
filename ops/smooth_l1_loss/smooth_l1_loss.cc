// Schemas, argument checks, derivative and cases of smooth_l1_loss and smooth_l1_loss_backward
// (math in smooth_l1_loss.h).
#include "ops/smooth_l1_loss/smooth_l1_loss.h"

#include <cmath>

#include "framework/dispatch/registry.h"
#include "ops/common/case_helpers.h"
#include "ops/common/op_helpers.h"
#include "ops/common/weighted_elementwise_loss.h"
#include "ops/elementwise/elementwise.h"

namespace osprey::ops {
namespace {

// The op's own attributes (operands, reduction and grad_output: weighted_loss::validate).
void check_attrs(const KernelContext& ctx) {
  const char* op = ctx.op().schema.name.c_str();
  const double beta = ctx.attrs().get_float("beta");
  OSPREY_CHECK(std::isfinite(beta) && beta >= 0.0, "{}: beta must be finite and >= 0, got {}", op,
               beta);
}

SmoothL1LossOptions options_of(const Attrs& attrs, Tensor weight) {
  return {std::move(weight), attrs.get_float("beta"), attrs.get_string("reduction")};
}

std::vector<Tensor> smooth_l1_loss_grad(const BackwardContext& ctx) {
  std::vector<Tensor> grads(3);
  if (ctx.needs_grad(0) || ctx.needs_grad(1)) {
    const Tensor weight = ctx.input_defined[2] ? ctx.input(2) : Tensor{};
    Tensor g = smooth_l1_loss_backward(ctx.grad_output(), ctx.input(0), ctx.input(1),
                                       options_of(ctx.attrs, weight));
    if (ctx.needs_grad(1)) grads[1] = neg(g);
    if (ctx.needs_grad(0)) grads[0] = g;
  }
  return grads;
}

Attrs attrs_of(const std::string& reduction, double beta = 1.0) {
  return Attrs{{"beta", beta}, {"reduction", reduction}};
}

// Forward cases; the backward op's cases prepend a matching grad_output (register_op_pair).
// Differences are drawn from [-2, 2) so that both branches of the loss are exercised.
std::vector<OpCase> forward_cases(DType dtype, uint64_t seed) {
  CaseRandom rng(seed);
  auto values = [&](const Shape& s) { return rng.uniform(s, dtype, -1, 1); };
  auto weights = [&](const Shape& s) { return rng.uniform(s, dtype, 0, 2); };
  Tensor masked = Tensor::from_vector<double>({1, 0, 1, 0, 1, 1}, {2, 3}).to(dtype);
  return {
      {"mean", {values({3, 4}), values({3, 4}), {}}, attrs_of("mean")},
      {"sum", {values({3, 4}), values({3, 4}), {}}, attrs_of("sum")},
      {"none", {values({3, 4}), values({3, 4}), {}}, attrs_of("none")},
      {"weight-sum", {values({4, 4}), values({4, 4}), weights({4, 4})}, attrs_of("sum")},
      {"weight-none", {values({2, 3}), values({2, 3}), masked}, attrs_of("none")},
      {"weight-mean", {values({5, 4}), values({5, 4}), weights({5, 4})}, attrs_of("mean", 0.5)},
      {"beta-small", {values({3, 4}), values({3, 4}), {}}, attrs_of("sum", 0.1)},
      {"l1", {values({3, 4}), values({3, 4}), weights({3, 4})}, attrs_of("sum", 0.0)},
      {"boxes",
       {values({2, 4, 3, 3}), values({2, 4, 3, 3}), weights({2, 4, 3, 3})},
       attrs_of("none", 1.0 / 9)},
      {"non-contiguous",
       {non_contiguous(values({4, 3})), values({4, 3}), non_contiguous(weights({4, 3}))},
       attrs_of("none")},
      {"one-d", {values({7}), non_contiguous(values({7})), {}}, attrs_of("mean")},
      {"scalar", {values({}), values({}), {}}, attrs_of("sum")},
      {"empty-sum", {values({0, 4}), values({0, 4}), weights({0, 4})}, attrs_of("sum")},
      {"empty-none", {values({0, 4}), values({0, 4}), {}}, attrs_of("none")},
      {"large", {values({64, 100}), values({64, 100}), weights({64, 100})}, attrs_of("mean"), true},
  };
}

std::vector<AttrSpec> attr_specs() {
  return {{"beta", AttrType::real, 1.0, "|d| below which the loss is quadratic (0: L1)"},
          {"reduction", AttrType::string, std::string("mean"), "'mean', 'sum' or 'none'"}};
}

const bool registered = [] {
  weighted_loss::register_op_pair(
      {"smooth_l1_loss", true, attr_specs(), check_attrs, smooth_l1_loss_grad, forward_cases,
       "weighted smooth L1 (Huber) loss between input and target",
       "s * w * huber'(input - target): the input gradient of smooth_l1_loss"});
  return true;
}();

Attrs call_attrs(const SmoothL1LossOptions& o) {
  return attrs_of(o.reduction, o.beta);
}

}  // namespace

Tensor smooth_l1_loss(const Tensor& input, const Tensor& target,
                      const SmoothL1LossOptions& options) {
  return dispatch::call1("smooth_l1_loss", {input, target, options.weight}, call_attrs(options));
}

Tensor smooth_l1_loss_backward(const Tensor& grad_output, const Tensor& input, const Tensor& target,
                               const SmoothL1LossOptions& options) {
  return dispatch::call1("smooth_l1_loss_backward", {grad_output, input, target, options.weight},
                         call_attrs(options));
}

}  // namespace osprey::ops
