// CPU reference kernels of conv2d, conv2d_backward_input and conv2d_backward_weight.
//   reference: the defining sums as direct loops over every (output element, kernel tap) pair,
//     reading the inputs through their strides (NCHW, channels-last or any view), accumulating in
//     double into a dense buffer, then writing the result through the output's strides. f32, f64.
#include <vector>

#include "ops/common/op_helpers.h"
#include "ops/conv2d/conv2d_geometry.h"

namespace osprey::ops {
namespace {

// A 4-d tensor read through its strides.
template <typename T>
struct View4 {
  const T* data;
  int64_t s[4];
  explicit View4(const Tensor& t) : data(t.data<T>()) {
    for (int d = 0; d < 4; ++d) s[d] = t.stride(d);
  }
  double at(int64_t a, int64_t b, int64_t c, int64_t d) const {
    return static_cast<double>(data[a * s[0] + b * s[1] + c * s[2] + d * s[3]]);
  }
};

// Sizes of one convolution: input N×C×H×W, weight O×Cg×kH×kW, output N×O×Ho×Wo.
struct Dims {
  int64_t N, C, H, W, O, Cg, kH, kW, Ho, Wo;
};

Dims dims_of(const Shape& input, const Shape& weight, const ConvGeometry& geo) {
  return {input[0],
          input[1],
          input[2],
          input[3],
          weight[0],
          weight[1],
          weight[2],
          weight[3],
          geo.output_size(0, input[2], weight[2]),
          geo.output_size(1, input[3], weight[3])};
}

// Calls f(n, o, i, j, ci, c, p, q, h, v) for every product in the convolution sum:
// output (n, o, i, j) takes input (n, ci, h, v) times weight (o, c, p, q), ci = group * Cg + c.
// Taps that fall in the zero padding are skipped.
template <typename F>
void for_each_tap(const Dims& d, const ConvGeometry& geo, F&& f) {
  const int64_t o_per_group = d.O / geo.groups;
  for (int64_t n = 0; n < d.N; ++n)
    for (int64_t o = 0; o < d.O; ++o) {
      const int64_t first_channel = (o / o_per_group) * d.Cg;
      for (int64_t i = 0; i < d.Ho; ++i)
        for (int64_t j = 0; j < d.Wo; ++j)
          for (int64_t c = 0; c < d.Cg; ++c)
            for (int64_t p = 0; p < d.kH; ++p) {
              const int64_t h = i * geo.stride[0] - geo.padding[0] + p * geo.dilation[0];
              if (h < 0 || h >= d.H) continue;
              for (int64_t q = 0; q < d.kW; ++q) {
                const int64_t v = j * geo.stride[1] - geo.padding[1] + q * geo.dilation[1];
                if (v < 0 || v >= d.W) continue;
                f(n, o, i, j, first_channel + c, c, p, q, h, v);
              }
            }
    }
}

// Channels-last in, channels-last out (as PyTorch); anything else gives contiguous NCHW.
MemoryFormat format_of(const Tensor& t) {
  return t.is_contiguous(MemoryFormat::channels_last) && !t.is_contiguous()
             ? MemoryFormat::channels_last
             : MemoryFormat::contiguous;
}

// Writes the dense NCHW double buffer `acc` to `out` through out's strides.
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

template <typename T>
void forward_reference(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& w = ctx.input(1);
  const Tensor bias = ctx.num_inputs() > 2 ? ctx.input(2) : Tensor{};
  const ConvGeometry geo = ConvGeometry::from_attrs(ctx.attrs(), "conv2d");
  const Dims d = dims_of(x.shape(), w.shape(), geo);
  const Tensor& out = ctx.output(0, {d.N, d.O, d.Ho, d.Wo}, x.dtype(), format_of(x));
  std::vector<double> acc(static_cast<size_t>(out.numel()), 0.0);
  if (bias.defined()) {
    const T* b = bias.data<T>();
    for (size_t k = 0; k < acc.size(); ++k) {
      acc[k] =
          static_cast<double>(b[(static_cast<int64_t>(k) / (d.Ho * d.Wo)) % d.O * bias.stride(0)]);
    }
  }
  if (out.numel() == 0) return;
  const View4<T> xv(x), wv(w);
  for_each_tap(d, geo,
               [&](int64_t n, int64_t o, int64_t i, int64_t j, int64_t ci, int64_t c, int64_t p,
                   int64_t q, int64_t h, int64_t v) {
                 acc[((n * d.O + o) * d.Ho + i) * d.Wo + j] +=
                     xv.at(n, ci, h, v) * wv.at(o, c, p, q);
               });
  write_out<T>(acc, out);
}

template <typename T>
void backward_input_reference(KernelContext& ctx) {
  const Tensor& g = ctx.input(0);
  const Tensor& w = ctx.input(1);
  const ConvGeometry geo = ConvGeometry::from_attrs(ctx.attrs(), "conv2d_backward_input");
  const Shape input_size = ctx.attrs().get_ints("input_size");
  const Dims d = dims_of(input_size, w.shape(), geo);
  const Tensor& out = ctx.output(0, input_size, g.dtype(), format_of(g));
  if (out.numel() == 0) return;
  std::vector<double> acc(static_cast<size_t>(out.numel()), 0.0);
  const View4<T> gv(g), wv(w);
  for_each_tap(d, geo,
               [&](int64_t n, int64_t o, int64_t i, int64_t j, int64_t ci, int64_t c, int64_t p,
                   int64_t q, int64_t h, int64_t v) {
                 acc[((n * d.C + ci) * d.H + h) * d.W + v] += gv.at(n, o, i, j) * wv.at(o, c, p, q);
               });
  write_out<T>(acc, out);
}

template <typename T>
void backward_weight_reference(KernelContext& ctx) {
  const Tensor& g = ctx.input(0);
  const Tensor& x = ctx.input(1);
  const ConvGeometry geo = ConvGeometry::from_attrs(ctx.attrs(), "conv2d_backward_weight");
  const Shape weight_size = ctx.attrs().get_ints("weight_size");
  const Dims d = dims_of(x.shape(), weight_size, geo);
  const Tensor& out = ctx.output(0, weight_size, g.dtype());
  if (out.numel() == 0) return;
  std::vector<double> acc(static_cast<size_t>(out.numel()), 0.0);
  const View4<T> gv(g), xv(x);
  for_each_tap(d, geo,
               [&](int64_t n, int64_t o, int64_t i, int64_t j, int64_t ci, int64_t c, int64_t p,
                   int64_t q, int64_t h, int64_t v) {
                 acc[((o * d.Cg + c) * d.kH + p) * d.kW + q] +=
                     gv.at(n, o, i, j) * xv.at(n, ci, h, v);
               });
  write_out<T>(acc, out);
}

const bool registered = [] {
  auto fp = [](const KernelContext& ctx) { return inputs_are_float(ctx); };
  register_kernel(
      "conv2d", DeviceType::cpu, "reference", 0,
      [](KernelContext& ctx) {
        ctx.input(0).dtype() == DType::f64 ? forward_reference<double>(ctx)
                                           : forward_reference<float>(ctx);
      },
      fp, "direct loops, double accumulation, any input strides");
  register_kernel(
      "conv2d_backward_input", DeviceType::cpu, "reference", 0,
      [](KernelContext& ctx) {
        ctx.input(0).dtype() == DType::f64 ? backward_input_reference<double>(ctx)
                                           : backward_input_reference<float>(ctx);
      },
      fp, "direct loops scattering into a double buffer");
  register_kernel(
      "conv2d_backward_weight", DeviceType::cpu, "reference", 0,
      [](KernelContext& ctx) {
        ctx.input(0).dtype() == DType::f64 ? backward_weight_reference<double>(ctx)
                                           : backward_weight_reference<float>(ctx);
      },
      fp, "direct loops, double accumulation");
  return true;
}();

}  // namespace
}  // namespace osprey::ops
