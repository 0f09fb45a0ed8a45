// cpu/reference kernels of roi_align and roi_align_backward: the defining sums of roi_align.h as
// direct loops over (RoI, channel, bin, sample), each sample interpolated on its own in double
// with torchvision's edge rule spelled out here (independently of roi_align_geometry.h, which the
// fast kernels share), reading every tensor through its strides. The backward scatters into a
// dense double buffer, RoIs in order. f32 and f64.
#include <algorithm>
#include <cmath>
#include <vector>

#include "ops/common/op_helpers.h"
#include "ops/roi_align/roi_align_geometry.h"

namespace osprey::ops {
namespace {

struct Corner {
  int64_t row, col;
  double weight;
};

// The (up to four) pixels a sample at (y, x) of an H × W map reads, with their weights.
int bilinear(double y, double x, int64_t H, int64_t W, Corner* out) {
  if (y < -1.0 || y > static_cast<double>(H) || x < -1.0 || x > static_cast<double>(W)) return 0;
  y = std::max(y, 0.0);
  x = std::max(x, 0.0);
  int64_t y0 = static_cast<int64_t>(y), x0 = static_cast<int64_t>(x), y1, x1;
  if (y0 >= H - 1) {
    y0 = y1 = H - 1;
    y = static_cast<double>(y0);
  } else {
    y1 = y0 + 1;
  }
  if (x0 >= W - 1) {
    x0 = x1 = W - 1;
    x = static_cast<double>(x0);
  } else {
    x1 = x0 + 1;
  }
  const double ly = y - static_cast<double>(y0), lx = x - static_cast<double>(x0);
  const double hy = 1 - ly, hx = 1 - lx;
  out[0] = {y0, x0, hy * hx};
  out[1] = {y0, x1, hy * lx};
  out[2] = {y1, x0, ly * hx};
  out[3] = {y1, x1, ly * lx};
  return 4;
}

// Calls f(k, n, i, j, corner, weight) for every pixel each sample of each bin reads, the weight
// already divided by the bin's sample count.
template <typename T, typename F>
void for_each_corner(const Tensor& rois, const RoiAlignParams& p, int64_t H, int64_t W, F&& f) {
  const std::vector<double> r = rois.to_vector<double>();
  const double offset = p.aligned ? 0.5 : 0.0;
  for (int64_t k = 0; k < rois.size(0); ++k) {
    const double* b = r.data() + 5 * k;
    const int64_t n = static_cast<int64_t>(b[0]);
    const double x1 = b[1] * p.spatial_scale - offset, y1 = b[2] * p.spatial_scale - offset;
    double w = b[3] * p.spatial_scale - offset - x1, h = b[4] * p.spatial_scale - offset - y1;
    if (!p.aligned) {
      w = std::max(w, 1.0);
      h = std::max(h, 1.0);
    }
    const double bin_h = h / static_cast<double>(p.pooled_h);
    const double bin_w = w / static_cast<double>(p.pooled_w);
    const int64_t gh = p.sampling_ratio > 0 ? p.sampling_ratio : int64_t(std::ceil(bin_h));
    const int64_t gw = p.sampling_ratio > 0 ? p.sampling_ratio : int64_t(std::ceil(bin_w));
    const double count = static_cast<double>(std::max<int64_t>(gh * gw, 1));
    for (int64_t i = 0; i < p.pooled_h; ++i)
      for (int64_t j = 0; j < p.pooled_w; ++j)
        for (int64_t a = 0; a < gh; ++a)
          for (int64_t c = 0; c < gw; ++c) {
            const double y = y1 + static_cast<double>(i) * bin_h +
                             (static_cast<double>(a) + 0.5) * bin_h / static_cast<double>(gh);
            const double x = x1 + static_cast<double>(j) * bin_w +
                             (static_cast<double>(c) + 0.5) * bin_w / static_cast<double>(gw);
            Corner corners[4];
            const int m = bilinear(y, x, H, W, corners);
            for (int t = 0; t < m; ++t) f(k, n, i, j, corners[t], corners[t].weight / count);
          }
  }
}

MemoryFormat format_of(const Tensor& t) {
  return t.is_contiguous(MemoryFormat::channels_last) && !t.is_contiguous()
             ? MemoryFormat::channels_last
             : MemoryFormat::contiguous;
}

int64_t offset4(const Tensor& t, int64_t a, int64_t b, int64_t c, int64_t d) {
  return a * t.stride(0) + b * t.stride(1) + c * t.stride(2) + d * t.stride(3);
}

// Writes the dense row-major buffer `acc` to `out` through out's strides.
template <typename T>
void write_out(const std::vector<double>& acc, const Tensor& out) {
  T* dst = out.data<T>();
  const Shape& s = out.shape();
  size_t k = 0;
  for (int64_t a = 0; a < s[0]; ++a)
    for (int64_t b = 0; b < s[1]; ++b)
      for (int64_t c = 0; c < s[2]; ++c)
        for (int64_t d = 0; d < s[3]; ++d) dst[offset4(out, a, b, c, d)] = static_cast<T>(acc[k++]);
}

template <typename T>
void forward_reference(KernelContext& ctx) {
  const Tensor& input = ctx.input(0);
  const Tensor& rois = ctx.input(1);
  const RoiAlignParams p = RoiAlignParams::from(ctx.attrs(), "roi_align");
  const int64_t C = input.size(1), H = input.size(2), W = input.size(3);
  const Tensor& out =
      ctx.output(0, p.output_shape(rois.size(0), C), input.dtype(), format_of(input));
  std::vector<double> acc(static_cast<size_t>(out.numel()), 0.0);
  const T* x = input.data<T>();
  for_each_corner<T>(
      rois, p, H, W, [&](int64_t k, int64_t n, int64_t i, int64_t j, const Corner& at, double w) {
        for (int64_t c = 0; c < C; ++c) {
          acc[static_cast<size_t>(((k * C + c) * p.pooled_h + i) * p.pooled_w + j)] +=
              w * static_cast<double>(x[offset4(input, n, c, at.row, at.col)]);
        }
      });
  write_out<T>(acc, out);
}

template <typename T>
void backward_reference(KernelContext& ctx) {
  const Tensor& grad = ctx.input(0);
  const Tensor& rois = ctx.input(1);
  const RoiAlignParams p = RoiAlignParams::from(ctx.attrs(), "roi_align_backward");
  const Shape size = ctx.attrs().get_ints("input_size");
  const int64_t C = size[1], H = size[2], W = size[3];
  const Tensor& out = ctx.output(0, size, grad.dtype(), format_of(grad));
  std::vector<double> acc(static_cast<size_t>(out.numel()), 0.0);
  const T* g = grad.data<T>();
  for_each_corner<T>(rois, p, H, W,
                     [&](int64_t k, int64_t n, int64_t i, int64_t j, const Corner& at, double w) {
                       for (int64_t c = 0; c < C; ++c) {
                         acc[static_cast<size_t>(((n * C + c) * H + at.row) * W + at.col)] +=
                             w * static_cast<double>(g[offset4(grad, k, c, i, j)]);
                       }
                     });
  write_out<T>(acc, out);
}

const bool registered = [] {
  auto fp = [](const KernelContext& ctx) { return inputs_are_float(ctx); };
  register_kernel("roi_align", DeviceType::cpu, "reference", 0,
                  by_float_dtype<forward_reference<float>, forward_reference<double>>, fp,
                  "direct loops, one bilinear sample at a time, double accumulation");
  register_kernel("roi_align_backward", DeviceType::cpu, "reference", 0,
                  by_float_dtype<backward_reference<float>, backward_reference<double>>, fp,
                  "direct loops scattering into a double buffer, RoIs in order");
  return true;
}();

}  // namespace
}  // namespace osprey::ops
