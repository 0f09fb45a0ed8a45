// cpu/reference kernels of roi_pool and roi_pool_backward: direct loops over (RoI, channel, bin)
// and the bin's pixels, reading inputs through their strides; the backward scatters RoIs in order
// into a dense buffer. f32 and f64 (bins computed in the input's dtype, as torchvision does).
#include <cfloat>
#include <limits>
#include <vector>

#include "ops/common/op_helpers.h"
#include "ops/roi_pool/roi_pool_geometry.h"

namespace osprey::ops {
namespace {

MemoryFormat format_of(const Tensor& t) {
  return t.is_contiguous(MemoryFormat::channels_last) && !t.is_contiguous()
             ? MemoryFormat::channels_last
             : MemoryFormat::contiguous;
}

int64_t offset4(const Tensor& t, int64_t a, int64_t b, int64_t c, int64_t d) {
  return a * t.stride(0) + b * t.stride(1) + c * t.stride(2) + d * t.stride(3);
}

template <typename T>
void forward_reference(KernelContext& ctx) {
  const Tensor& input = ctx.input(0);
  const Tensor& rois = ctx.input(1);
  const RoiPoolParams p = RoiPoolParams::from(ctx.attrs(), "roi_pool");
  const int64_t C = input.size(1), H = input.size(2), W = input.size(3), K = rois.size(0);
  const Shape shape{K, C, p.pooled_h, p.pooled_w};
  const Tensor& out = ctx.output(0, shape, input.dtype(), format_of(input));
  const Tensor& argmax = ctx.output(1, shape, DType::i64, format_of(input));
  const std::vector<T> r = rois.to_vector<T>();
  const T* x = input.data<T>();
  T* y = out.data<T>();
  int64_t* idx = argmax.data<int64_t>();
  for (int64_t k = 0; k < K; ++k) {
    const T* roi = r.data() + 5 * k;
    const int64_t n = static_cast<int64_t>(roi[0]);
    for (int64_t i = 0; i < p.pooled_h; ++i)
      for (int64_t j = 0; j < p.pooled_w; ++j) {
        const PoolBin b =
            roi_pool_bin(roi, static_cast<T>(p.spatial_scale), static_cast<int>(p.pooled_h),
                         static_cast<int>(p.pooled_w), static_cast<int>(i), static_cast<int>(j),
                         static_cast<int>(H), static_cast<int>(W));
        for (int64_t c = 0; c < C; ++c) {
          T best = b.empty() ? T(0) : std::numeric_limits<T>::lowest();
          int64_t best_index = -1;
          for (int64_t h = b.h0; h < b.h1; ++h)
            for (int64_t w = b.w0; w < b.w1; ++w) {
              const T v = x[offset4(input, n, c, h, w)];
              if (v > best) {
                best = v;
                best_index = h * W + w;
              }
            }
          y[offset4(out, k, c, i, j)] = best;
          idx[offset4(argmax, k, c, i, j)] = best_index;
        }
      }
  }
}

template <typename T>
void backward_reference(KernelContext& ctx) {
  const Tensor& grad = ctx.input(0);
  const Tensor& rois = ctx.input(1);
  const Tensor& argmax = ctx.input(2);
  const Shape size = ctx.attrs().get_ints("input_size");
  const int64_t C = size[1], H = size[2], W = size[3];
  const Tensor& out = ctx.output(0, size, grad.dtype(), format_of(grad));
  std::vector<double> acc(static_cast<size_t>(out.numel()), 0.0);
  const std::vector<double> r = rois.to_vector<double>();
  const T* g = grad.data<T>();
  const int64_t* idx = argmax.data<int64_t>();
  for (int64_t k = 0; k < grad.size(0); ++k) {
    const int64_t n = static_cast<int64_t>(r[5 * k]);
    for (int64_t c = 0; c < C; ++c)
      for (int64_t i = 0; i < grad.size(2); ++i)
        for (int64_t j = 0; j < grad.size(3); ++j) {
          const int64_t at = idx[offset4(argmax, k, c, i, j)];
          if (at < 0) continue;
          OSPREY_CHECK(at < H * W, "roi_pool_backward: argmax {} is outside the {}×{} plane", at, H,
                       W);
          acc[static_cast<size_t>((n * C + c) * H * W + at)] +=
              static_cast<double>(g[offset4(grad, k, c, i, j)]);
        }
  }
  T* dst = out.data<T>();
  size_t e = 0;
  for (int64_t n = 0; n < size[0]; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t h = 0; h < H; ++h)
        for (int64_t w = 0; w < W; ++w) dst[offset4(out, n, c, h, w)] = static_cast<T>(acc[e++]);
}

const bool registered = [] {
  auto fp = [](const KernelContext& ctx) {
    return ctx.input(0).dtype() == DType::f32 || ctx.input(0).dtype() == DType::f64;
  };
  register_kernel("roi_pool", DeviceType::cpu, "reference", 0,
                  by_float_dtype<forward_reference<float>, forward_reference<double>>, fp,
                  "direct loops over each bin's pixels");
  register_kernel("roi_pool_backward", DeviceType::cpu, "reference", 0,
                  by_float_dtype<backward_reference<float>, backward_reference<double>>, fp,
                  "scatter at argmax into a double buffer, RoIs in order");
  return true;
}();

}  // namespace
}  // namespace osprey::ops
