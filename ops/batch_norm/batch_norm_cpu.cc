// CPU kernels of batch_norm and batch_norm_backward.
//   reference: direct loops per channel over every (n, spatial) position, read and written
//     through strides (so channels-last and other layouts need no copy), sums in double.
//     f32 and f64. With relu=true the output is max(y, 0) (batch_norm.h).
//   channels: the same loops with the channels split across OpenMP threads (each channel, its
//     running stats included, is independent). f32 and f64; wins once the tensor is large.
#include <cmath>
#include <vector>

#include "ops/batch_norm/batch_norm_channels.h"
#include "ops/common/op_helpers.h"

namespace osprey::ops {
namespace {

// Element offsets of channel 0 at every (n, spatial) position of an N x C x ... tensor, in
// row-major order of (n, spatial); channel c adds c * stride(1).
std::vector<int64_t> channel_offsets(const Tensor& t) {
  Shape rest = t.shape();
  Shape strides = t.strides();
  rest.erase(rest.begin() + 1);
  strides.erase(strides.begin() + 1);
  std::vector<int64_t> offsets;
  const int64_t count = shape_numel(rest);
  offsets.reserve(static_cast<size_t>(count));
  Shape index(rest.size(), 0);
  for (int64_t i = 0; i < count; ++i) {
    int64_t off = 0;
    for (size_t d = 0; d < rest.size(); ++d) off += index[d] * strides[d];
    offsets.push_back(off);
    for (size_t d = rest.size(); d-- > 0;) {
      if (++index[d] < rest[d]) break;
      index[d] = 0;
    }
  }
  return offsets;
}

template <typename T>
void forward_loops(KernelContext& ctx, bool parallel) {
  const Tensor& x = ctx.input(0);
  const Tensor& weight = ctx.input(1);
  const Tensor& bias = ctx.input(2);
  const Tensor& running_mean = ctx.input(3);
  const Tensor& running_var = ctx.input(4);
  const bool training = ctx.attrs().get_bool("training");
  const double momentum = ctx.attrs().get_float("momentum");
  const double eps = ctx.attrs().get_float("eps");
  const bool relu = ctx.attrs().get_bool("relu");
  const int64_t channels = x.size(1);
  const Tensor& out = ctx.output(0, x.shape(), x.dtype());
  const Tensor& save_mean = ctx.output(1, {channels}, x.dtype());
  const Tensor& save_invstd = ctx.output(2, {channels}, x.dtype());
  const auto x_offsets = channel_offsets(x);
  const auto out_offsets = channel_offsets(out);
  const auto m = static_cast<int64_t>(x_offsets.size());
  const T* xp = x.data<T>();
  T* op = out.data<T>();
#pragma omp parallel for schedule(static) if (parallel && channels > 1)
  for (int64_t c = 0; c < channels; ++c) {
    const T* xc = xp + c * x.stride(1);
    double mean = 0, invstd = 0;
    if (training && m > 0) {
      double total = 0;
      for (int64_t i = 0; i < m; ++i) total += static_cast<double>(xc[x_offsets[i]]);
      mean = total / static_cast<double>(m);
      double squares = 0;
      for (int64_t i = 0; i < m; ++i) {
        const double d = static_cast<double>(xc[x_offsets[i]]) - mean;
        squares += d * d;
      }
      const double var = squares / static_cast<double>(m);
      invstd = 1.0 / std::sqrt(var + eps);
      if (running_mean.defined()) {
        update_running_stats<T>(running_mean, running_var, c, momentum, mean,
                                squares / static_cast<double>(m - 1));
      }
    } else if (!training) {
      mean = channel_value<T>(running_mean, c, 0);
      invstd = 1.0 / std::sqrt(channel_value<T>(running_var, c, 1) + eps);
    }
    set_channel<T>(save_mean, c, mean);
    set_channel<T>(save_invstd, c, invstd);
    const double w = channel_value<T>(weight, c, 1);
    const double b = channel_value<T>(bias, c, 0);
    T* oc = op + c * out.stride(1);
    for (int64_t i = 0; i < m; ++i) {
      const double xhat = (static_cast<double>(xc[x_offsets[i]]) - mean) * invstd;
      const double y = xhat * w + b;
      oc[out_offsets[i]] = static_cast<T>(relu && y < 0 ? 0.0 : y);
    }
  }
  if (training && m > 0 && running_mean.defined()) {
    running_mean.bump_version();
    running_var.bump_version();
  }
}

template <typename T>
void backward_loops(KernelContext& ctx, bool parallel) {
  const Tensor& g = ctx.input(0);
  const Tensor& x = ctx.input(1);
  const Tensor& weight = ctx.input(2);
  const Tensor& save_mean = ctx.input(3);
  const Tensor& save_invstd = ctx.input(4);
  const bool training = ctx.attrs().get_bool("training");
  const int64_t channels = x.size(1);
  const Tensor& grad_input = ctx.output(0, x.shape(), x.dtype());
  const Tensor& grad_weight = ctx.output(1, {channels}, x.dtype());
  const Tensor& grad_bias = ctx.output(2, {channels}, x.dtype());
  const auto x_offsets = channel_offsets(x);
  const auto g_offsets = channel_offsets(g);
  const auto gi_offsets = channel_offsets(grad_input);
  const auto m = static_cast<int64_t>(x_offsets.size());
#pragma omp parallel for schedule(static) if (parallel && channels > 1)
  for (int64_t c = 0; c < channels; ++c) {
    const T* xc = x.data<T>() + c * x.stride(1);
    const T* gc = g.data<T>() + c * g.stride(1);
    T* gic = grad_input.data<T>() + c * grad_input.stride(1);
    const double mean = channel_value<T>(save_mean, c, 0);
    const double invstd = channel_value<T>(save_invstd, c, 0);
    const double w = channel_value<T>(weight, c, 1);
    double sum_g = 0, sum_gx = 0;
    for (int64_t i = 0; i < m; ++i) {
      const double gv = static_cast<double>(gc[g_offsets[i]]);
      sum_g += gv;
      sum_gx += gv * (static_cast<double>(xc[x_offsets[i]]) - mean) * invstd;
    }
    set_channel<T>(grad_bias, c, sum_g);
    set_channel<T>(grad_weight, c, sum_gx);
    const double mean_g = m > 0 ? sum_g / static_cast<double>(m) : 0;
    const double mean_gx = m > 0 ? sum_gx / static_cast<double>(m) : 0;
    for (int64_t i = 0; i < m; ++i) {
      double gv = static_cast<double>(gc[g_offsets[i]]);
      if (training) {
        const double xhat = (static_cast<double>(xc[x_offsets[i]]) - mean) * invstd;
        gv = gv - mean_g - xhat * mean_gx;
      }
      gic[gi_offsets[i]] = static_cast<T>(w * invstd * gv);
    }
  }
}

// Both ops, each as `impl` at `priority`.
void register_pair(const char* impl, int priority, bool parallel, const char* doc) {
  register_kernel(
      "batch_norm", DeviceType::cpu, impl, priority,
      [parallel](KernelContext& ctx) {
        OSPREY_DISPATCH_FLOAT(ctx.input(0).dtype(), "batch_norm",
                              [&]<typename T>() { forward_loops<T>(ctx, parallel); });
      },
      inputs_are_float, doc);
  register_kernel(
      "batch_norm_backward", DeviceType::cpu, impl, priority,
      [parallel](KernelContext& ctx) {
        OSPREY_DISPATCH_FLOAT(ctx.input(0).dtype(), "batch_norm_backward",
                              [&]<typename T>() { backward_loops<T>(ctx, parallel); });
      },
      inputs_are_float, doc);
}

const bool registered = [] {
  register_pair("reference", 0, false, "direct per-channel loops through strides, sums in double");
  register_pair("channels", 10, true, "the reference loops, channels split across threads");
  return true;
}();

}  // namespace
}  // namespace osprey::ops
