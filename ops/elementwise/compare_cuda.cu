// CUDA kernels of the comparisons (eq, ne, lt, le, gt, ge -> bool), where, maximum, minimum,
// maximum_backward and pow_tensor: broadcasting element-wise loops (cuda_map), the CPU
// reference's formulas with f16/bf16 in float.
#include <cmath>

#include "ops/common/cuda_unary.cuh"

namespace osprey::ops {
namespace {

enum class Cmp { eq, ne, lt, le, gt, ge };

template <typename T, Cmp K>
struct CompareFn {
  OSPREY_INLINE bool operator()(T x, T y) const {
    using C = cuda_compute_t<T>;
    C a = C(x), b = C(y);
    switch (K) {
      case Cmp::eq:
        return a == b;
      case Cmp::ne:
        return a != b;
      case Cmp::lt:
        return a < b;
      case Cmp::le:
        return a <= b;
      case Cmp::gt:
        return a > b;
      default:
        return a >= b;
    }
  }
};

template <Cmp K>
void compare_kernel(KernelContext& ctx) {
  check_cuda_operands(ctx);
  const Tensor& a = ctx.input(0);
  const Tensor& b = ctx.input(1);
  const char* name = ctx.op().schema.name.c_str();
  Shape shape = broadcast_shapes(a.shape(), b.shape(), name);
  const Tensor& out = ctx.output(0, shape, DType::boolean);
  OSPREY_DISPATCH_ALL(a.dtype(), name,
                      [&]<typename T>() { cuda_map<bool, T, T>(out, CompareFn<T, K>{}, a, b); });
}

template <typename T>
struct WhereFn {
  OSPREY_INLINE T operator()(bool k, T x, T y) const { return k ? x : y; }
};

void where_kernel(KernelContext& ctx) {
  check_cuda_operands(ctx);
  const Tensor& c = ctx.input(0);
  const Tensor& a = ctx.input(1);
  const Tensor& b = ctx.input(2);
  Shape shape =
      broadcast_shapes(broadcast_shapes(c.shape(), a.shape(), "where"), b.shape(), "where");
  const Tensor& out = ctx.output(0, shape, a.dtype());
  OSPREY_DISPATCH_ALL(a.dtype(), "where",
                      [&]<typename T>() { cuda_map<T, bool, T, T>(out, WhereFn<T>{}, c, a, b); });
}

// NaN wins (either side), then x when pick(x, y) holds.
template <typename T, bool Max>
struct PickFn {
  OSPREY_INLINE T operator()(T x, T y) const {
    using C = cuda_compute_t<T>;
    C cx = C(x), cy = C(y);
    if constexpr (std::is_floating_point_v<C>) {
      if (cx != cx) return x;
      if (cy != cy) return y;
    }
    return (Max ? cx >= cy : cx <= cy) ? x : y;
  }
};

template <bool Max>
void minmax_kernel(KernelContext& ctx) {
  check_cuda_operands(ctx);
  const Tensor& a = ctx.input(0);
  const Tensor& b = ctx.input(1);
  const char* name = ctx.op().schema.name.c_str();
  Shape shape = broadcast_shapes(a.shape(), b.shape(), name);
  const Tensor& out = ctx.output(0, shape, a.dtype());
  OSPREY_DISPATCH_ALL(a.dtype(), name,
                      [&]<typename T>() { cuda_map<T, T, T>(out, PickFn<T, Max>{}, a, b); });
}

template <typename T>
struct MaximumBackwardFn {
  OSPREY_INLINE T operator()(T gv, T x, T y) const {
    using C = cuda_compute_t<T>;
    C cx = C(x), cy = C(y);
    return T(cx > cy ? C(gv) : cx == cy ? C(gv) * C(0.5) : C(0));
  }
};

void maximum_backward_kernel(KernelContext& ctx) {
  check_cuda_operands(ctx);
  const Tensor& g = ctx.input(0);
  const Tensor& a = ctx.input(1);
  const Tensor& b = ctx.input(2);
  Shape shape = broadcast_shapes(broadcast_shapes(g.shape(), a.shape(), "maximum_backward"),
                                 b.shape(), "maximum_backward");
  const Tensor& out = ctx.output(0, shape, g.dtype());
  OSPREY_DISPATCH_FLOAT_AND_HALF(g.dtype(), "maximum_backward", [&]<typename T>() {
    cuda_map<T, T, T, T>(out, MaximumBackwardFn<T>{}, g, a, b);
  });
}

template <typename C>
struct PowTensorFn {
  OSPREY_INLINE C operator()(C x, C e) const { return ::pow(x, e); }
};

void pow_tensor_kernel(KernelContext& ctx) {
  float_binary_cuda<PowTensorFn>(ctx);
}

const bool registered = [] {
  const char* doc = "broadcasting element-wise loop (cuda_map)";
  auto reg = [doc](const char* op, void (*fn)(KernelContext&)) {
    register_kernel(op, DeviceType::cuda, "native", 0, fn, {}, doc);
  };
  reg("eq", compare_kernel<Cmp::eq>);
  reg("ne", compare_kernel<Cmp::ne>);
  reg("lt", compare_kernel<Cmp::lt>);
  reg("le", compare_kernel<Cmp::le>);
  reg("gt", compare_kernel<Cmp::gt>);
  reg("ge", compare_kernel<Cmp::ge>);
  reg("where", where_kernel);
  reg("maximum", minmax_kernel<true>);
  reg("minimum", minmax_kernel<false>);
  reg("maximum_backward", maximum_backward_kernel);
  reg("pow_tensor", pow_tensor_kernel);
  return true;
}();

}  // namespace
}  // namespace osprey::ops
