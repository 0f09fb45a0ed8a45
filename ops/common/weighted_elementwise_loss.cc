// Argument checks and case helpers shared by the weighted element-wise losses
// (see weighted_elementwise_loss.h).
#include "ops/common/weighted_elementwise_loss.h"

#include <utility>

#include "framework/dispatch/registry.h"
#include "ops/common/case_helpers.h"

namespace osprey::ops::weighted_loss {

void validate(const KernelContext& ctx, int first, void (*check_attrs)(const KernelContext&)) {
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
  check_attrs(ctx);
  const std::string& reduction = ctx.attrs().get_string("reduction");
  OSPREY_CHECK(reduction == "mean" || reduction == "sum" || reduction == "none",
               "{}: reduction must be 'mean', 'sum' or 'none', got '{}'", op, reduction);
  if (first == 0) return;
  const Tensor& g = ctx.input(0);
  const bool none = reduction == "none";
  const Shape expected = none ? input.shape() : Shape{};
  OSPREY_CHECK_KIND(shape, g.shape() == expected,
                    "{}: grad_output {} must be shaped like the loss ({} for reduction '{}')", op,
                    g.describe(), none ? "input's shape" : "a scalar", reduction);
}

std::vector<OpCase> with_grad_output(std::vector<OpCase> cases, DType dtype, uint64_t seed) {
  CaseRandom rng(seed + 1);
  for (auto& c : cases) {
    const bool none = c.attrs.get_string("reduction") == "none";
    c.inputs.insert(c.inputs.begin(), rng.uniform(none ? c.inputs[0].shape() : Shape{}, dtype));
  }
  return cases;
}

double grad_scale(const KernelContext& ctx, const Tensor& input) {
  const bool mean = ctx.attrs().get_string("reduction") == "mean";
  return mean ? 1.0 / static_cast<double>(input.numel()) : 1.0;
}

Tensor weight_or_one(const Tensor& weight, const Tensor& like) {
  return weight.defined() ? weight : Tensor::empty({}, like.dtype(), like.device()).fill_(1.0);
}

void register_op_pair(OpPair pair) {
  auto& r = dispatch::Registry::instance();
  const InputSpec target{"target", pair.target_differentiable};
  const InputSpec weight{"weight", false, true};
  const auto check_attrs = pair.check_attrs;
  OpDef forward;
  forward.schema = {pair.name, {{"input"}, target, weight}, pair.attrs, {{"output"}}, pair.doc};
  forward.validate = [check_attrs](const KernelContext& ctx) { validate(ctx, 0, check_attrs); };
  forward.backward = std::move(pair.derivative);
  forward.cases = pair.forward_cases;
  r.add_op(std::move(forward));

  OpDef backward;
  backward.schema = {pair.name + "_backward",
                     {{"grad_output"}, {"input"}, target, weight},
                     pair.attrs,
                     {{"grad_input"}},
                     pair.backward_doc};
  backward.validate = [check_attrs](const KernelContext& ctx) { validate(ctx, 1, check_attrs); };
  backward.cases = [cases = pair.forward_cases](DType dtype, uint64_t seed) {
    return with_grad_output(cases(dtype, seed), dtype, seed);
  };
  r.add_op(std::move(backward));
}

}  // namespace osprey::ops::weighted_loss
