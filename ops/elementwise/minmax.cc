// Schemas, derivatives and cases of maximum, minimum and maximum_backward.
#include "framework/dispatch/registry.h"
#include "ops/common/case_helpers.h"
#include "ops/common/op_helpers.h"
#include "ops/elementwise/binary_math.h"

namespace osprey::ops {
namespace {

void validate_binary(const KernelContext& ctx) {
  check_same_dtype(ctx);
  broadcast_input_shapes(ctx);
}

Tensor select_grad(const Tensor& g, const Tensor& chosen, const Tensor& rival) {
  return dispatch::call1("maximum_backward", {g, chosen, rival});
}

// Each input's share is maximum_backward(g, it, rival) for maximum; minimum swaps the two, so the
// smaller one gets the gradient.
std::vector<Tensor> pick_grads(const BackwardContext& ctx, bool largest) {
  const Tensor& g = ctx.grad_output();
  const Tensor& a = ctx.input(0);
  const Tensor& b = ctx.input(1);
  std::vector<Tensor> grads(2);
  if (ctx.needs_grad(0)) {
    grads[0] = sum_to(largest ? select_grad(g, a, b) : select_grad(g, b, a), ctx.input_shapes[0]);
  }
  if (ctx.needs_grad(1)) {
    grads[1] = sum_to(largest ? select_grad(g, b, a) : select_grad(g, a, b), ctx.input_shapes[1]);
  }
  return grads;
}

std::vector<Tensor> maximum_grads(const BackwardContext& ctx) {
  return pick_grads(ctx, true);
}

std::vector<Tensor> minimum_grads(const BackwardContext& ctx) {
  return pick_grads(ctx, false);
}

// Linear in grad_output; input and other only select. grad_output may be smaller than the
// broadcast of the three (the output has the broadcast shape), hence the sum_to.
std::vector<Tensor> maximum_backward_grads(const BackwardContext& ctx) {
  std::vector<Tensor> grads(3);
  if (ctx.needs_grad(0)) {
    grads[0] =
        sum_to(select_grad(ctx.grad_output(), ctx.input(1), ctx.input(2)), ctx.input_shapes[0]);
  }
  return grads;
}

// Values on a coarse grid so that ties are frequent, except in the gradient-checked inputs of
// maximum/minimum themselves, where ties would make central differences see the kink.
std::vector<OpCase> minmax_cases(DType dtype, uint64_t seed) {
  CaseRandom rng(seed);
  std::vector<OpCase> cases;
  cases.push_back({"same-shape", {rng.uniform({3, 4}, dtype), rng.uniform({3, 4}, dtype)}, {}});
  cases.push_back({"broadcast-row", {rng.uniform({3, 4}, dtype), rng.uniform({4}, dtype)}, {}});
  cases.push_back(
      {"broadcast-both", {rng.uniform({3, 1, 2}, dtype), rng.uniform({1, 5, 1}, dtype)}, {}});
  cases.push_back({"scalar", {rng.uniform({2, 3}, dtype), rng.uniform({}, dtype)}, {}});
  cases.push_back({"empty", {rng.uniform({0, 3}, dtype), rng.uniform({1, 3}, dtype)}, {}});
  cases.push_back(
      {"non-contiguous",
       {non_contiguous(rng.uniform({4, 3}, dtype)), non_contiguous(rng.uniform({4, 3}, dtype))},
       {}});
  Tensor a = rng.uniform({2, 3}, dtype);
  cases.push_back({"ties", {a, a.clone()}, {}, true});
  cases.push_back({"large", {rng.uniform({70000}, dtype), rng.uniform({70000}, dtype)}, {}, true});
  return cases;
}

std::vector<OpCase> maximum_backward_cases(DType dtype, uint64_t seed) {
  CaseRandom rng(seed);
  auto grid = [&](const Shape& s) {  // values in {-1, 0, 1}: many ties
    return rng.uniform(s, DType::i32, -1.0, 2.0).to(dtype);
  };
  std::vector<OpCase> cases;
  cases.push_back({"same-shape", {rng.uniform({3, 4}, dtype), grid({3, 4}), grid({3, 4})}, {}});
  cases.push_back({"broadcast", {rng.uniform({3, 4}, dtype), grid({3, 1}), grid({4})}, {}});
  cases.push_back({"broadcast-grad", {rng.uniform({4}, dtype), grid({3, 4}), grid({3, 4})}, {}});
  cases.push_back({"empty", {rng.uniform({0, 2}, dtype), grid({0, 2}), grid({2})}, {}});
  cases.push_back(
      {"non-contiguous",
       {non_contiguous(rng.uniform({4, 3}, dtype)), non_contiguous(grid({4, 3})), grid({4, 3})},
       {}});
  return cases;
}

OpDef minmax_def(const char* name, dispatch::BackwardFn backward, const char* doc) {
  OpDef def;
  def.schema = {name, {{"input"}, {"other"}}, {}, {{"output"}}, doc};
  def.validate = validate_binary;
  def.backward = std::move(backward);
  def.cases = minmax_cases;
  return def;
}

const bool registered = [] {
  auto& r = dispatch::Registry::instance();
  r.add_op(minmax_def("maximum", maximum_grads, "larger of input and other; NaN propagates"));
  r.add_op(minmax_def("minimum", minimum_grads, "smaller of input and other; NaN propagates"));
  OpDef bw;
  bw.schema = {"maximum_backward",
               {{"grad_output"}, {"input", false}, {"other", false}},
               {},
               {{"grad_input"}},
               "grad_output * (1 if input > other, 1/2 if equal, else 0), broadcasting"};
  bw.validate = validate_binary;
  bw.backward = maximum_backward_grads;
  bw.cases = maximum_backward_cases;
  r.add_op(std::move(bw));
  return true;
}();

std::pair<Tensor, Tensor> promoted(const Tensor& a, const Tensor& b) {
  DType d = promote_types(a.dtype(), b.dtype());
  return {a.to(d), b.to(d)};
}

}  // namespace

Tensor maximum(const Tensor& input, const Tensor& other) {
  auto [a, b] = promoted(input, other);
  return dispatch::call1("maximum", {a, b});
}
Tensor minimum(const Tensor& input, const Tensor& other) {
  auto [a, b] = promoted(input, other);
  return dispatch::call1("minimum", {a, b});
}

}  // namespace osprey::ops
