// Schemas, shape rules and derivatives of index_scatter_grad and index_gather_grad (see
// index_scatter_grad.h).
#include "ops/sort/index_scatter_grad.h"

#include "framework/dispatch/registry.h"
#include "ops/common/case_helpers.h"
#include "ops/common/op_helpers.h"
#include "ops/reduce/reduce_util.h"

namespace osprey::ops {
namespace {

// Shared checks: indices is i64 of the values' rank, equal in every dim but `dim`.
int64_t validate_pair(const KernelContext& ctx) {
  const char* op = ctx.op().schema.name.c_str();
  const Tensor& values = ctx.input(0);
  const Tensor& indices = ctx.input(1);
  OSPREY_CHECK_KIND(shape, values.dim() > 0, "{}: '{}' must have a dim, got {}", op,
                    ctx.op().schema.inputs[0].name, values.describe());
  int64_t dim = single_dim(ctx.attrs().get_int("dim"), values.dim(), op);
  bool fits = indices.dim() == values.dim();
  for (int64_t d = 0; fits && d < values.dim(); ++d) {
    fits = d == dim || indices.size(d) == values.size(d);
  }
  OSPREY_CHECK_KIND(shape, fits, "{}: indices {} must match {} in every dim but {}", op,
                    indices.describe(), values.describe(), dim);
  OSPREY_CHECK_KIND(dtype, indices.dtype() == DType::i64, "{}: indices must be i64, got {}", op,
                    indices.describe());
  check_floating(ctx, 0);
  return dim;
}

void validate_scatter(const KernelContext& ctx) {
  int64_t dim = validate_pair(ctx);
  OSPREY_CHECK_KIND(shape, ctx.input(1).shape() == ctx.input(0).shape(),
                    "index_scatter_grad: indices {} must have grad's shape {}",
                    ctx.input(1).describe(), ctx.input(0).describe());
  int64_t size = ctx.attrs().get_int("size");
  OSPREY_CHECK(size >= 0 && (size > 0 || ctx.input(0).numel() == 0),
               "index_scatter_grad: size {} cannot hold indices along dim {}", size, dim);
}

std::vector<Tensor> scatter_backward(const BackwardContext& ctx) {
  return {index_gather_grad(ctx.grad_output(), ctx.input(1), ctx.attrs.get_int("dim")), Tensor()};
}

std::vector<Tensor> gather_backward(const BackwardContext& ctx) {
  int64_t dim = single_dim(ctx.attrs.get_int("dim"),
                           static_cast<int64_t>(ctx.input_shapes[0].size()), "index_gather_grad");
  return {index_scatter_grad(ctx.grad_output(), ctx.input(1), dim, ctx.input_shapes[0][dim]),
          Tensor()};
}

// Random indices in [0, size) (repeats included, to test accumulation).
Tensor random_indices(CaseRandom& rng, const Shape& shape, int64_t size) {
  std::vector<int64_t> values(shape_numel(shape));
  for (auto& v : values) v = rng.integer(0, size - 1);
  return Tensor::from_vector<int64_t>(values, shape);
}

std::vector<OpCase> scatter_cases(DType dtype, uint64_t seed) {
  CaseRandom rng(seed);
  auto c = [&](const char* name, const Shape& shape, int64_t dim, int64_t size, bool nc = false) {
    Tensor grad = rng.uniform(shape, dtype);
    return OpCase{name,
                  {nc ? non_contiguous(grad) : grad, random_indices(rng, shape, size)},
                  {{"dim", dim}, {"size", size}}};
  };
  return {c("rows", {3, 2}, 1, 5), c("columns", {2, 4}, 0, 3), c("middle", {2, 3, 2}, -2, 4),
          c("non-contiguous", {4, 3}, 1, 3, true), c("empty", {0, 2}, 1, 3)};
}

std::vector<OpCase> gather_cases(DType dtype, uint64_t seed) {
  CaseRandom rng(seed);
  auto c = [&](const char* name, const Shape& shape, int64_t dim, int64_t picked, bool nc = false) {
    Shape index_shape = shape;
    index_shape[dim < 0 ? dim + shape.size() : dim] = picked;
    Tensor input = rng.uniform(shape, dtype);
    int64_t size = shape[dim < 0 ? dim + shape.size() : dim];
    return OpCase{name,
                  {nc ? non_contiguous(input) : input, random_indices(rng, index_shape, size)},
                  {{"dim", dim}}};
  };
  return {c("rows", {3, 5}, 1, 2), c("columns", {3, 4}, 0, 5), c("middle", {2, 4, 2}, -2, 3),
          c("non-contiguous", {4, 3}, 1, 3, true), c("empty", {0, 2}, 1, 3)};
}

const bool registered = [] {
  auto& r = dispatch::Registry::instance();
  OpDef scatter;
  scatter.schema = {"index_scatter_grad",
                    {{"grad"}, {"indices", false}},
                    {{"dim", AttrType::integer, std::nullopt, "the dim indices point along"},
                     {"size", AttrType::integer, std::nullopt, "the output's size at dim"}},
                    {{"output"}},
                    "zeros with grad added at indices along dim (backward of max/sort/topk)"};
  scatter.validate = validate_scatter;
  scatter.backward = scatter_backward;
  scatter.cases = scatter_cases;
  r.add_op(std::move(scatter));

  OpDef gather;
  gather.schema = {"index_gather_grad",
                   {{"input"}, {"indices", false}},
                   {{"dim", AttrType::integer, std::nullopt, "the dim indices point along"}},
                   {{"output"}},
                   "input's elements at indices along dim (adjoint of index_scatter_grad)"};
  gather.validate = [](const KernelContext& ctx) { validate_pair(ctx); };
  gather.backward = gather_backward;
  gather.cases = gather_cases;
  r.add_op(std::move(gather));
  return true;
}();

}  // namespace

Shape index_scatter_grad_shape(const KernelContext& ctx, int64_t& dim) {
  const Tensor& grad = ctx.input(0);
  dim = single_dim(ctx.attrs().get_int("dim"), grad.dim(), "index_scatter_grad");
  Shape shape = grad.shape();
  shape[dim] = ctx.attrs().get_int("size");
  return shape;
}

Tensor index_scatter_grad(const Tensor& grad, const Tensor& indices, int64_t dim, int64_t size) {
  return dispatch::call1("index_scatter_grad", {grad, indices},
                         Attrs{{"dim", dim}, {"size", size}});
}

Tensor index_gather_grad(const Tensor& input, const Tensor& indices, int64_t dim) {
  return dispatch::call1("index_gather_grad", {input, indices}, Attrs{{"dim", dim}});
}

}  // namespace osprey::ops
