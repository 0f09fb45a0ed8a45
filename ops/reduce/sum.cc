// Schemas, shape rules and derivatives of sum and mean (see reduce.h).
#include "framework/dispatch/registry.h"
#include "ops/common/op_helpers.h"
#include "ops/elementwise/elementwise.h"
#include "ops/reduce/reduce.h"
#include "ops/reduce/reduce_util.h"

namespace osprey::ops {
namespace {

std::vector<AttrSpec> dims_attrs() {
  return {{"dims", AttrType::integers, std::vector<int64_t>{}, "dims to reduce; empty: all"},
          {"keepdim", AttrType::boolean, false, "keep reduced dims as size 1"}};
}

std::vector<Tensor> sum_backward(const BackwardContext& ctx) {
  const Shape& shape = ctx.input_shapes[0];
  auto dims = reduction_dims(shape, ctx.attrs.get_ints("dims"), "sum");
  return {expand_reduced(ctx.grad_output(), shape, dims, ctx.attrs.get_bool("keepdim"))};
}

std::vector<Tensor> mean_backward(const BackwardContext& ctx) {
  const Shape& shape = ctx.input_shapes[0];
  auto dims = reduction_dims(shape, ctx.attrs.get_ints("dims"), "mean");
  Tensor g = expand_reduced(ctx.grad_output(), shape, dims, ctx.attrs.get_bool("keepdim"));
  return {affine(g, 1.0 / static_cast<double>(reduced_count(shape, dims)))};
}

std::vector<OpCase> reduce_cases(DType dtype, uint64_t seed, bool empty_is_nan) {
  CaseRandom rng(seed);
  using Dims = std::vector<int64_t>;
  std::vector<OpCase> cases = {
      {"all", {rng.uniform({3, 4}, dtype)}, {}},
      {"last-dim", {rng.uniform({3, 5}, dtype)}, {{"dims", Dims{-1}}}},
      {"first-dim-keepdim", {rng.uniform({3, 5}, dtype)}, {{"dims", Dims{0}}, {"keepdim", true}}},
      {"middle-dim", {rng.uniform({2, 3, 4}, dtype)}, {{"dims", Dims{1}}}},
      {"two-dims", {rng.uniform({2, 3, 4}, dtype)}, {{"dims", Dims{2, 0}}}},
      {"two-dims-keepdim",
       {rng.uniform({2, 3, 4}, dtype)},
       {{"dims", Dims{0, 2}}, {"keepdim", true}}},
      {"trailing-dims", {rng.uniform({2, 3, 4}, dtype)}, {{"dims", Dims{1, 2}}}},
      {"size-1-dim", {rng.uniform({3, 1, 2}, dtype)}, {{"dims", Dims{1}}}},
      {"scalar", {rng.uniform({}, dtype)}, {}},
      {"non-contiguous", {non_contiguous(rng.uniform({4, 3}, dtype))}, {{"dims", Dims{1}}}},
      {"non-contiguous-all", {non_contiguous(rng.uniform({4, 3}, dtype))}, {}},
      {"empty-kept", {rng.uniform({0, 3}, dtype)}, {{"dims", Dims{1}}}},
      {"large-rows", {rng.uniform({64, 1100}, dtype)}, {{"dims", Dims{1}}}, true},
      {"large-columns", {rng.uniform({300, 260}, dtype)}, {{"dims", Dims{0}}}, true},
      {"large-all", {rng.uniform({50000}, dtype)}, {}, true},
      {"large-nchw", {rng.uniform({8, 16, 24, 24}, dtype)}, {{"dims", Dims{0, 2, 3}}}, true},
      {"large-middle", {rng.uniform({6, 300, 20}, dtype)}, {{"dims", Dims{1}}}, true},
      {"size-1-dims-mixed", {rng.uniform({3, 1, 4, 1}, dtype)}, {{"dims", Dims{1, 2}}}},
  };
  // Reducing an empty dim: sum gives 0, mean NaN (which the poison check cannot tell apart).
  cases.push_back(
      {"empty-reduced", {rng.uniform({0, 3}, dtype)}, {{"dims", Dims{0}}}, empty_is_nan});
  return cases;
}

void validate_reduce(const KernelContext& ctx) {
  const char* op = ctx.op().schema.name.c_str();
  reduction_dims(ctx.input(0).shape(), ctx.attrs().get_ints("dims"), op);
  if (ctx.op().schema.name != "sum") check_floating(ctx, 0);
}

OpDef reduce_def(const char* name, dispatch::BackwardFn backward, bool empty_is_nan,
                 const char* doc) {
  OpDef def;
  def.schema = {name, {{"input"}}, dims_attrs(), {{"output"}}, doc};
  def.save_inputs = false;
  def.validate = validate_reduce;
  def.backward = std::move(backward);
  def.cases = [empty_is_nan](DType dtype, uint64_t seed) {
    return reduce_cases(dtype, seed, empty_is_nan);
  };
  return def;
}

const bool registered = [] {
  auto& r = dispatch::Registry::instance();
  r.add_op(reduce_def("sum", sum_backward, false, "sum over dims (all when empty)"));
  r.add_op(reduce_def("mean", mean_backward, true, "mean over dims (all when empty)"));
  return true;
}();

Attrs dims_attrs_of(const std::vector<int64_t>& dims, bool keepdim) {
  return Attrs{{"dims", dims}, {"keepdim", keepdim}};
}

}  // namespace

Tensor sum(const Tensor& input, const std::vector<int64_t>& dims, bool keepdim) {
  return dispatch::call1("sum", {input}, dims_attrs_of(dims, keepdim));
}

Tensor mean(const Tensor& input, const std::vector<int64_t>& dims, bool keepdim) {
  return dispatch::call1("mean", {input}, dims_attrs_of(dims, keepdim));
}

}  // namespace osprey::ops
