// Schemas, shape rules and derivatives of add, sub, mul, div and affine.
#include "framework/dispatch/registry.h"
#include "ops/common/case_helpers.h"
#include "ops/common/op_helpers.h"
#include "ops/elementwise/elementwise.h"

namespace osprey::ops {
namespace {

std::pair<Tensor, Tensor> promoted(const Tensor& a, const Tensor& b) {
  DType d = promote_types(a.dtype(), b.dtype());
  return {a.to(d), b.to(d)};
}

void validate_binary(const KernelContext& ctx) {
  check_same_dtype(ctx);
  broadcast_shapes(ctx.input(0).shape(), ctx.input(1).shape(), ctx.op().schema.name.c_str());
}

std::vector<Tensor> add_backward(const BackwardContext& ctx) {
  const Tensor& g = ctx.grad_output();
  double alpha = ctx.attrs.get_float("alpha");
  std::vector<Tensor> grads(2);
  if (ctx.needs_grad(0)) grads[0] = sum_to(g, ctx.input_shapes[0]);
  if (ctx.needs_grad(1))
    grads[1] = sum_to(alpha == 1.0 ? g : affine(g, alpha), ctx.input_shapes[1]);
  return grads;
}

std::vector<Tensor> sub_backward(const BackwardContext& ctx) {
  const Tensor& g = ctx.grad_output();
  double alpha = ctx.attrs.get_float("alpha");
  std::vector<Tensor> grads(2);
  if (ctx.needs_grad(0)) grads[0] = sum_to(g, ctx.input_shapes[0]);
  if (ctx.needs_grad(1)) grads[1] = sum_to(affine(g, -alpha), ctx.input_shapes[1]);
  return grads;
}

std::vector<Tensor> mul_backward(const BackwardContext& ctx) {
  const Tensor& g = ctx.grad_output();
  std::vector<Tensor> grads(2);
  if (ctx.needs_grad(0)) grads[0] = sum_to(mul(g, ctx.input(1)), ctx.input_shapes[0]);
  if (ctx.needs_grad(1)) grads[1] = sum_to(mul(g, ctx.input(0)), ctx.input_shapes[1]);
  return grads;
}

std::vector<Tensor> div_backward(const BackwardContext& ctx) {
  const Tensor& g = ctx.grad_output();
  const Tensor& b = ctx.input(1);
  std::vector<Tensor> grads(2);
  Tensor g_over_b = div(g, b);
  if (ctx.needs_grad(0)) grads[0] = sum_to(g_over_b, ctx.input_shapes[0]);
  if (ctx.needs_grad(1)) {
    grads[1] = sum_to(neg(mul(g_over_b, div(ctx.input(0), b))), ctx.input_shapes[1]);
  }
  return grads;
}

std::vector<Tensor> affine_backward(const BackwardContext& ctx) {
  return {affine(ctx.grad_output(), ctx.attrs.get_float("scale"))};
}

dispatch::CaseFn binary_cases(bool positive_other) {
  return [positive_other](DType dtype, uint64_t seed) {
    CaseRandom rng(seed);
    auto other = [&](const Shape& s) {
      return positive_other ? rng.uniform(s, dtype, 0.5, 2.0) : rng.uniform(s, dtype);
    };
    std::vector<OpCase> cases;
    cases.push_back({"same-shape", {rng.uniform({3, 4}, dtype), other({3, 4})}, {}});
    cases.push_back({"broadcast-row", {rng.uniform({3, 4}, dtype), other({4})}, {}});
    cases.push_back({"broadcast-both", {rng.uniform({3, 1, 2}, dtype), other({1, 5, 1})}, {}});
    cases.push_back({"scalar", {rng.uniform({2, 3}, dtype), other({})}, {}});
    cases.push_back({"empty", {rng.uniform({0, 3}, dtype), other({1, 3})}, {}});
    cases.push_back({"non-contiguous",
                     {non_contiguous(rng.uniform({4, 3}, dtype)), non_contiguous(other({4, 3}))},
                     {}});
    cases.push_back({"large", {rng.uniform({70000}, dtype), other({70000})}, {}, true});
    return cases;
  };
}

OpDef binary_def(const char* name, bool has_alpha, dispatch::BackwardFn backward,
                 bool positive_other, const char* doc) {
  OpDef def;
  def.schema.name = name;
  def.schema.inputs = {{"input"}, {"other"}};
  if (has_alpha) def.schema.attrs = {{"alpha", AttrType::real, 1.0}};
  def.schema.outputs = {{"output"}};
  def.schema.doc = doc;
  def.validate = validate_binary;
  def.backward = std::move(backward);
  def.cases = binary_cases(positive_other);
  return def;
}

const bool registered = [] {
  auto& r = dispatch::Registry::instance();
  r.add_op(binary_def("add", true, add_backward, false, "input + alpha * other"));
  r.add_op(binary_def("sub", true, sub_backward, false, "input - alpha * other"));
  r.add_op(binary_def("mul", false, mul_backward, false, "input * other"));
  r.add_op(binary_def("div", false, div_backward, true, "input / other"));
  OpDef affine_def;
  affine_def.schema = {"affine",
                       {{"input"}},
                       {{"scale", AttrType::real, 1.0}, {"shift", AttrType::real, 0.0}},
                       {{"output"}},
                       "scale * input + shift"};
  affine_def.backward = affine_backward;
  affine_def.save_inputs = false;
  affine_def.cases = [](DType dtype, uint64_t seed) {
    CaseRandom rng(seed);
    return std::vector<OpCase>{
        {"scale-shift", {rng.uniform({3, 4}, dtype)}, {{"scale", -2.5}, {"shift", 0.5}}},
        {"non-contiguous", {non_contiguous(rng.uniform({3, 4}, dtype))}, {{"scale", 3.0}}}};
  };
  r.add_op(std::move(affine_def));
  return true;
}();

}  // namespace

Tensor add(const Tensor& input, const Tensor& other, double alpha) {
  auto [a, b] = promoted(input, other);
  return dispatch::call1("add", {a, b}, alpha == 1.0 ? Attrs{} : Attrs{{"alpha", alpha}});
}
Tensor sub(const Tensor& input, const Tensor& other, double alpha) {
  auto [a, b] = promoted(input, other);
  return dispatch::call1("sub", {a, b}, alpha == 1.0 ? Attrs{} : Attrs{{"alpha", alpha}});
}
Tensor mul(const Tensor& input, const Tensor& other) {
  auto [a, b] = promoted(input, other);
  return dispatch::call1("mul", {a, b});
}
Tensor div(const Tensor& input, const Tensor& other) {
  auto [a, b] = promoted(input, other);
  return dispatch::call1("div", {a, b});
}
Tensor affine(const Tensor& input, double scale, double shift) {
  return dispatch::call1("affine", {input}, Attrs{{"scale", scale}, {"shift", shift}});
}
Tensor neg(const Tensor& input) {
  return affine(input, -1.0);
}

void add_(const Tensor& self, const Tensor& other, double alpha) {
  dispatch::call_out("add", self, {self, other.to(self.dtype())}, Attrs{{"alpha", alpha}});
}
void mul_(const Tensor& self, const Tensor& other) {
  dispatch::call_out("mul", self, {self, other.to(self.dtype())});
}
void affine_(const Tensor& self, double scale, double shift) {
  dispatch::call_out("affine", self, {self}, Attrs{{"scale", scale}, {"shift", shift}});
}

}  // namespace osprey::ops
