// Schema, derivative and cases of where.
#include "ops/elementwise/where.h"

#include "framework/dispatch/registry.h"
#include "ops/common/case_helpers.h"
#include "ops/common/op_helpers.h"
#include "ops/factory/factory.h"

namespace osprey::ops {
namespace {

void validate_where(const KernelContext& ctx) {
  if (ctx.input(0).dtype() != DType::boolean) {
    OSPREY_THROW(dtype, "op 'where': condition must be bool, got {}", ctx.input(0).describe());
  }
  if (ctx.input(1).dtype() != ctx.input(2).dtype()) {
    OSPREY_THROW(dtype, "op 'where': input is {} but other is {} (cast one first)",
                 ctx.input(1).describe(), ctx.input(2).describe());
  }
  broadcast_input_shapes(ctx);
}

std::vector<Tensor> where_backward(const BackwardContext& ctx) {
  const Tensor& g = ctx.grad_output();
  const Tensor& condition = ctx.input(0);
  Tensor zero = zeros({}, g.dtype(), g.device());
  std::vector<Tensor> grads(3);
  if (ctx.needs_grad(1)) grads[1] = sum_to(where(condition, g, zero), ctx.input_shapes[1]);
  if (ctx.needs_grad(2)) grads[2] = sum_to(where(condition, zero, g), ctx.input_shapes[2]);
  return grads;
}

Tensor random_condition(CaseRandom& rng, const Shape& shape) {
  return rng.uniform(shape, DType::i32, 0.0, 2.0).to(DType::boolean);
}

std::vector<OpCase> where_cases(DType dtype, uint64_t seed) {
  CaseRandom rng(seed);
  std::vector<OpCase> cases;
  auto add = [&](const char* name, const Shape& c, const Shape& a, const Shape& b) {
    cases.push_back(
        {name, {random_condition(rng, c), rng.uniform(a, dtype), rng.uniform(b, dtype)}, {}});
  };
  add("same-shape", {3, 4}, {3, 4}, {3, 4});
  add("broadcast-condition", {4}, {3, 4}, {3, 4});
  add("broadcast-all", {3, 1, 1}, {1, 4, 1}, {1, 1, 2});
  add("scalar-other", {2, 3}, {2, 3}, {});
  add("empty", {0, 3}, {0, 3}, {1, 3});
  cases.push_back(
      {"non-contiguous",
       {non_contiguous(random_condition(rng, {4, 3})), non_contiguous(rng.uniform({4, 3}, dtype)),
        non_contiguous(rng.uniform({4, 3}, dtype))},
       {}});
  cases.push_back(
      {"large",
       {random_condition(rng, {70000}), rng.uniform({70000}, dtype), rng.uniform({70000}, dtype)},
       {},
       true});
  return cases;
}

const bool registered = [] {
  OpDef def;
  def.schema = {"where",
                {{"condition", false}, {"input"}, {"other"}},
                {},
                {{"output"}},
                "input where condition, else other (broadcasting)"};
  def.validate = validate_where;
  def.backward = where_backward;
  def.cases = where_cases;
  dispatch::Registry::instance().add_op(std::move(def));
  return true;
}();

}  // namespace

Tensor where(const Tensor& condition, const Tensor& input, const Tensor& other) {
  DType d = promote_types(input.dtype(), other.dtype());
  return dispatch::call1("where", {condition, input.to(d), other.to(d)});
}

Tensor where(const Tensor& condition, const Tensor& input, double other) {
  return where(condition, input, full({}, other, input.dtype(), input.device()));
}

}  // namespace osprey::ops
