// Schemas, validation, derivatives and cases of dropout and dropout_backward (see dropout.h), and
// the C++ functions that take the Philox position from a Generator.
#include "ops/dropout/dropout.h"

#include <cmath>

#include "framework/dispatch/registry.h"
#include "ops/common/case_helpers.h"
#include "ops/common/op_helpers.h"

namespace osprey::ops {
namespace {

void check_p(double p, const char* op) {
  OSPREY_CHECK(p >= 0.0 && p <= 1.0, "{}: p must be in [0, 1], got {}", op, p);
}

void validate_dropout(const KernelContext& ctx) {
  check_floating(ctx, 0);
  check_p(ctx.attrs().get_float("p"), "dropout");
}

void validate_dropout_backward(const KernelContext& ctx) {
  check_floating(ctx, 0);
  check_p(ctx.attrs().get_float("p"), "dropout_backward");
  const Tensor& grad = ctx.input(0);
  const Tensor& mask = ctx.input(1);
  OSPREY_CHECK_KIND(dtype, mask.dtype() == DType::boolean,
                    "dropout_backward: mask must be bool, got {}", dtype_name(mask.dtype()));
  OSPREY_CHECK_KIND(shape, grad.shape() == mask.shape(),
                    "dropout_backward: grad_output {} and mask {} must have the same shape",
                    shape_str(grad.shape()), shape_str(mask.shape()));
}

// In eval mode the op is the identity, which dropout_backward expresses as p = 0.
double effective_p(const Attrs& attrs) {
  return attrs.get_bool("training") ? attrs.get_float("p") : 0.0;
}

std::vector<Tensor> dropout_grad(const BackwardContext& ctx) {
  return {dispatch::call1("dropout_backward", {ctx.grad_output(0), ctx.output(1)},
                          {{"p", effective_p(ctx.attrs)}})};
}

std::vector<Tensor> dropout_backward_grad(const BackwardContext& ctx) {
  return {dispatch::call1("dropout_backward", {ctx.grad_output(0), ctx.input(1)},
                          {{"p", ctx.attrs.get_float("p")}}),
          Tensor()};
}

Attrs dropout_attrs(double p, bool training, int64_t seed, int64_t offset) {
  return {{"p", p}, {"training", training}, {"seed", seed}, {"offset", offset}};
}

// seed/offset are fixed attributes, so every evaluation of a case draws the same mask and the
// numerical gradient sees a fixed linear map.
std::vector<OpCase> dropout_cases(DType dtype, uint64_t seed) {
  CaseRandom rng(seed);
  auto s = static_cast<int64_t>(seed);
  return {{"small", {rng.uniform({3, 5}, dtype)}, dropout_attrs(0.5, true, s, 0)},
          {"odd-size-offset", {rng.uniform({7}, dtype)}, dropout_attrs(0.3, true, s, 5)},
          {"non-contiguous",
           {non_contiguous(rng.uniform({4, 3}, dtype))},
           dropout_attrs(0.25, true, s, 2)},
          {"channels-last",
           {rng.uniform({1, 3, 2, 2}, dtype).contiguous(MemoryFormat::channels_last)},
           dropout_attrs(0.5, true, s, 1)},
          {"scalar", {rng.uniform({}, dtype)}, dropout_attrs(0.5, true, s, 3)},
          {"empty", {rng.uniform({0, 4}, dtype)}, dropout_attrs(0.5, true, s, 0)},
          {"p-zero", {rng.uniform({2, 3}, dtype)}, dropout_attrs(0.0, true, s, 0)},
          {"p-one", {rng.uniform({2, 3}, dtype)}, dropout_attrs(1.0, true, s, 0)},
          {"eval", {rng.uniform({2, 3}, dtype)}, dropout_attrs(0.5, false, s, 0)},
          {"large", {rng.uniform({256, 512}, dtype)}, dropout_attrs(0.5, true, s, 7), true}};
}

std::vector<OpCase> dropout_backward_cases(DType dtype, uint64_t seed) {
  CaseRandom rng(seed);
  auto mask = [&](const Shape& shape) {
    return rng.uniform(shape, DType::i64, 0.0, 2.0).to(DType::boolean);
  };
  auto p = [](double v) { return Attrs{{"p", v}}; };
  return {{"small", {rng.uniform({3, 5}, dtype), mask({3, 5})}, p(0.5)},
          {"non-contiguous",
           {non_contiguous(rng.uniform({4, 3}, dtype)), non_contiguous(mask({4, 3}))},
           p(0.25)},
          {"scalar", {rng.uniform({}, dtype), mask({})}, p(0.5)},
          {"empty", {rng.uniform({0, 4}, dtype), mask({0, 4})}, p(0.5)},
          {"p-one", {rng.uniform({2, 3}, dtype), mask({2, 3})}, p(1.0)},
          {"large", {rng.uniform({256, 512}, dtype), mask({256, 512})}, p(0.5), true}};
}

const bool registered = [] {
  auto& r = dispatch::Registry::instance();
  OpDef def;
  def.schema = {"dropout",
                {{"input"}},
                {{"p", AttrType::real, 0.5, "probability of zeroing an element"},
                 {"training", AttrType::boolean, true, "false: identity"},
                 {"seed", AttrType::integer, int64_t{0}, "Philox key (the generator's seed)"},
                 {"offset", AttrType::integer, int64_t{0}, "first Philox block to draw from"}},
                {{"output"}, {"mask", false}},
                "zero each element with probability p, scale the rest by 1 / (1 - p)"};
  def.validate = validate_dropout;
  def.backward = dropout_grad;
  def.save_inputs = false;
  def.save_outputs = true;
  def.cases = dropout_cases;
  r.add_op(std::move(def));

  OpDef back;
  back.schema = {"dropout_backward",
                 {{"grad_output"}, {"mask", false}},
                 {{"p", AttrType::real, std::nullopt, "the forward's drop probability"}},
                 {{"grad_input"}},
                 "grad_output * mask / (1 - p)"};
  back.validate = validate_dropout_backward;
  back.backward = dropout_backward_grad;
  back.cases = dropout_backward_cases;
  r.add_op(std::move(back));
  return true;
}();

}  // namespace

std::vector<Tensor> dropout_with_mask(const Tensor& input, double p, bool training,
                                      random::Generator& generator) {
  check_p(p, "dropout");
  Attrs attrs = dropout_attrs(p, training, 0, 0);
  if (training && p > 0.0 && p < 1.0) {
    random::GeneratorState start = generator.reserve(static_cast<uint64_t>(input.numel()));
    attrs.set("seed", static_cast<int64_t>(start.seed));
    attrs.set("offset", static_cast<int64_t>(start.offset));
  }
  return dispatch::call("dropout", {input}, attrs);
}

Tensor dropout(const Tensor& input, double p, bool training, random::Generator& generator) {
  return dropout_with_mask(input, p, training, generator).at(0);
}

Tensor dropout_backward(const Tensor& grad_output, const Tensor& mask, double p) {
  return dispatch::call1("dropout_backward", {grad_output, mask}, {{"p", p}});
}

}  // namespace osprey::ops
