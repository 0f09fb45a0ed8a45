// Schemas, shape rules and derivatives of sort and topk (see sort.h).
#include "ops/sort/sort.h"

#include <limits>

#include "framework/dispatch/registry.h"
#include "ops/common/op_helpers.h"
#include "ops/reduce/reduce_util.h"
#include "ops/sort/index_scatter_grad.h"

namespace osprey::ops {
namespace {

// The values' gradient goes back to where each value came from.
std::vector<Tensor> scatter_back(const BackwardContext& ctx) {
  const Shape& shape = ctx.input_shapes[0];
  if (shape.empty()) return {ctx.grad_output(0).contiguous()};
  int64_t dim = single_dim(ctx.attrs.get_int("dim"), static_cast<int64_t>(shape.size()), "sort");
  return {index_scatter_grad(ctx.grad_output(0), ctx.output(1), dim, shape[dim])};
}

void validate_sort(const KernelContext& ctx) {
  const char* op = ctx.op().schema.name.c_str();
  const Tensor& input = ctx.input(0);
  int64_t dim = single_dim(ctx.attrs().get_int("dim"), input.dim(), op);
  if (ctx.attrs().has("k")) {
    int64_t size = input.dim() == 0 ? 1 : input.size(dim);
    int64_t k = ctx.attrs().get_int("k");
    OSPREY_CHECK(k >= 0 && k <= size, "topk: k = {} is out of range [0, {}] for dim {} of {}", k,
                 size, dim, input.describe());
  }
}

Tensor with_nan(DType dtype) {
  double nan = std::numeric_limits<double>::quiet_NaN();
  return Tensor::from_vector<double>({2, nan, -1, 0, nan, 3, 1, 1, -5, nan, nan, 4}, {3, 4})
      .to(dtype);
}

Tensor with_ties(DType dtype) {
  return Tensor::from_vector<double>({1, 3, 1, 0, 3, 2, 2, 2, 2, -1, 5, 5}, {3, 4}).to(dtype);
}

std::vector<OpCase> sort_cases(DType dtype, uint64_t seed) {
  CaseRandom rng(seed);
  auto distinct = [&](const Shape& s) { return distinct_values(rng, s, dtype); };
  return {
      {"rows", {distinct({3, 5})}, {}},
      {"rows-descending", {distinct({3, 5})}, {{"descending", true}}},
      {"columns", {distinct({4, 3})}, {{"dim", 0}}},
      {"middle-dim", {distinct({2, 3, 4})}, {{"dim", 1}, {"descending", true}}},
      {"size-1-dim", {distinct({3, 1})}, {}},
      {"scalar", {distinct({})}, {}},
      {"non-contiguous", {non_contiguous(distinct({4, 3}))}, {}},
      {"non-contiguous-columns", {non_contiguous(distinct({4, 3}))}, {{"dim", 0}}},
      {"empty", {distinct({0, 3})}, {}},
      {"empty-dim", {distinct({3, 0})}, {}},
      {"unstable-flag", {distinct({2, 6})}, {{"stable", false}}},
      {"large-rows", {distinct({120, 300})}, {}, true},
      {"ties", {with_ties(dtype)}, {}, true},
      {"ties-descending", {with_ties(dtype)}, {{"descending", true}}, true},
      {"nan", {with_nan(dtype)}, {}, true},
      {"nan-descending", {with_nan(dtype)}, {{"descending", true}}, true},
  };
}

std::vector<OpCase> topk_cases(DType dtype, uint64_t seed) {
  CaseRandom rng(seed);
  auto distinct = [&](const Shape& s) { return distinct_values(rng, s, dtype); };
  return {
      {"rows", {distinct({3, 5})}, {{"k", 2}}},
      {"rows-smallest", {distinct({3, 5})}, {{"k", 3}, {"largest", false}}},
      {"all", {distinct({2, 4})}, {{"k", 4}}},
      {"columns", {distinct({5, 3})}, {{"k", 2}, {"dim", 0}}},
      {"middle-dim", {distinct({2, 4, 3})}, {{"k", 1}, {"dim", 1}}},
      {"unsorted-flag", {distinct({3, 5})}, {{"k", 2}, {"sorted", false}}},
      {"scalar", {distinct({})}, {{"k", 1}}},
      {"non-contiguous", {non_contiguous(distinct({4, 3}))}, {{"k", 2}}},
      {"k-zero", {distinct({3, 4})}, {{"k", 0}}},
      {"empty", {distinct({0, 4})}, {{"k", 2}}},
      {"large-rows", {distinct({120, 300})}, {{"k", 10}}, true},
      {"ties", {with_ties(dtype)}, {{"k", 2}}, true},
      {"ties-smallest", {with_ties(dtype)}, {{"k", 3}, {"largest", false}}, true},
      {"nan", {with_nan(dtype)}, {{"k", 2}}, true},
      {"nan-smallest", {with_nan(dtype)}, {{"k", 3}, {"largest", false}}, true},
  };
}

OpDef sort_family_def(const char* name, std::vector<AttrSpec> attrs, dispatch::CaseFn cases,
                      const char* doc) {
  OpDef def;
  def.schema = {name, {{"input"}}, std::move(attrs), {{"values"}, {"indices", false}}, doc};
  def.validate = validate_sort;
  def.backward = scatter_back;
  def.save_inputs = false;
  def.save_outputs = true;
  def.cases = std::move(cases);
  return def;
}

const bool registered = [] {
  auto& r = dispatch::Registry::instance();
  r.add_op(
      sort_family_def("sort",
                      {{"dim", AttrType::integer, int64_t{-1}, "the dim to sort along"},
                       {"descending", AttrType::boolean, false, "largest first"},
                       {"stable", AttrType::boolean, true, "ignored: sorts are always stable"}},
                      sort_cases, "values sorted along dim, and their indices in the input"));
  r.add_op(sort_family_def(
      "topk",
      {{"k", AttrType::integer, std::nullopt, "how many elements to keep"},
       {"dim", AttrType::integer, int64_t{-1}, "the dim to select along"},
       {"largest", AttrType::boolean, true, "the k largest (else the k smallest)"},
       {"sorted", AttrType::boolean, true, "ignored: results are always sorted"}},
      topk_cases, "the k largest (or smallest) values along dim, sorted, and their indices"));
  return true;
}();

}  // namespace

std::pair<Tensor, Tensor> sort(const Tensor& input, int64_t dim, bool descending, bool stable) {
  auto out = dispatch::call("sort", {input},
                            Attrs{{"dim", dim}, {"descending", descending}, {"stable", stable}});
  return {out[0], out[1]};
}

std::pair<Tensor, Tensor> topk(const Tensor& input, int64_t k, int64_t dim, bool largest,
                               bool sorted) {
  auto out = dispatch::call(
      "topk", {input}, Attrs{{"k", k}, {"dim", dim}, {"largest", largest}, {"sorted", sorted}});
  return {out[0], out[1]};
}

}  // namespace osprey::ops
