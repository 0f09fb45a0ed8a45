// Schema, shape rule, derivative and cases of add_relu (math in add_relu.h).
#include "ops/add_relu/add_relu.h"

#include "framework/dispatch/registry.h"
#include "ops/activation/activation.h"
#include "ops/common/case_helpers.h"
#include "ops/common/op_helpers.h"
#include "ops/elementwise/elementwise.h"

namespace osprey::ops {
namespace {

void validate(const KernelContext& ctx) {
  check_same_dtype(ctx);
  check_floating(ctx, 0);
  broadcast_shapes(ctx.input(0).shape(), ctx.input(1).shape(), "add_relu");
}

std::vector<Tensor> add_relu_grads(const BackwardContext& ctx) {
  const Tensor masked = threshold_backward(ctx.grad_output(), ctx.output(0), 0.0);
  std::vector<Tensor> grads(2);
  if (ctx.needs_grad(0)) grads[0] = sum_to(masked, ctx.input_shapes[0]);
  if (ctx.needs_grad(1)) grads[1] = sum_to(masked, ctx.input_shapes[1]);
  return grads;
}

std::vector<OpCase> cases(DType dtype, uint64_t seed) {
  CaseRandom rng(seed);
  auto u = [&](const Shape& s) { return rng.uniform(s, dtype, -2, 2); };
  auto cl = [&](const Shape& s) { return u(s).contiguous(MemoryFormat::channels_last); };
  return {
      {"same-shape", {u({3, 4}), u({3, 4})}, {}},
      {"image", {u({2, 3, 4, 5}), u({2, 3, 4, 5})}, {}},
      {"channels-last", {cl({2, 3, 4, 5}), cl({2, 3, 4, 5})}, {}},
      {"mixed-layouts", {cl({2, 3, 2, 2}), u({2, 3, 2, 2})}, {}},
      {"broadcast", {u({2, 3, 4}), u({3, 1})}, {}},
      {"scalar-other", {u({2, 3}), u({})}, {}},
      {"non-contiguous", {non_contiguous(u({4, 3})), non_contiguous(u({4, 3}))}, {}},
      {"empty", {u({0, 3}), u({1, 3})}, {}},
      {"large", {u({8, 16, 28, 28}), u({8, 16, 28, 28})}, {}, true},
      {"large-channels-last", {cl({8, 16, 28, 28}), cl({8, 16, 28, 28})}, {}, true},
  };
}

const bool registered = [] {
  OpDef def;
  def.schema.name = "add_relu";
  def.schema.inputs = {{"input"}, {"other"}};
  def.schema.outputs = {{"output"}};
  def.schema.doc = "relu(input + other): a residual join in one pass";
  def.validate = validate;
  def.backward = add_relu_grads;
  def.save_inputs = false;  // the mask comes from the output; only the input shapes are kept
  def.save_outputs = true;
  def.cases = cases;
  dispatch::Registry::instance().add_op(std::move(def));
  return true;
}();

}  // namespace

Tensor add_relu(const Tensor& input, const Tensor& other) {
  const DType common = promote_types(input.dtype(), other.dtype());
  return dispatch::call1("add_relu", {input.to(common), other.to(common)});
}

}  // namespace osprey::ops
