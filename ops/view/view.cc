#include "ops/view/view.h"

#include <numeric>

#include "ops/common/op_helpers.h"

namespace osprey::ops {

bool view_strides(const Shape& shape, const Shape& strides, const Shape& new_shape,
                  Shape& new_strides) {
  new_strides.assign(new_shape.size(), 0);
  int64_t numel = shape_numel(shape);
  if (numel == 0 || shape.empty()) {
    new_strides = contiguous_strides(new_shape);
    return true;
  }
  // Walk the old dims from the innermost, grouping runs that are contiguous with each other into
  // chunks; each chunk must be covered exactly by a run of new dims.
  int64_t view_d = static_cast<int64_t>(new_shape.size()) - 1;
  int64_t chunk_stride = strides.back();
  int64_t tensor_numel = 1, view_numel = 1;
  for (int64_t d = static_cast<int64_t>(shape.size()) - 1; d >= 0; --d) {
    tensor_numel *= shape[d];
    bool chunk_ends =
        d == 0 || (shape[d - 1] != 1 && strides[d - 1] != tensor_numel * chunk_stride);
    if (!chunk_ends) continue;
    while (view_d >= 0 && (view_numel < tensor_numel || new_shape[view_d] == 1)) {
      new_strides[view_d] = view_numel * chunk_stride;
      view_numel *= new_shape[view_d];
      --view_d;
    }
    if (view_numel != tensor_numel) return false;
    if (d > 0) {
      chunk_stride = strides[d - 1];
      tensor_numel = 1;
      view_numel = 1;
    }
  }
  return view_d == -1;
}

Shape infer_shape(const Shape& shape, int64_t numel, const char* op) {
  Shape out = shape;
  int infer = -1;
  int64_t known = 1;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == -1) {
      OSPREY_CHECK_KIND(shape, infer < 0, "{}: more than one -1 in shape {}", op, shape_str(shape));
      infer = static_cast<int>(i);
    } else {
      OSPREY_CHECK_KIND(shape, out[i] >= 0, "{}: negative size in shape {}", op, shape_str(shape));
      known *= out[i];
    }
  }
  if (infer >= 0) {
    OSPREY_CHECK_KIND(shape, known != 0 && numel % known == 0,
                      "{}: cannot infer -1 in shape {} for {} elements", op, shape_str(shape),
                      numel);
    out[infer] = numel / known;
  }
  OSPREY_CHECK_KIND(shape, shape_numel(out) == numel, "{}: shape {} does not hold {} elements", op,
                    shape_str(shape), numel);
  return out;
}

namespace {

Tensor alias(const Tensor& input, Shape shape, Shape strides, int64_t offset) {
  return Tensor::from_storage(input.storage(), std::move(shape), std::move(strides), offset,
                              input.dtype());
}

void view_kernel(KernelContext& ctx) {
  const Tensor& input = ctx.input(0);
  Shape shape = infer_shape(ctx.attrs().get_ints("shape"), input.numel(), "view");
  Shape strides;
  if (!view_strides(input.shape(), input.strides(), shape, strides)) {
    OSPREY_THROW(shape,
                 "view: {} with strides {} cannot be viewed as {} without a copy; use reshape",
                 input.describe(), shape_str(input.strides()), shape_str(shape));
  }
  ctx.set_output(0, alias(input, shape, strides, input.offset()));
}

void reshape_kernel(KernelContext& ctx) {
  const Tensor& input = ctx.input(0);
  Shape shape = infer_shape(ctx.attrs().get_ints("shape"), input.numel(), "reshape");
  Shape strides;
  if (view_strides(input.shape(), input.strides(), shape, strides)) {
    ctx.set_output(0, alias(input, shape, strides, input.offset()));
    return;
  }
  Tensor copy = input.contiguous();  // kernels run with recording off: no extra node
  ctx.set_output(0, alias(copy, shape, contiguous_strides(shape), copy.offset()));
}

void permute_kernel(KernelContext& ctx) {
  const Tensor& input = ctx.input(0);
  auto dims = ctx.attrs().get_ints("dims");
  int64_t n = input.dim();
  OSPREY_CHECK_KIND(shape, static_cast<int64_t>(dims.size()) == n,
                    "permute: {} dims given for a tensor of rank {}", dims.size(), n);
  Shape shape(n), strides(n);
  std::vector<bool> seen(n, false);
  for (int64_t i = 0; i < n; ++i) {
    int64_t d = wrap_dim(dims[i], n, "permute dim");
    OSPREY_CHECK(!seen[d], "permute: dim {} appears twice", d);
    seen[d] = true;
    shape[i] = input.shape()[d];
    strides[i] = input.strides()[d];
  }
  ctx.set_output(0, alias(input, shape, strides, input.offset()));
}

struct SliceBounds {
  int64_t dim, start, length, step;
};

SliceBounds slice_bounds(const Tensor& input, const Attrs& attrs) {
  int64_t dim = wrap_dim(attrs.get_int("dim"), input.dim(), "slice dim");
  int64_t n = input.size(dim);
  int64_t start = attrs.get_int("start"), end = attrs.get_int("end"), step = attrs.get_int("step");
  OSPREY_CHECK(step > 0, "slice: step must be positive, got {}", step);
  if (start < 0) start += n;
  if (end < 0) end += n;
  start = std::clamp<int64_t>(start, 0, n);
  end = std::clamp<int64_t>(end, start, n);
  return {dim, start, (end - start + step - 1) / step, step};
}

void slice_kernel(KernelContext& ctx) {
  const Tensor& input = ctx.input(0);
  SliceBounds b = slice_bounds(input, ctx.attrs());
  Shape shape = input.shape(), strides = input.strides();
  shape[b.dim] = b.length;
  strides[b.dim] *= b.step;
  ctx.set_output(0, alias(input, shape, strides, input.offset() + b.start * input.stride(b.dim)));
}

void expand_kernel(KernelContext& ctx) {
  const Tensor& input = ctx.input(0);
  Shape target = ctx.attrs().get_ints("shape");
  int64_t n = static_cast<int64_t>(target.size());
  OSPREY_CHECK_KIND(shape, n >= input.dim(), "expand: {} to fewer dims {}", input.describe(),
                    shape_str(target));
  Shape strides(n, 0);
  int64_t lead = n - input.dim();
  for (int64_t i = 0; i < n; ++i) {
    if (i < lead) {
      OSPREY_CHECK_KIND(shape, target[i] >= 0, "expand: -1 for a new leading dim in {}",
                        shape_str(target));
      continue;
    }
    int64_t have = input.size(i - lead);
    if (target[i] == -1) target[i] = have;
    if (have == target[i]) {
      strides[i] = input.stride(i - lead);
    } else {
      OSPREY_CHECK_KIND(shape, have == 1, "expand: {} cannot expand to {} (dim {}: {} vs {})",
                        input.describe(), shape_str(target), i, have, target[i]);
    }
  }
  ctx.set_output(0, alias(input, target, strides, input.offset()));
}

std::vector<Tensor> reshape_backward(const BackwardContext& ctx) {
  return {ctx.grad_output().reshape(ctx.input_shapes[0])};
}

std::vector<Tensor> permute_backward(const BackwardContext& ctx) {
  auto dims = ctx.attrs.get_ints("dims");
  Shape inverse(dims.size());
  for (size_t i = 0; i < dims.size(); ++i) {
    inverse[wrap_dim(dims[i], static_cast<int64_t>(dims.size()))] = static_cast<int64_t>(i);
  }
  return {ctx.grad_output().permute(inverse)};
}

std::vector<Tensor> slice_backward(const BackwardContext& ctx) {
  const Tensor& grad = ctx.grad_output();
  Tensor full = Tensor::empty(ctx.input_shapes[0], grad.dtype(), grad.device());
  full.zero_();
  Attrs attrs = ctx.attrs;
  SliceBounds b = slice_bounds(full, attrs);
  full.slice(b.dim, b.start, b.start + b.length * b.step, b.step).copy_(grad);
  return {full};
}

std::vector<Tensor> expand_backward(const BackwardContext& ctx) {
  return {sum_to(ctx.grad_output(), ctx.input_shapes[0])};
}

OpDef view_def(const char* name, std::vector<AttrSpec> attrs, dispatch::BackwardFn backward,
               const char* doc) {
  OpDef def;
  def.schema.name = name;
  def.schema.inputs = {{"input"}};
  def.schema.attrs = std::move(attrs);
  def.schema.outputs = {{"output"}};
  def.schema.doc = doc;
  def.backward = std::move(backward);
  def.save_inputs = false;
  def.is_view = true;
  return def;
}

void register_view(OpDef def, dispatch::KernelFn fn, dispatch::CaseFn cases) {
  def.cases = std::move(cases);
  std::string name = def.schema.name;
  dispatch::Registry::instance().add_op(std::move(def));
  for (DeviceType device : {DeviceType::cpu, DeviceType::cuda}) {
    register_kernel(name.c_str(), device, "reference", 0, fn, {},
                    "metadata-only view; the same code on every device");
  }
}

}  // namespace

dispatch::CaseFn view_cases(const char* op);  // view_cases.cc

namespace {
const bool registered = [] {
  register_view(view_def("view", {{"shape", AttrType::integers}}, reshape_backward,
                         "the same elements in a new shape, without copying"),
                view_kernel, view_cases("view"));
  register_view(view_def("reshape", {{"shape", AttrType::integers}}, reshape_backward,
                         "a view when strides allow, else a contiguous copy"),
                reshape_kernel, view_cases("reshape"));
  register_view(
      view_def("permute", {{"dims", AttrType::integers}}, permute_backward, "reorders dims"),
      permute_kernel, view_cases("permute"));
  register_view(view_def("slice",
                         {{"dim", AttrType::integer, int64_t{0}},
                          {"start", AttrType::integer, int64_t{0}},
                          {"end", AttrType::integer, int64_t{INT64_MAX}},
                          {"step", AttrType::integer, int64_t{1}}},
                         slice_backward, "a strided range of one dim"),
                slice_kernel, view_cases("slice"));
  register_view(view_def("expand", {{"shape", AttrType::integers}}, expand_backward,
                         "repeats size-1 dims with stride 0"),
                expand_kernel, view_cases("expand"));
  return true;
}();
}  // namespace

}  // namespace osprey::ops
