#include "ops/common/op_helpers.h"

namespace osprey::ops {

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (size_t i = 0; i < n; ++i) {
    int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    if (da != db && da != 1 && db != 1) {
      OSPREY_THROW(shape, "op '{}': shapes {} and {} do not broadcast (dim {}: {} vs {})", op,
                   shape_str(a), shape_str(b), i, da, db);
    }
    out[i] = da == 1 ? db : da;
  }
  return out;
}

Shape broadcast_input_shapes(const KernelContext& ctx) {
  const char* name = ctx.op().schema.name.c_str();
  Shape shape = ctx.input(0).shape();
  for (int i = 1; i < ctx.num_inputs(); ++i)
    shape = broadcast_shapes(shape, ctx.input(i).shape(), name);
  return shape;
}

Shape broadcast_strides(const Tensor& t, const Shape& shape) {
  Shape strides(shape.size(), 0);
  size_t offset = shape.size() - t.shape().size();
  for (size_t i = 0; i < t.shape().size(); ++i) {
    strides[offset + i] = t.shape()[i] == 1 ? 0 : t.strides()[i];
  }
  return strides;
}

Tensor sum_to(const Tensor& grad, const Shape& shape) {
  if (grad.shape() == shape) return grad;
  return dispatch::call1("sum_to", {grad}, Attrs{{"shape", shape}});
}

void register_kernel(const char* op, DeviceType device, const char* impl, int priority,
                     dispatch::KernelFn fn, dispatch::SupportsFn supports, const char* doc) {
  dispatch::Registry::instance().add_kernel(
      dispatch::Kernel{op, device, impl, priority, std::move(fn), std::move(supports), doc});
}

bool inputs_have_dtype(const KernelContext& ctx, std::initializer_list<DType> dtypes) {
  for (const auto& t : ctx.inputs()) {
    if (!t.defined()) continue;
    bool ok = false;
    for (DType d : dtypes) ok |= t.dtype() == d;
    if (!ok) return false;
  }
  return true;
}

bool inputs_are_float(const KernelContext& ctx) {
  return inputs_have_dtype(ctx, {DType::f32, DType::f64});
}

void check_same_dtype(const KernelContext& ctx) {
  const Tensor* first = nullptr;
  for (int i = 0; i < ctx.num_inputs(); ++i) {
    const Tensor& t = ctx.input(i);
    if (!t.defined()) continue;
    if (!first) {
      first = &t;
    } else if (t.dtype() != first->dtype()) {
      OSPREY_THROW(dtype, "op '{}': input '{}' is {} but '{}' is {} (cast one first)",
                   ctx.op().schema.name, ctx.op().schema.input_spec(i).name, dtype_name(t.dtype()),
                   ctx.op().schema.inputs[0].name, dtype_name(first->dtype()));
    }
  }
}

void check_floating(const KernelContext& ctx, int input) {
  const Tensor& t = ctx.input(input);
  if (t.defined() && !is_floating(t.dtype())) {
    OSPREY_THROW(dtype, "op '{}': input '{}' must be floating point, got {}", ctx.op().schema.name,
                 ctx.op().schema.input_spec(input).name, t.describe());
  }
}

}  // namespace osprey::ops
