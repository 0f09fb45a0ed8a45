// CPU reference kernels of exp, log, sqrt, abs, sign, pow, clamp and clamp_backward: the
// element-wise loop (cpu_map) around the std:: function, in the input's dtype (f16/bf16 compute in
// float). They are also the fast CPU path: the loop is flat and vectorisable when contiguous.
#include <cmath>

#include "ops/elementwise/elementwise_cpu.h"

namespace osprey::ops {
namespace {

void exp_kernel(KernelContext& ctx) {
  float_unary_kernel(ctx, [](auto x) { return std::exp(x); });
}
void log_kernel(KernelContext& ctx) {
  float_unary_kernel(ctx, [](auto x) { return std::log(x); });
}
void sqrt_kernel(KernelContext& ctx) {
  float_unary_kernel(ctx, [](auto x) { return std::sqrt(x); });
}
void pow_kernel(KernelContext& ctx) {
  double p = ctx.attrs().get_float("exponent");
  if (p == 2.0) {  // the common square: one multiply instead of a pow call
    float_unary_kernel(ctx, [](auto x) { return x * x; });
  } else {
    float_unary_kernel(ctx, [p](auto x) { return std::pow(x, static_cast<decltype(x)>(p)); });
  }
}

void abs_kernel(KernelContext& ctx) {
  numeric_unary_kernel(ctx, []<typename C>(C x) -> C {
    if constexpr (std::is_unsigned_v<C>) {
      return x;
    } else {
      return x < C(0) ? C(-x) : x;
    }
  });
}

void sign_kernel(KernelContext& ctx) {
  numeric_unary_kernel(ctx, []<typename C>(C x) -> C {
    if constexpr (std::is_floating_point_v<C>) {
      if (std::isnan(x)) return x;
    }
    return C((C(0) < x) - (x < C(0)));
  });
}

// Compared in double so that infinite bounds never convert to an integral type; a bound is only
// converted when it is the result.
template <typename C>
C clamp_value(C x, double lo, double hi) {
  double v = static_cast<double>(x);
  C r = v < lo ? static_cast<C>(lo) : x;
  return static_cast<double>(r) > hi ? static_cast<C>(hi) : r;
}

void clamp_kernel(KernelContext& ctx) {
  double lo = ctx.attrs().get_float("min"), hi = ctx.attrs().get_float("max");
  numeric_unary_kernel(ctx, [lo, hi]<typename C>(C x) -> C { return clamp_value(x, lo, hi); });
}

void clamp_backward_kernel(KernelContext& ctx) {
  double lo = ctx.attrs().get_float("min"), hi = ctx.attrs().get_float("max");
  float_binary_kernel(ctx, [lo, hi]<typename C>(C g, C x) -> C {
    double v = static_cast<double>(x);
    return v >= lo && v <= hi ? g : C(0);
  });
}

const bool registered = [] {
  const char* doc = "element-wise loop (cpu_map); f16/bf16 compute in float";
  register_kernel("exp", DeviceType::cpu, "reference", 0, exp_kernel, {}, doc);
  register_kernel("log", DeviceType::cpu, "reference", 0, log_kernel, {}, doc);
  register_kernel("sqrt", DeviceType::cpu, "reference", 0, sqrt_kernel, {}, doc);
  register_kernel("pow", DeviceType::cpu, "reference", 0, pow_kernel, {}, doc);
  register_kernel("abs", DeviceType::cpu, "reference", 0, abs_kernel, {}, doc);
  register_kernel("sign", DeviceType::cpu, "reference", 0, sign_kernel, {}, doc);
  register_kernel("clamp", DeviceType::cpu, "reference", 0, clamp_kernel, {}, doc);
  register_kernel("clamp_backward", DeviceType::cpu, "reference", 0, clamp_backward_kernel, {},
                  doc);
  return true;
}();

}  // namespace
}  // namespace osprey::ops
