// Small helpers shared by op definitions: schema building shorthands, broadcasting rules, and the
// kernel-registration helpers used by every op folder.
#pragma once

#include <initializer_list>
#include <string>
#include <vector>

#include "framework/dispatch/registry.h"

namespace osprey::ops {

using dispatch::Attrs;
using dispatch::AttrSpec;
using dispatch::AttrType;
using dispatch::BackwardContext;
using dispatch::InputSpec;
using dispatch::KernelContext;
using dispatch::OpCase;
using dispatch::OpDef;
using dispatch::OutputSpec;

// The broadcast of two shapes (NumPy rules); errors name `op` and both shapes.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);
// The broadcast of every input's shape, folded left to right; errors name the op.
Shape broadcast_input_shapes(const KernelContext& ctx);
// Strides that read `t` as if it had `shape` (size-1 and missing leading dims get stride 0).
Shape broadcast_strides(const Tensor& t, const Shape& shape);
// Sums `grad` down to `shape` (the inverse of broadcasting); returns grad itself when equal.
Tensor sum_to(const Tensor& grad, const Shape& shape);

// Registers one kernel; `supports` may be empty.
void register_kernel(const char* op, DeviceType device, const char* impl, int priority,
                     dispatch::KernelFn fn, dispatch::SupportsFn supports = {},
                     const char* doc = "");

// Supports predicates.
bool inputs_have_dtype(const KernelContext& ctx, std::initializer_list<DType> dtypes);
bool inputs_are_float(const KernelContext& ctx);  // f32 or f64 (what references cover)

// A kernel written as a template over the float type, registered as one function: runs the f64
// instance when input 0 is f64, else the f32 one (`supports` has already limited it to these).
template <void (*F32)(KernelContext&), void (*F64)(KernelContext&)>
void by_float_dtype(KernelContext& ctx) {
  ctx.input(0).dtype() == DType::f64 ? F64(ctx) : F32(ctx);
}

// Validation shorthands: each throws naming the op and the argument.
void check_same_dtype(const KernelContext& ctx);
void check_floating(const KernelContext& ctx, int input);

}  // namespace osprey::ops
