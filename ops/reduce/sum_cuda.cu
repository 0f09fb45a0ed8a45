// CUDA kernels of sum, mean and var over `dims` (empty: all), through cuda_sum_into: one thread
// per output for short reductions, one block per output with warp shuffles otherwise. Floating
// inputs keep their dtype (float accumulation, double for f64); integer and bool inputs sum in
// int64 to an i64 output, as on the CPU. mean scales by 1/N inside the same kernel (0/0 gives
// NaN). var takes two passes like the CPU (the mean, then the squared deviations from it) to
// avoid the cancellation of E[x^2] - E[x]^2.
#include "ops/common/cuda_reduce.cuh"

namespace osprey::ops {
namespace {

std::vector<bool> reduced_mask(const Tensor& input, const std::vector<int64_t>& dims) {
  std::vector<bool> mask(input.dim(), dims.empty());
  for (int64_t d : dims) mask[wrap_dim(d, input.dim())] = true;
  return mask;
}

template <typename T>
struct SquaredDeviationFn {
  OSPREY_INLINE T operator()(T x, T mean) const {
    using C = cuda_compute_t<T>;
    C d = C(x) - C(mean);
    return T(d * d);
  }
};

enum class Reduction { sum, mean, var };

template <Reduction R>
void reduce_kernel(KernelContext& ctx) {
  check_cuda_operands(ctx);
  Tensor input = ctx.input(0);
  bool keepdim = ctx.attrs().get_bool("keepdim");
  std::vector<bool> mask = reduced_mask(input, ctx.attrs().get_ints("dims"));
  Shape out_shape;
  int64_t count = 1;
  for (int64_t d = 0; d < input.dim(); ++d) {
    if (mask[d]) {
      count *= input.size(d);
      if (keepdim) out_shape.push_back(1);
    } else {
      out_shape.push_back(input.size(d));
    }
  }
  if (!is_floating(input.dtype())) input = input.to(DType::i64);
  const Tensor& out = ctx.output(0, out_shape, input.dtype());
  // out at the input's rank, reduced dims of size 1.
  Shape shape, strides;
  for (int64_t d = 0, o = 0; d < input.dim(); ++d) {
    if (mask[d]) {
      shape.push_back(1);
      strides.push_back(0);
      if (keepdim) ++o;
    } else {
      shape.push_back(out.size(o));
      strides.push_back(out.stride(o));
      ++o;
    }
  }
  Tensor view = Tensor::from_storage(out.storage(), shape, strides, out.offset(), out.dtype());
  if constexpr (R == Reduction::var) {
    // PyTorch clamps the divisor at 0: N <= correction gives inf or NaN.
    double denom =
        static_cast<double>(std::max<int64_t>(0, count - ctx.attrs().get_int("correction")));
    OSPREY_DISPATCH_FLOAT_AND_HALF(input.dtype(), "var", [&]<typename T>() {
      Tensor mean = Tensor::empty(shape, input.dtype(), input.device());
      cuda_sum_into<T>(mean, input, 1.0 / static_cast<double>(count));
      Tensor squares = Tensor::empty(input.shape(), input.dtype(), input.device());
      cuda_map<T, T, T>(squares, SquaredDeviationFn<T>{}, input, mean);
      cuda_sum_into<T>(view, squares, 1.0 / denom);
    });
    return;
  }
  double scale = R == Reduction::mean ? 1.0 / static_cast<double>(count) : 1.0;
  OSPREY_DISPATCH_ALL(input.dtype(), ctx.op().schema.name.c_str(), [&]<typename T>() {
    if constexpr (std::is_same_v<T, bool>) {
      throw_unsupported_dtype(input.dtype(), ctx.op().schema.name.c_str());
    } else {
      cuda_sum_into<T>(view, input, scale);
    }
  });
}

const bool registered = [] {
  const char* doc = "thread per output for short sums, block per output with warp shuffles else";
  register_kernel("sum", DeviceType::cuda, "native", 0, reduce_kernel<Reduction::sum>, {}, doc);
  register_kernel("mean", DeviceType::cuda, "native", 0, reduce_kernel<Reduction::mean>, {}, doc);
  register_kernel("var", DeviceType::cuda, "native", 0, reduce_kernel<Reduction::var>, {},
                  "two passes (mean, then squared deviations), each a cuda_sum_into");
  return true;
}();

}  // namespace
}  // namespace osprey::ops
