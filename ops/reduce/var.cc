// Schema, shape rule and derivative of var (see reduce.h).
#include "framework/dispatch/registry.h"
#include "ops/common/op_helpers.h"
#include "ops/elementwise/elementwise.h"
#include "ops/reduce/reduce.h"
#include "ops/reduce/reduce_util.h"

namespace osprey::ops {
namespace {

// d var / dx = 2 (x - mean) / (N - correction), times the broadcast output gradient.
std::vector<Tensor> var_backward(const BackwardContext& ctx) {
  const Tensor& x = ctx.input(0);
  auto dims = reduction_dims(x.shape(), ctx.attrs.get_ints("dims"), "var");
  bool keepdim = ctx.attrs.get_bool("keepdim");
  double denom = var_divisor(reduced_count(x.shape(), dims), ctx.attrs.get_int("correction"));
  Tensor g = expand_reduced(ctx.grad_output(), x.shape(), dims, keepdim);
  Tensor centered = sub(x, mean(x, dims, true));
  return {affine(mul(g, centered), 2.0 / denom)};
}

std::vector<OpCase> var_cases(DType dtype, uint64_t seed) {
  CaseRandom rng(seed);
  using Dims = std::vector<int64_t>;
  return {
      {"all", {rng.uniform({3, 4}, dtype)}, {}},
      {"last-dim", {rng.uniform({3, 5}, dtype)}, {{"dims", Dims{-1}}}},
      {"first-dim-keepdim", {rng.uniform({4, 3}, dtype)}, {{"dims", Dims{0}}, {"keepdim", true}}},
      {"two-dims", {rng.uniform({2, 3, 4}, dtype)}, {{"dims", Dims{0, 2}}}},
      {"population", {rng.uniform({3, 5}, dtype)}, {{"dims", Dims{1}}, {"correction", 0}}},
      {"correction-2", {rng.uniform({2, 6}, dtype)}, {{"dims", Dims{1}}, {"correction", 2}}},
      {"non-contiguous", {non_contiguous(rng.uniform({4, 3}, dtype))}, {{"dims", Dims{1}}}},
      {"empty-kept", {rng.uniform({0, 3}, dtype)}, {{"dims", Dims{1}}}},
      {"middle-dim", {rng.uniform({2, 5, 3}, dtype)}, {{"dims", Dims{1}}}},
      {"empty-reduced", {rng.uniform({0, 3}, dtype)}, {{"dims", Dims{0}}}, true},
      {"large-rows", {rng.uniform({64, 1100}, dtype)}, {{"dims", Dims{1}}}, true},
      {"large-nchw", {rng.uniform({8, 16, 24, 24}, dtype)}, {{"dims", Dims{0, 2, 3}}}, true},
      {"large-columns", {rng.uniform({300, 260}, dtype)}, {{"dims", Dims{0}}}, true},
      // N - correction <= 0: NaN (0/0) like PyTorch, values only.
      {"single-element", {rng.uniform({3, 1}, dtype)}, {{"dims", Dims{1}}}, true},
  };
}

const bool registered = [] {
  OpDef def;
  def.schema = {
      "var",
      {{"input"}},
      {{"dims", AttrType::integers, std::vector<int64_t>{}, "dims to reduce; empty: all"},
       {"correction", AttrType::integer, int64_t{1}, "N - correction divides; 1: unbiased"},
       {"keepdim", AttrType::boolean, false, "keep reduced dims as size 1"}},
      {{"output"}},
      "variance over dims: sum((x - mean)^2) / (N - correction)"};
  def.validate = [](const KernelContext& ctx) {
    reduction_dims(ctx.input(0).shape(), ctx.attrs().get_ints("dims"), "var");
    check_floating(ctx, 0);
    OSPREY_CHECK(ctx.attrs().get_int("correction") >= 0, "var: correction must be >= 0, got {}",
                 ctx.attrs().get_int("correction"));
  };
  def.backward = var_backward;
  def.cases = var_cases;
  dispatch::Registry::instance().add_op(std::move(def));
  return true;
}();

}  // namespace

Tensor var(const Tensor& input, const std::vector<int64_t>& dims, int64_t correction,
           bool keepdim) {
  return dispatch::call1("var", {input},
                         Attrs{{"dims", dims}, {"correction", correction}, {"keepdim", keepdim}});
}

}  // namespace osprey::ops
