// Schemas, shape rules and derivatives of index_select, gather, scatter_add and masked_select
// (math in index.h). Index values are checked by the kernels, which read them.
#include "ops/index/index.h"

#include "framework/dispatch/registry.h"
#include "ops/common/op_helpers.h"

namespace osprey::ops {

dispatch::CaseFn index_select_cases();  // index_cases.cc
dispatch::CaseFn gather_cases();
dispatch::CaseFn scatter_add_cases();
dispatch::CaseFn masked_select_cases();

namespace {

void check_index_dtype(const KernelContext& ctx, int i) {
  const Tensor& t = ctx.input(i);
  if (t.dtype() != DType::i64 && t.dtype() != DType::i32) {
    OSPREY_THROW(dtype, "{}: '{}' must be i64 or i32, got {}", ctx.op().schema.name,
                 ctx.op().schema.input_spec(i).name, t.describe());
  }
}

// Index of rank input.dim() whose sizes fit `other` (all dims) and input (outside dim).
void check_index_shape(const char* op, const Tensor& input, const Tensor& index, int64_t dim,
                       const Tensor* src) {
  OSPREY_CHECK_KIND(shape, index.dim() == input.dim(),
                    "{}: index {} must have the rank of input {}", op, index.describe(),
                    input.describe());
  for (int64_t d = 0; d < index.dim(); ++d) {
    OSPREY_CHECK_KIND(shape, d == dim || index.size(d) <= input.size(d),
                      "{}: index {} is larger than input {} in dim {}", op, index.describe(),
                      input.describe(), d);
    if (src) {
      OSPREY_CHECK_KIND(shape, index.size(d) <= src->size(d),
                        "{}: index {} is larger than src {} in dim {}", op, index.describe(),
                        src->describe(), d);
    }
  }
}

void validate_index_select(const KernelContext& ctx) {
  check_index_dtype(ctx, 1);
  const Tensor& input = ctx.input(0);
  const Tensor& index = ctx.input(1);
  OSPREY_CHECK_KIND(shape, input.dim() >= 1, "index_select: input {} must have at least one dim",
                    input.describe());
  wrap_dim(ctx.attrs().get_int("dim"), input.dim(), "index_select dim");
  OSPREY_CHECK_KIND(shape, index.dim() <= 1, "index_select: index {} must be 0-d or 1-d",
                    index.describe());
}

void validate_gather(const KernelContext& ctx) {
  check_index_dtype(ctx, 1);
  const Tensor& input = ctx.input(0);
  int64_t dim = wrap_dim(ctx.attrs().get_int("dim"), input.dim(), "gather dim");
  check_index_shape("gather", input, ctx.input(1), dim, nullptr);
}

void validate_scatter_add(const KernelContext& ctx) {
  check_index_dtype(ctx, 1);
  const Tensor& input = ctx.input(0);
  const Tensor& src = ctx.input(2);
  OSPREY_CHECK_KIND(dtype, input.dtype() == src.dtype(),
                    "scatter_add: src {} must have input's dtype {}", src.describe(),
                    dtype_name(input.dtype()));
  OSPREY_CHECK_KIND(shape, src.dim() == input.dim(),
                    "scatter_add: src {} must have the rank of input {}", src.describe(),
                    input.describe());
  int64_t dim = wrap_dim(ctx.attrs().get_int("dim"), input.dim(), "scatter_add dim");
  check_index_shape("scatter_add", input, ctx.input(1), dim, &src);
}

void validate_masked_select(const KernelContext& ctx) {
  const Tensor& mask = ctx.input(1);
  OSPREY_CHECK_KIND(dtype, mask.dtype() == DType::boolean || mask.dtype() == DType::u8,
                    "masked_select: mask must be bool (or u8), got {}", mask.describe());
  broadcast_shapes(ctx.input(0).shape(), mask.shape(), "masked_select");
}

Tensor zeros(const Shape& shape, const Tensor& like) {
  Tensor t = Tensor::empty(shape, like.dtype(), like.device());
  t.zero_();
  return t;
}

std::vector<Tensor> index_select_backward(const BackwardContext& ctx) {
  const Tensor& g = ctx.grad_output();
  const Shape& in_shape = ctx.input_shapes[0];
  int64_t dim = wrap_dim(ctx.attrs.get_int("dim"), static_cast<int64_t>(in_shape.size()));
  // The 1-d index along `dim`, broadcast over every other dim of the gradient.
  Shape index_shape(in_shape.size(), 1);
  index_shape[dim] = g.size(dim);
  Tensor index = ctx.input(1).reshape(index_shape).expand(g.shape());
  return {scatter_add(zeros(in_shape, g), dim, index, g), Tensor()};
}

std::vector<Tensor> gather_backward(const BackwardContext& ctx) {
  const Tensor& g = ctx.grad_output();
  int64_t dim = ctx.attrs.get_int("dim");
  return {scatter_add(zeros(ctx.input_shapes[0], g), dim, ctx.input(1), g), Tensor()};
}

std::vector<Tensor> scatter_add_backward(const BackwardContext& ctx) {
  const Tensor& g = ctx.grad_output();
  const Tensor& index = ctx.input(1);
  int64_t dim = ctx.attrs.get_int("dim");
  std::vector<Tensor> grads(3);
  if (ctx.needs_grad(0)) grads[0] = g;
  if (ctx.needs_grad(2)) {
    Tensor picked = gather(g, dim, index);
    const Shape& src_shape = ctx.input_shapes[2];
    if (picked.shape() == src_shape) {
      grads[2] = picked;
    } else {
      // Elements of src that no index reaches contribute nothing.
      grads[2] = zeros(src_shape, g);
      Tensor corner = grads[2];
      for (int64_t d = 0; d < picked.dim(); ++d) corner = corner.narrow(d, 0, picked.size(d));
      corner.copy_(picked);
    }
  }
  return grads;
}

std::vector<Tensor> masked_select_backward(const BackwardContext& ctx) {
  const Tensor& g = ctx.grad_output();
  const Shape& in_shape = ctx.input_shapes[0];
  Shape shape = broadcast_shapes(in_shape, ctx.input_shapes[1], "masked_select");
  // Flat positions of the selected elements, found on the host from the saved mask.
  Tensor mask = ctx.input(1).expand(shape).to(Device::cpu()).to(DType::u8).contiguous();
  const uint8_t* m = mask.data<uint8_t>();
  std::vector<int64_t> positions;
  for (int64_t i = 0; i < mask.numel(); ++i) {
    if (m[i]) positions.push_back(i);
  }
  Tensor index =
      Tensor::from_vector<int64_t>(positions, {static_cast<int64_t>(positions.size())}, g.device());
  Tensor flat = scatter_add(zeros({shape_numel(shape)}, g), 0, index, g);
  return {sum_to(flat.reshape(shape), in_shape), Tensor()};
}

OpDef index_def(const char* name, std::vector<InputSpec> inputs, bool has_dim,
                dispatch::ValidateFn validate, dispatch::BackwardFn backward,
                dispatch::CaseFn cases, const char* doc) {
  OpDef def;
  def.schema.name = name;
  def.schema.inputs = std::move(inputs);
  if (has_dim) def.schema.attrs = {{"dim", AttrType::integer, std::nullopt, "the indexed dim"}};
  def.schema.outputs = {{"output"}};
  def.schema.doc = doc;
  def.validate = std::move(validate);
  def.backward = std::move(backward);
  def.cases = std::move(cases);
  return def;
}

const bool registered = [] {
  auto& r = dispatch::Registry::instance();
  InputSpec index{"index"};
  index.differentiable = false;
  InputSpec mask{"mask"};
  mask.differentiable = false;
  r.add_op(index_def("index_select", {{"input"}, index}, true, validate_index_select,
                     index_select_backward, index_select_cases(),
                     "the entries of input at `index` along dim"));
  r.add_op(index_def("gather", {{"input"}, index}, true, validate_gather, gather_backward,
                     gather_cases(), "out[p] = input[p with dim set to index[p]]"));
  r.add_op(index_def("scatter_add", {{"input"}, index, {"src"}}, true, validate_scatter_add,
                     scatter_add_backward, scatter_add_cases(),
                     "input with src added at index along dim"));
  r.add_op(index_def("masked_select", {{"input"}, mask}, false, validate_masked_select,
                     masked_select_backward, masked_select_cases(),
                     "the elements where the (broadcast) mask is true, as a 1-d tensor"));
  return true;
}();

}  // namespace

Tensor index_select(const Tensor& input, int64_t dim, const Tensor& index) {
  return dispatch::call1("index_select", {input, index}, Attrs{{"dim", dim}});
}

Tensor gather(const Tensor& input, int64_t dim, const Tensor& index) {
  return dispatch::call1("gather", {input, index}, Attrs{{"dim", dim}});
}

Tensor scatter_add(const Tensor& input, int64_t dim, const Tensor& index, const Tensor& src) {
  return dispatch::call1("scatter_add", {input, index, src}, Attrs{{"dim", dim}});
}

Tensor masked_select(const Tensor& input, const Tensor& mask) {
  return dispatch::call1("masked_select", {input, mask});
}

}  // namespace osprey::ops
