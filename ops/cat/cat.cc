// Schemas, shape rules and derivatives of cat and stack; split and chunk (views, no op of their
// own).
#include "ops/cat/cat.h"

#include "framework/dispatch/registry.h"
#include "ops/common/case_helpers.h"
#include "ops/common/op_helpers.h"

namespace osprey::ops {

Shape cat_shape(const std::vector<Tensor>& tensors, int64_t& dim) {
  const Tensor* first = nullptr;
  size_t first_index = 0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    if (!cat_skips(tensors[i])) {
      first = &tensors[i];
      first_index = i;
      break;
    }
  }
  if (!first) {
    dim = 0;
    return {0};
  }
  OSPREY_CHECK_KIND(shape, first->dim() > 0, "cat: tensor {} is 0-d ({}); cat needs rank >= 1",
                    first_index, first->describe());
  dim = wrap_dim(dim, first->dim(), "cat dim");
  Shape shape = first->shape();
  shape[dim] = 0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const Tensor& t = tensors[i];
    if (cat_skips(t)) continue;
    bool fits = t.dim() == first->dim();
    for (int64_t d = 0; fits && d < t.dim(); ++d) fits = d == dim || t.size(d) == shape[d];
    OSPREY_CHECK_KIND(shape, fits,
                      "cat: tensor {} {} does not fit tensor {} {}: sizes must match except in "
                      "dim {}",
                      i, t.describe(), first_index, first->describe(), dim);
    shape[dim] += t.size(dim);
  }
  return shape;
}

Shape stack_shape(const std::vector<Tensor>& tensors, int64_t& dim) {
  const Tensor& first = tensors.at(0);
  dim = wrap_dim(dim, first.dim() + 1, "stack dim");
  for (size_t i = 1; i < tensors.size(); ++i) {
    OSPREY_CHECK_KIND(shape, tensors[i].shape() == first.shape(),
                      "stack: tensor {} {} differs from tensor 0 {}: stack needs equal shapes", i,
                      tensors[i].describe(), first.describe());
  }
  Shape shape = first.shape();
  shape.insert(shape.begin() + dim, static_cast<int64_t>(tensors.size()));
  return shape;
}

namespace {

// out[..., start : start + length, ...] along `dim`; drop_dim removes the dim (length 1), as
// select does.
Tensor slot(const Tensor& out, int64_t dim, int64_t start, int64_t length, bool drop_dim) {
  Shape shape = out.shape(), strides = out.strides();
  int64_t offset = out.offset() + start * strides[dim];
  shape[dim] = length;
  if (drop_dim) {
    shape.erase(shape.begin() + dim);
    strides.erase(strides.begin() + dim);
  }
  return Tensor::from_storage(out.storage(), shape, strides, offset, out.dtype());
}

}  // namespace

void cat_into_slots(KernelContext& ctx, SlotCopyFn copy) {
  int64_t dim = ctx.attrs().get_int("dim");
  Shape shape = cat_shape(ctx.inputs(), dim);
  const Tensor& out = ctx.output(0, shape, ctx.input(0).dtype());
  int64_t offset = 0;
  for (const Tensor& t : ctx.inputs()) {
    if (cat_skips(t)) continue;
    const int64_t length = t.size(dim);
    if (t.numel() > 0) copy(slot(out, dim, offset, length, false), t);
    offset += length;
  }
}

void stack_into_slots(KernelContext& ctx, SlotCopyFn copy) {
  int64_t dim = ctx.attrs().get_int("dim");
  Shape shape = stack_shape(ctx.inputs(), dim);
  const Tensor& out = ctx.output(0, shape, ctx.input(0).dtype());
  for (int64_t i = 0; i < ctx.num_inputs(); ++i) {
    const Tensor& t = ctx.input(static_cast<int>(i));
    if (t.numel() > 0) copy(slot(out, dim, i, 1, true), t);
  }
}

namespace {

void validate_cat(const KernelContext& ctx) {
  check_same_dtype(ctx);
  int64_t dim = ctx.attrs().get_int("dim");
  cat_shape(ctx.inputs(), dim);
}

void validate_stack(const KernelContext& ctx) {
  check_same_dtype(ctx);
  int64_t dim = ctx.attrs().get_int("dim");
  stack_shape(ctx.inputs(), dim);
}

std::vector<Tensor> cat_backward(const BackwardContext& ctx) {
  const Tensor& g = ctx.grad_output();
  const size_t n = ctx.input_shapes.size();
  int64_t dim = ctx.attrs.get_int("dim");
  dim = g.dim() == 0 ? 0 : wrap_dim(dim, g.dim());
  std::vector<Tensor> grads(n);
  int64_t offset = 0;
  for (size_t i = 0; i < n; ++i) {
    const Shape& s = ctx.input_shapes[i];
    if (s.size() == 1 && s[0] == 0) {
      if (ctx.needs_grad(static_cast<int>(i))) grads[i] = Tensor::empty(s, g.dtype(), g.device());
      continue;
    }
    if (ctx.needs_grad(static_cast<int>(i))) grads[i] = g.narrow(dim, offset, s[dim]);
    offset += s[dim];
  }
  return grads;
}

std::vector<Tensor> stack_backward(const BackwardContext& ctx) {
  const Tensor& g = ctx.grad_output();
  const size_t n = ctx.input_shapes.size();
  int64_t dim = wrap_dim(ctx.attrs.get_int("dim"), g.dim());
  std::vector<Tensor> grads(n);
  for (size_t i = 0; i < n; ++i) {
    if (ctx.needs_grad(static_cast<int>(i))) grads[i] = g.select(dim, static_cast<int64_t>(i));
  }
  return grads;
}

std::vector<OpCase> cat_cases(DType dtype, uint64_t seed) {
  CaseRandom rng(seed);
  auto u = [&](const Shape& s) { return rng.uniform(s, dtype); };
  auto dim = [](int64_t d) { return Attrs{{"dim", d}}; };
  return {
      {"dim0", {u({2, 3}), u({4, 3})}, dim(0)},
      {"dim-last-three", {u({2, 1}), u({2, 3}), u({2, 2})}, dim(-1)},
      {"3d-middle", {u({2, 1, 3}), u({2, 2, 3})}, dim(1)},
      {"non-contiguous", {non_contiguous(u({3, 2})), u({3, 4})}, dim(1)},
      {"single", {u({2, 3})}, dim(0)},
      {"empty-part", {u({0, 3}), u({2, 3})}, dim(0)},
      {"all-empty", {u({2, 0}), u({2, 0})}, dim(1)},
      {"skips-1d-empty", {u({2, 3}), u({0}), u({1, 3})}, dim(0)},
      {"1d", {u({3}), u({2})}, dim(0)},
  };
}

std::vector<OpCase> stack_cases(DType dtype, uint64_t seed) {
  CaseRandom rng(seed);
  auto u = [&](const Shape& s) { return rng.uniform(s, dtype); };
  auto dim = [](int64_t d) { return Attrs{{"dim", d}}; };
  return {
      {"dim0", {u({2, 3}), u({2, 3})}, dim(0)},
      {"dim-last-three", {u({2, 3}), u({2, 3}), u({2, 3})}, dim(-1)},
      {"middle", {u({2, 3}), u({2, 3})}, dim(1)},
      {"non-contiguous", {non_contiguous(u({3, 2})), u({3, 2})}, dim(0)},
      {"scalars", {u({}), u({}), u({})}, dim(0)},
      {"empty", {u({0, 3}), u({0, 3})}, dim(1)},
  };
}

OpDef join_def(const char* name, dispatch::ValidateFn validate, dispatch::BackwardFn backward,
               dispatch::CaseFn cases, const char* doc) {
  OpDef def;
  InputSpec tensors{"tensors"};
  tensors.variadic = true;
  def.schema.name = name;
  def.schema.inputs = {tensors};
  def.schema.attrs = {{"dim", AttrType::integer, int64_t{0}, "the dim to join along"}};
  def.schema.outputs = {{"output"}};
  def.schema.doc = doc;
  def.validate = std::move(validate);
  def.backward = std::move(backward);
  def.save_inputs = false;
  def.cases = std::move(cases);
  return def;
}

const bool registered = [] {
  auto& r = dispatch::Registry::instance();
  r.add_op(join_def("cat", validate_cat, cat_backward, cat_cases,
                    "joins tensors along an existing dim"));
  r.add_op(join_def("stack", validate_stack, stack_backward, stack_cases,
                    "joins equal-shaped tensors along a new dim"));
  return true;
}();

}  // namespace

Tensor cat(const std::vector<Tensor>& tensors, int64_t dim) {
  OSPREY_CHECK(!tensors.empty(), "cat: needs at least one tensor");
  return dispatch::call1("cat", tensors, Attrs{{"dim", dim}});
}

Tensor stack(const std::vector<Tensor>& tensors, int64_t dim) {
  OSPREY_CHECK(!tensors.empty(), "stack: needs at least one tensor");
  return dispatch::call1("stack", tensors, Attrs{{"dim", dim}});
}

std::vector<Tensor> split(const Tensor& input, int64_t split_size, int64_t dim) {
  OSPREY_CHECK_KIND(shape, input.dim() > 0, "split: cannot split a 0-d tensor");
  dim = wrap_dim(dim, input.dim(), "split dim");
  const int64_t n = input.size(dim);
  OSPREY_CHECK(split_size > 0 || (split_size == 0 && n == 0),
               "split: split_size must be positive, got {} for dim {} of size {}", split_size, dim,
               n);
  if (n == 0) return {input.narrow(dim, 0, 0)};
  std::vector<Tensor> pieces;
  for (int64_t start = 0; start < n; start += split_size) {
    pieces.push_back(input.narrow(dim, start, std::min(split_size, n - start)));
  }
  return pieces;
}

std::vector<Tensor> split(const Tensor& input, const std::vector<int64_t>& sizes, int64_t dim) {
  OSPREY_CHECK_KIND(shape, input.dim() > 0, "split: cannot split a 0-d tensor");
  dim = wrap_dim(dim, input.dim(), "split dim");
  int64_t total = 0;
  for (int64_t s : sizes) {
    OSPREY_CHECK(s >= 0, "split: negative size {} in sizes {}", s, shape_str(sizes));
    total += s;
  }
  OSPREY_CHECK_KIND(shape, total == input.size(dim),
                    "split: sizes {} sum to {} but dim {} of {} has size {}", shape_str(sizes),
                    total, dim, input.describe(), input.size(dim));
  std::vector<Tensor> pieces;
  int64_t start = 0;
  for (int64_t s : sizes) {
    pieces.push_back(input.narrow(dim, start, s));
    start += s;
  }
  return pieces;
}

std::vector<Tensor> chunk(const Tensor& input, int64_t chunks, int64_t dim) {
  OSPREY_CHECK(chunks > 0, "chunk: chunks must be positive, got {}", chunks);
  OSPREY_CHECK_KIND(shape, input.dim() > 0, "chunk: cannot chunk a 0-d tensor");
  const int64_t n = input.size(wrap_dim(dim, input.dim(), "chunk dim"));
  return split(input, (n + chunks - 1) / chunks, dim);
}

std::vector<Tensor> unbind(const Tensor& input, int64_t dim) {
  OSPREY_CHECK_KIND(shape, input.dim() > 0, "unbind: cannot unbind a 0-d tensor");
  dim = wrap_dim(dim, input.dim(), "unbind dim");
  std::vector<Tensor> pieces;
  for (int64_t i = 0; i < input.size(dim); ++i) pieces.push_back(input.select(dim, i));
  return pieces;
}

}  // namespace osprey::ops
