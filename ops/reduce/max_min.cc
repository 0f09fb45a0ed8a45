// Schemas, shape rules and derivatives of max, min (values and indices along one dim) and of
// argmax, argmin (the indices alone). See reduce.h for ties and NaN.
#include <limits>

#include "framework/dispatch/registry.h"
#include "ops/common/op_helpers.h"
#include "ops/reduce/reduce.h"
#include "ops/reduce/reduce_util.h"
#include "ops/sort/index_scatter_grad.h"

namespace osprey::ops {
namespace {

void validate_extremum(const KernelContext& ctx) {
  const char* op = ctx.op().schema.name.c_str();
  const Tensor& input = ctx.input(0);
  int64_t dim = single_dim(ctx.attrs().get_int("dim"), input.dim(), op);
  OSPREY_CHECK_KIND(shape, input.dim() == 0 || input.size(dim) > 0,
                    "{}: cannot reduce dim {} of size 0 of {} (the result has no value)", op, dim,
                    input.describe());
  OSPREY_CHECK_KIND(dtype, input.dtype() != DType::boolean, "{}: bool input {} is not supported",
                    op, input.describe());
}

// The whole gradient goes to the element each index points at.
std::vector<Tensor> extremum_backward(const BackwardContext& ctx) {
  const Shape& shape = ctx.input_shapes[0];
  Tensor g = ctx.grad_output(0);
  if (shape.empty()) return {g.contiguous()};
  int64_t dim = single_dim(ctx.attrs.get_int("dim"), static_cast<int64_t>(shape.size()), "max");
  Tensor indices = ctx.output(1);
  if (!ctx.attrs.get_bool("keepdim")) {
    g = g.unsqueeze(dim);
    indices = indices.unsqueeze(dim);
  }
  return {index_scatter_grad(g, indices, dim, shape[dim])};
}

std::vector<OpCase> extremum_cases(DType dtype, uint64_t seed) {
  CaseRandom rng(seed);
  auto distinct = [&](const Shape& s) { return distinct_values(rng, s, dtype); };
  double nan = std::numeric_limits<double>::quiet_NaN();
  return {
      {"rows", {distinct({3, 5})}, {{"dim", 1}}},
      {"columns-keepdim", {distinct({3, 5})}, {{"dim", 0}, {"keepdim", true}}},
      {"middle-dim", {distinct({2, 3, 4})}, {{"dim", 1}}},
      {"last-dim-keepdim", {distinct({2, 3, 4})}, {{"dim", -1}, {"keepdim", true}}},
      {"size-1-dim", {distinct({3, 1, 2})}, {{"dim", 1}}},
      {"vector", {distinct({7})}, {{"dim", 0}}},
      {"scalar", {distinct({})}, {{"dim", 0}}},
      {"non-contiguous", {non_contiguous(distinct({4, 3}))}, {{"dim", 1}}},
      {"non-contiguous-columns", {non_contiguous(distinct({4, 3}))}, {{"dim", 0}}},
      {"empty-kept", {distinct({0, 3})}, {{"dim", 1}}},
      {"large-rows", {distinct({300, 257})}, {{"dim", 1}}, true},
      {"large-columns", {distinct({300, 257})}, {{"dim", 0}}, true},
      // Ties take the first index; a NaN wins wherever it is.
      {"ties",
       {Tensor::from_vector<double>({1, 3, 3, 0, 2, 2, 2, -1, 5, 5, 1, 5}, {3, 4}).to(dtype)},
       {{"dim", 1}},
       true},
      {"nan",
       {Tensor::from_vector<double>({1, nan, 3, nan, 2, 0, -1, 4, nan}, {3, 3}).to(dtype)},
       {{"dim", 1}},
       true},
  };
}

OpDef extremum_def(const char* name, bool with_values, const char* doc) {
  OpDef def;
  def.schema.name = name;
  def.schema.inputs = {{"input"}};
  def.schema.attrs = {{"dim", AttrType::integer, std::nullopt, "the dim to reduce"},
                      {"keepdim", AttrType::boolean, false, "keep dim as size 1"}};
  if (with_values) def.schema.outputs.push_back({"values"});
  def.schema.outputs.push_back({"indices", false});
  def.schema.doc = doc;
  def.validate = validate_extremum;
  if (with_values) {
    def.backward = extremum_backward;
    def.save_inputs = false;
    def.save_outputs = true;
  }
  def.cases = extremum_cases;
  return def;
}

const bool registered = [] {
  auto& r = dispatch::Registry::instance();
  r.add_op(extremum_def("max", true, "largest value along dim and its (first) index"));
  r.add_op(extremum_def("min", true, "smallest value along dim and its (first) index"));
  r.add_op(extremum_def("argmax", false, "index of the (first) largest value along dim"));
  r.add_op(extremum_def("argmin", false, "index of the (first) smallest value along dim"));
  return true;
}();

Attrs dim_attrs(int64_t dim, bool keepdim) {
  return Attrs{{"dim", dim}, {"keepdim", keepdim}};
}

}  // namespace

std::pair<Tensor, Tensor> max(const Tensor& input, int64_t dim, bool keepdim) {
  auto out = dispatch::call("max", {input}, dim_attrs(dim, keepdim));
  return {out[0], out[1]};
}

std::pair<Tensor, Tensor> min(const Tensor& input, int64_t dim, bool keepdim) {
  auto out = dispatch::call("min", {input}, dim_attrs(dim, keepdim));
  return {out[0], out[1]};
}

Tensor argmax(const Tensor& input, int64_t dim, bool keepdim) {
  return dispatch::call1("argmax", {input}, dim_attrs(dim, keepdim));
}

Tensor argmin(const Tensor& input, int64_t dim, bool keepdim) {
  return dispatch::call1("argmin", {input}, dim_attrs(dim, keepdim));
}

}  // namespace osprey::ops
