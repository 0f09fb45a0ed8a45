// CPU reference kernels of deform_conv2d, deform_conv2d_backward and
// deform_conv2d_backward_weight: the defining sums of deform_conv2d.h as direct loops over every
// (output element, input channel, kernel tap), each sample interpolated on its own, reading every
// tensor through its strides and accumulating in double into dense buffers that are then written
// through the outputs' strides. f32 and f64. The bilinear rule is spelled out here independently
// of the fast kernels' shared one (deform_conv2d_geometry.h).
#include <cmath>
#include <vector>

#include "ops/common/op_helpers.h"
#include "ops/deform_conv2d/deform_conv2d_geometry.h"

namespace osprey::ops {
namespace {

// A 4-d tensor read through its strides, in double.
template <typename T>
struct View4 {
  const T* data = nullptr;
  int64_t s[4] = {0, 0, 0, 0};
  View4() = default;
  explicit View4(const Tensor& t) : data(t.data<T>()) {
    for (int d = 0; d < 4; ++d) s[d] = t.stride(d);
  }
  double at(int64_t a, int64_t b, int64_t c, int64_t d) const {
    return static_cast<double>(data[a * s[0] + b * s[1] + c * s[2] + d * s[3]]);
  }
};

// One bilinear sample of an H×W map: up to four (row, col) corners with their weights and the
// weights' derivatives along y and x.
struct Sample {
  int count = 0;
  int64_t row[4], col[4];
  double weight[4], d_dy[4], d_dx[4];
  void add(int64_t r, int64_t c, double w, double dy, double dx, int64_t H, int64_t W) {
    if (r < 0 || r >= H || c < 0 || c >= W) return;  // corners outside the map read 0
    row[count] = r;
    col[count] = c;
    weight[count] = w;
    d_dy[count] = dy;
    d_dx[count] = dx;
    ++count;
  }
};

Sample sample_at(double y, double x, int64_t H, int64_t W, DeformBoundary boundary) {
  Sample s;
  double y0, x0, y1, x1;
  bool y_moves = true, x_moves = true;
  if (boundary == DeformBoundary::torchvision) {
    if (!(y > -1 && y < H && x > -1 && x < W)) return s;
    y0 = std::floor(y);
    x0 = std::floor(x);
    y1 = y0 + 1;
    x1 = x0 + 1;
  } else {
    if (!(y >= 0 && y < H && x >= 0 && x < W)) return s;
    y0 = std::floor(y);
    x0 = std::floor(x);
    // From the last row (column) on, the sample is that row: it no longer moves with y.
    if (y0 >= H - 1) {
      y0 = y1 = y = static_cast<double>(H - 1);
      y_moves = false;
    } else {
      y1 = y0 + 1;
    }
    if (x0 >= W - 1) {
      x0 = x1 = x = static_cast<double>(W - 1);
      x_moves = false;
    } else {
      x1 = x0 + 1;
    }
  }
  const double ly = y - y0, lx = x - x0, hy = 1 - ly, hx = 1 - lx;
  const double my = y_moves ? 1 : 0, mx = x_moves ? 1 : 0;
  auto r = [](double v) { return static_cast<int64_t>(v); };
  s.add(r(y0), r(x0), hy * hx, -hx * my, -hy * mx, H, W);
  if (x1 != x0) s.add(r(y0), r(x1), hy * lx, -lx * my, hy * mx, H, W);
  if (y1 != y0) s.add(r(y1), r(x0), ly * hx, hx * my, -ly * mx, H, W);
  if (y1 != y0 && x1 != x0) s.add(r(y1), r(x1), ly * lx, lx * my, ly * mx, H, W);
  return s;
}

// Calls f(n, o, i, j, ci, c, p, q, k, off_channel, y, x, m) for every product of the sum in
// deform_conv2d.h: output (n, o, i, j) takes weight (o, c, p, q) times m times the sample of input
// channel ci = group·Cg + c at (y, x); k = p·kW + q and off_channel = a·K + k (a: ci's offset
// group) locate the tap in mask, and 2·off_channel (+1) in offset.
template <typename T, typename F>
void for_each_tap(const DeformGeometry& d, const View4<T>& offset, const View4<T>& mask,
                  bool has_mask, F&& f) {
  const ConvGeometry& geo = d.conv;
  const int64_t o_per_group = d.O / geo.groups;
  for (int64_t n = 0; n < d.N; ++n)
    for (int64_t o = 0; o < d.O; ++o) {
      const int64_t first_channel = (o / o_per_group) * d.Cg;
      for (int64_t i = 0; i < d.Ho; ++i)
        for (int64_t j = 0; j < d.Wo; ++j)
          for (int64_t c = 0; c < d.Cg; ++c) {
            const int64_t ci = first_channel + c;
            const int64_t a = ci / d.Coff;
            for (int64_t p = 0; p < d.kH; ++p)
              for (int64_t q = 0; q < d.kW; ++q) {
                const int64_t k = p * d.kW + q;
                const int64_t tap = a * d.taps + k;
                const double y =
                    static_cast<double>(i * geo.stride[0] - geo.padding[0] + p * geo.dilation[0]) +
                    offset.at(n, 2 * tap, i, j);
                const double x =
                    static_cast<double>(j * geo.stride[1] - geo.padding[1] + q * geo.dilation[1]) +
                    offset.at(n, 2 * tap + 1, i, j);
                const double m = has_mask ? mask.at(n, tap, i, j) : 1.0;
                f(n, o, i, j, ci, c, p, q, tap, y, x, m);
              }
          }
    }
}

// Writes the dense row-major double buffer `acc` to `out` through out's strides.
template <typename T>
void write_out(const std::vector<double>& acc, const Tensor& out) {
  T* dst = out.data<T>();
  const Shape& sh = out.shape();
  int64_t k = 0;
  for (int64_t a = 0; a < sh[0]; ++a)
    for (int64_t b = 0; b < sh[1]; ++b)
      for (int64_t c = 0; c < sh[2]; ++c)
        for (int64_t e = 0; e < sh[3]; ++e)
          dst[a * out.stride(0) + b * out.stride(1) + c * out.stride(2) + e * out.stride(3)] =
              static_cast<T>(acc[k++]);
}

// The interpolated value of input channel (n, ci) at a sample.
template <typename T>
double value_at(const View4<T>& x, int64_t n, int64_t ci, const Sample& s) {
  double v = 0;
  for (int t = 0; t < s.count; ++t) v += s.weight[t] * x.at(n, ci, s.row[t], s.col[t]);
  return v;
}

template <typename T>
void forward_reference(KernelContext& ctx) {
  const Tensor& input = ctx.input(0);
  const Tensor& offset = ctx.input(1);
  const Tensor& weight = ctx.input(2);
  const Tensor& bias = ctx.input(3);
  const Tensor& mask = ctx.input(4);
  const DeformGeometry d = DeformGeometry::from(ctx.attrs(), input.shape(), weight.shape(),
                                                offset.shape(), "deform_conv2d");
  const Tensor& out = ctx.output(0, d.output_shape(), input.dtype(), deform_layout(input));
  if (out.numel() == 0) return;
  std::vector<double> acc(static_cast<size_t>(out.numel()), 0.0);
  if (bias.defined()) {
    for (size_t k = 0; k < acc.size(); ++k) {
      const int64_t o = (static_cast<int64_t>(k) / (d.Ho * d.Wo)) % d.O;
      acc[k] = static_cast<double>(bias.data<T>()[o * bias.stride(0)]);
    }
  }
  const View4<T> xv(input), wv(weight), ov(offset);
  const View4<T> mv = mask.defined() ? View4<T>(mask) : View4<T>();
  for_each_tap(d, ov, mv, mask.defined(),
               [&](int64_t n, int64_t o, int64_t i, int64_t j, int64_t ci, int64_t c, int64_t p,
                   int64_t q, int64_t, double y, double x, double m) {
                 const Sample s = sample_at(y, x, d.H, d.W, d.boundary);
                 acc[((n * d.O + o) * d.Ho + i) * d.Wo + j] +=
                     wv.at(o, c, p, q) * (m * value_at(xv, n, ci, s));
               });
  write_out<T>(acc, out);
}

template <typename T>
void backward_reference(KernelContext& ctx) {
  const Tensor& grad = ctx.input(0);
  const Tensor& input = ctx.input(1);
  const Tensor& offset = ctx.input(2);
  const Tensor& weight = ctx.input(3);
  const Tensor& mask = ctx.input(4);
  const DeformGeometry d = DeformGeometry::from(ctx.attrs(), input.shape(), weight.shape(),
                                                offset.shape(), "deform_conv2d_backward");
  const Tensor& grad_input = ctx.output(0, input.shape(), input.dtype(), deform_layout(input));
  const Tensor& grad_offset = ctx.output(1, offset.shape(), input.dtype());
  const Tensor& grad_mask = ctx.output(2, d.mask_shape(), input.dtype());
  std::vector<double> gi(static_cast<size_t>(grad_input.numel()), 0.0);
  std::vector<double> go(static_cast<size_t>(grad_offset.numel()), 0.0);
  std::vector<double> gm(static_cast<size_t>(grad_mask.numel()), 0.0);
  const View4<T> gv(grad), xv(input), wv(weight), ov(offset);
  const View4<T> mv = mask.defined() ? View4<T>(mask) : View4<T>();
  if (grad.numel() > 0) {
    for_each_tap(d, ov, mv, mask.defined(),
                 [&](int64_t n, int64_t o, int64_t i, int64_t j, int64_t ci, int64_t c, int64_t p,
                     int64_t q, int64_t tap, double y, double x, double m) {
                   const Sample s = sample_at(y, x, d.H, d.W, d.boundary);
                   // v: the gradient reaching this sample's modulated value m·B.
                   const double v = gv.at(n, o, i, j) * wv.at(o, c, p, q);
                   double dy = 0, dx = 0;
                   for (int t = 0; t < s.count; ++t) {
                     const double pixel = xv.at(n, ci, s.row[t], s.col[t]);
                     gi[((n * d.C + ci) * d.H + s.row[t]) * d.W + s.col[t]] += v * m * s.weight[t];
                     dy += s.d_dy[t] * pixel;
                     dx += s.d_dx[t] * pixel;
                   }
                   const int64_t plane = (i * d.Wo + j);
                   const int64_t taps2 = 2 * d.offset_groups * d.taps;
                   go[(n * taps2 + 2 * tap) * d.Ho * d.Wo + plane] += v * m * dy;
                   go[(n * taps2 + 2 * tap + 1) * d.Ho * d.Wo + plane] += v * m * dx;
                   gm[(n * d.offset_groups * d.taps + tap) * d.Ho * d.Wo + plane] +=
                       v * value_at(xv, n, ci, s);
                 });
  }
  write_out<T>(gi, grad_input);
  write_out<T>(go, grad_offset);
  write_out<T>(gm, grad_mask);
}

template <typename T>
void backward_weight_reference(KernelContext& ctx) {
  const Tensor& grad = ctx.input(0);
  const Tensor& input = ctx.input(1);
  const Tensor& offset = ctx.input(2);
  const Tensor& mask = ctx.input(3);
  const Shape weight_size = ctx.attrs().get_ints("weight_size");
  const DeformGeometry d = DeformGeometry::from(ctx.attrs(), input.shape(), weight_size,
                                                offset.shape(), "deform_conv2d_backward_weight");
  const Tensor& out = ctx.output(0, weight_size, grad.dtype());
  std::vector<double> acc(static_cast<size_t>(out.numel()), 0.0);
  const View4<T> gv(grad), xv(input), ov(offset);
  const View4<T> mv = mask.defined() ? View4<T>(mask) : View4<T>();
  if (grad.numel() > 0) {
    for_each_tap(d, ov, mv, mask.defined(),
                 [&](int64_t n, int64_t o, int64_t i, int64_t j, int64_t ci, int64_t c, int64_t p,
                     int64_t q, int64_t, double y, double x, double m) {
                   const Sample s = sample_at(y, x, d.H, d.W, d.boundary);
                   acc[((o * d.Cg + c) * d.kH + p) * d.kW + q] +=
                       gv.at(n, o, i, j) * (m * value_at(xv, n, ci, s));
                 });
  }
  write_out<T>(acc, out);
}

const bool registered = [] {
  auto fp = [](const KernelContext& ctx) { return inputs_are_float(ctx); };
  register_kernel("deform_conv2d", DeviceType::cpu, "reference", 0,
                  by_float_dtype<forward_reference<float>, forward_reference<double>>, fp,
                  "direct loops, one bilinear sample per product, double accumulation");
  register_kernel("deform_conv2d_backward", DeviceType::cpu, "reference", 0,
                  by_float_dtype<backward_reference<float>, backward_reference<double>>, fp,
                  "direct loops scattering into double buffers");
  register_kernel(
      "deform_conv2d_backward_weight", DeviceType::cpu, "reference", 0,
      by_float_dtype<backward_weight_reference<float>, backward_weight_reference<double>>, fp,
      "direct loops, double accumulation");
  return true;
}();

}  // namespace
}  // namespace osprey::ops
