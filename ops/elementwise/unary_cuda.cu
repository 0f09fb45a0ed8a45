// CUDA kernels of exp, log, sqrt, abs, sign, pow, clamp and clamp_backward: the element-wise loop
// (cuda_map: 16-byte vectors when contiguous, strided otherwise) around the CUDA math function,
// in float for f16/bf16. Bandwidth-bound, like the CPU reference they mirror.
#include <cmath>

#include "ops/common/cuda_unary.cuh"

namespace osprey::ops {
namespace {

template <typename C>
struct ExpFn {
  OSPREY_INLINE C operator()(C x) const { return ::exp(x); }
};
template <typename C>
struct LogFn {
  OSPREY_INLINE C operator()(C x) const { return ::log(x); }
};
template <typename C>
struct SqrtFn {
  OSPREY_INLINE C operator()(C x) const { return ::sqrt(x); }
};
template <typename C>
struct SquareFn {
  OSPREY_INLINE C operator()(C x) const { return x * x; }
};
template <typename C>
struct PowFn {
  C p;
  OSPREY_INLINE C operator()(C x) const { return ::pow(x, p); }
};

template <typename C>
struct AbsFn {
  OSPREY_INLINE C operator()(C x) const {
    if constexpr (std::is_unsigned_v<C>) {
      return x;
    } else {
      return x < C(0) ? C(-x) : x;
    }
  }
};

template <typename C>
struct SignFn {
  OSPREY_INLINE C operator()(C x) const {
    if constexpr (std::is_unsigned_v<C>) {
      return C(x != C(0));
    } else {
      if constexpr (std::is_floating_point_v<C>) {
        if (x != x) return x;  // NaN stays NaN
      }
      return C((C(0) < x) - (x < C(0)));
    }
  }
};

// Compared in double so that infinite bounds never convert to an integral type (as on the CPU).
template <typename C>
struct ClampFn {
  double lo, hi;
  OSPREY_INLINE C operator()(C x) const {
    double v = static_cast<double>(x);
    C r = v < lo ? static_cast<C>(lo) : x;
    return static_cast<double>(r) > hi ? static_cast<C>(hi) : r;
  }
};

template <typename C>
struct ClampBackwardFn {
  double lo, hi;
  OSPREY_INLINE C operator()(C g, C x) const {
    double v = static_cast<double>(x);
    return v >= lo && v <= hi ? g : C(0);
  }
};

void exp_kernel(KernelContext& ctx) {
  float_unary_cuda<ExpFn>(ctx);
}
void log_kernel(KernelContext& ctx) {
  float_unary_cuda<LogFn>(ctx);
}
void sqrt_kernel(KernelContext& ctx) {
  float_unary_cuda<SqrtFn>(ctx);
}
void pow_kernel(KernelContext& ctx) {
  double p = ctx.attrs().get_float("exponent");
  if (p == 2.0) {
    float_unary_cuda<SquareFn>(ctx);
  } else {
    float_unary_cuda<PowFn>(ctx, p);
  }
}
void abs_kernel(KernelContext& ctx) {
  numeric_unary_cuda<AbsFn>(ctx);
}
void sign_kernel(KernelContext& ctx) {
  numeric_unary_cuda<SignFn>(ctx);
}
void clamp_kernel(KernelContext& ctx) {
  numeric_unary_cuda<ClampFn>(ctx, ctx.attrs().get_float("min"), ctx.attrs().get_float("max"));
}

void clamp_backward_kernel(KernelContext& ctx) {
  check_cuda_operands(ctx);
  const Tensor& g = ctx.input(0);
  const Tensor& x = ctx.input(1);
  Shape shape = broadcast_shapes(g.shape(), x.shape(), "clamp_backward");
  const Tensor& out = ctx.output(0, shape, g.dtype());
  double lo = ctx.attrs().get_float("min"), hi = ctx.attrs().get_float("max");
  OSPREY_DISPATCH_FLOAT_AND_HALF(g.dtype(), "clamp_backward", [&]<typename T>() {
    using C = compute_t<T>;
    using F = ClampBackwardFn<C>;
    cuda_map<T, T, T>(out, cuda_detail::InComputeType<T, F>{F{lo, hi}}, g, x);
  });
}

const bool registered = [] {
  const char* doc = "element-wise loop (cuda_map) around the CUDA math function";
  auto reg = [doc](const char* op, void (*fn)(KernelContext&)) {
    register_kernel(op, DeviceType::cuda, "native", 0, fn, {}, doc);
  };
  reg("exp", exp_kernel);
  reg("log", log_kernel);
  reg("sqrt", sqrt_kernel);
  reg("pow", pow_kernel);
  reg("abs", abs_kernel);
  reg("sign", sign_kernel);
  reg("clamp", clamp_kernel);
  reg("clamp_backward", clamp_backward_kernel);
  return true;
}();

}  // namespace
}  // namespace osprey::ops
