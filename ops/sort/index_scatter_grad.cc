// Schema and shape rule of index_scatter_grad (see index_scatter_grad.h).
#include "ops/sort/index_scatter_grad.h"

#include "framework/dispatch/registry.h"
#include "ops/common/case_helpers.h"
#include "ops/common/op_helpers.h"
#include "ops/reduce/reduce_util.h"

namespace osprey::ops {
namespace {

void validate(const KernelContext& ctx) {
  const Tensor& grad = ctx.input(0);
  const Tensor& indices = ctx.input(1);
  int64_t dim = single_dim(ctx.attrs().get_int("dim"), grad.dim(), "index_scatter_grad");
  OSPREY_CHECK_KIND(shape, grad.dim() > 0, "index_scatter_grad: grad must have a dim, got {}",
                    grad.describe());
  OSPREY_CHECK_KIND(shape, indices.shape() == grad.shape(),
                    "index_scatter_grad: indices {} must have grad's shape {}", indices.describe(),
                    grad.describe());
  OSPREY_CHECK_KIND(dtype, indices.dtype() == DType::i64,
                    "index_scatter_grad: indices must be i64, got {}", indices.describe());
  int64_t size = ctx.attrs().get_int("size");
  OSPREY_CHECK(size >= 0 && (size > 0 || grad.numel() == 0),
               "index_scatter_grad: size {} cannot hold indices along dim {}", size, dim);
  check_floating(ctx, 0);
}

// Random indices in [0, size) (repeats included, to test accumulation).
Tensor random_indices(CaseRandom& rng, const Shape& shape, int64_t size) {
  std::vector<int64_t> values(shape_numel(shape));
  for (auto& v : values) v = rng.integer(0, size - 1);
  return Tensor::from_vector<int64_t>(values, shape);
}

std::vector<OpCase> cases(DType dtype, uint64_t seed) {
  CaseRandom rng(seed);
  return {
      {"rows",
       {rng.uniform({3, 2}, dtype), random_indices(rng, {3, 2}, 5)},
       {{"dim", 1}, {"size", 5}}},
      {"columns",
       {rng.uniform({2, 4}, dtype), random_indices(rng, {2, 4}, 3)},
       {{"dim", 0}, {"size", 3}}},
      {"middle",
       {rng.uniform({2, 3, 2}, dtype), random_indices(rng, {2, 3, 2}, 4)},
       {{"dim", -2}, {"size", 4}}},
      {"non-contiguous",
       {non_contiguous(rng.uniform({4, 3}, dtype)), random_indices(rng, {4, 3}, 3)},
       {{"dim", 1}, {"size", 3}}},
      {"empty",
       {rng.uniform({0, 2}, dtype), random_indices(rng, {0, 2}, 3)},
       {{"dim", 1}, {"size", 3}}},
  };
}

const bool registered = [] {
  OpDef def;
  def.schema = {"index_scatter_grad",
                {{"grad"}, {"indices", false}},
                {{"dim", AttrType::integer, std::nullopt, "the dim indices point along"},
                 {"size", AttrType::integer, std::nullopt, "the output's size at dim"}},
                {{"output"}},
                "zeros with grad added at indices along dim (backward of max/sort/topk)"};
  def.validate = validate;
  def.cases = cases;
  dispatch::Registry::instance().add_op(std::move(def));
  return true;
}();

}  // namespace

Tensor index_scatter_grad(const Tensor& grad, const Tensor& indices, int64_t dim, int64_t size) {
  return dispatch::call1("index_scatter_grad", {grad, indices},
                         Attrs{{"dim", dim}, {"size", size}});
}

}  // namespace osprey::ops
