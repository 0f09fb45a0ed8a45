// cpu/im2col_gemm kernels of conv2d and its backward ops. Per image and group, the input windows
// are unrolled into a (Cg·kH·kW) × (Ho·Wo) matrix (im2col) and one cblas_sgemm/dgemm does the
// rest:
//   conv2d:                 y[n, grp] += W_grp · col          (the output rows hold the bias first)
//   conv2d_backward_input:  dx[n, grp] = col2im(W_grpᵀ · g[n, grp])
//   conv2d_backward_weight: dW_grp   += g[n, grp] · colᵀ      (summed over images)
// A 1×1 kernel with stride 1 and no padding needs no unrolling: the input channels already are
// that matrix. Inputs of any layout are copied contiguous first; a channels-last (or otherwise
// strided) output is computed NCHW and copied into place.
#include <cblas.h>

#include <algorithm>
#include <vector>

#include "ops/common/cpu_gemm.h"
#include "ops/common/op_helpers.h"
#include "ops/conv2d/conv2d_geometry.h"

namespace osprey::ops {
namespace {

// Unrolls the Cg channels at `x` (each H×W) into col, one row per (c, p, q), zeros in the padding.
template <typename T>
void im2col(const T* x, int64_t Cg, int64_t H, int64_t W, int64_t kH, int64_t kW, int64_t Ho,
            int64_t Wo, const ConvGeometry& geo, T* col) {
  for (int64_t c = 0; c < Cg; ++c)
    for (int64_t p = 0; p < kH; ++p)
      for (int64_t q = 0; q < kW; ++q) {
        T* row = col + ((c * kH + p) * kW + q) * Ho * Wo;
        for (int64_t i = 0; i < Ho; ++i) {
          const int64_t h = i * geo.stride[0] - geo.padding[0] + p * geo.dilation[0];
          for (int64_t j = 0; j < Wo; ++j) {
            const int64_t v = j * geo.stride[1] - geo.padding[1] + q * geo.dilation[1];
            const bool inside = h >= 0 && h < H && v >= 0 && v < W;
            row[i * Wo + j] = inside ? x[(c * H + h) * W + v] : T(0);
          }
        }
      }
}

// The adjoint of im2col: adds each col entry back onto the input pixel it was read from.
template <typename T>
void col2im(const T* col, int64_t Cg, int64_t H, int64_t W, int64_t kH, int64_t kW, int64_t Ho,
            int64_t Wo, const ConvGeometry& geo, T* x) {
  for (int64_t c = 0; c < Cg; ++c)
    for (int64_t p = 0; p < kH; ++p)
      for (int64_t q = 0; q < kW; ++q) {
        const T* row = col + ((c * kH + p) * kW + q) * Ho * Wo;
        for (int64_t i = 0; i < Ho; ++i) {
          const int64_t h = i * geo.stride[0] - geo.padding[0] + p * geo.dilation[0];
          if (h < 0 || h >= H) continue;
          for (int64_t j = 0; j < Wo; ++j) {
            const int64_t v = j * geo.stride[1] - geo.padding[1] + q * geo.dilation[1];
            if (v >= 0 && v < W) x[(c * H + h) * W + v] += row[i * Wo + j];
          }
        }
      }
}

// Sizes of one convolution (input N×C×H×W, weight O×Cg×kH×kW, output N×O×Ho×Wo) and whether it
// is a 1×1 stride-1 unpadded one, whose input channels need no unrolling.
struct Plan : ConvSizes {
  bool direct;
  Plan(const Shape& input, const Shape& weight, const ConvGeometry& geo)
      : ConvSizes(input, weight, geo),
        direct(kH == 1 && kW == 1 && geo.stride[0] == 1 && geo.stride[1] == 1 &&
               geo.padding[0] == 0 && geo.padding[1] == 0) {}
};

// Channels-last in, channels-last out, as the reference.
MemoryFormat format_of(const Tensor& t) {
  return t.is_contiguous(MemoryFormat::channels_last) && !t.is_contiguous()
             ? MemoryFormat::channels_last
             : MemoryFormat::contiguous;
}

// dx[n, group] = col2im(W_gᵀ · g[n, group]).
template <typename T>
void backward_input_im2col(KernelContext& ctx) {
  const Tensor g = ctx.input(0).contiguous();
  const Tensor w = ctx.input(1).contiguous();
  const ConvGeometry geo = ConvGeometry::from_attrs(ctx.attrs(), "conv2d_backward_input");
  const Shape input_size = ctx.attrs().get_ints("input_size");
  const Plan s(input_size, w.shape(), geo);
  Tensor& out = ctx.output(0, input_size, g.dtype(), format_of(ctx.input(0)));
  if (out.numel() == 0) return;
  const Tensor res = out.is_contiguous() ? out : Tensor::empty(out.shape(), out.dtype());
  T* dx = res.data<T>();
  std::fill(dx, dx + res.numel(), T(0));
  std::vector<T> col(s.direct ? 0 : static_cast<size_t>(s.K * s.plane));
  const T* gd = g.data<T>();
  const T* wd = w.data<T>();
  for (int64_t n = 0; n < s.N; ++n)
    for (int64_t k = 0; k < s.G; ++k) {
      T* xg = dx + (n * s.C + k * s.Cg) * s.H * s.W;
      if (s.K == 0 || s.Og == 0 || s.plane == 0) continue;
      gemm(CblasTrans, CblasNoTrans, s.K, s.plane, s.Og, wd + k * s.Og * s.K, s.K,
           gd + (n * s.O + k * s.Og) * s.plane, s.plane, T(s.direct ? 1 : 0),
           s.direct ? xg : col.data());
      if (!s.direct) col2im(col.data(), s.Cg, s.H, s.W, s.kH, s.kW, s.Ho, s.Wo, geo, xg);
    }
  if (!res.is_same(out)) out.copy_(res);
}

// dw[group] = Σ_n g[n, group] · im2col(x[n, group])ᵀ.
template <typename T>
void backward_weight_im2col(KernelContext& ctx) {
  const Tensor g = ctx.input(0).contiguous();
  const Tensor x = ctx.input(1).contiguous();
  const ConvGeometry geo = ConvGeometry::from_attrs(ctx.attrs(), "conv2d_backward_weight");
  const Shape weight_size = ctx.attrs().get_ints("weight_size");
  const Plan s(x.shape(), weight_size, geo);
  Tensor& out = ctx.output(0, weight_size, g.dtype());
  if (out.numel() == 0) return;
  const Tensor res = out.is_contiguous() ? out : Tensor::empty(out.shape(), out.dtype());
  T* dw = res.data<T>();
  std::fill(dw, dw + res.numel(), T(0));
  std::vector<T> col(s.direct ? 0 : static_cast<size_t>(s.K * s.plane));
  const T* gd = g.data<T>();
  const T* xd = x.data<T>();
  for (int64_t n = 0; n < s.N; ++n)
    for (int64_t k = 0; k < s.G; ++k) {
      const T* xg = xd + (n * s.C + k * s.Cg) * s.H * s.W;
      if (s.plane == 0) continue;
      if (!s.direct) im2col(xg, s.Cg, s.H, s.W, s.kH, s.kW, s.Ho, s.Wo, geo, col.data());
      gemm(CblasNoTrans, CblasTrans, s.Og, s.K, s.plane, gd + (n * s.O + k * s.Og) * s.plane,
           s.plane, s.direct ? xg : col.data(), s.plane, T(1), dw + k * s.Og * s.K);
    }
  if (!res.is_same(out)) out.copy_(res);
}

template <typename T>
void forward_im2col(KernelContext& ctx) {
  const Tensor x = ctx.input(0).contiguous();
  const Tensor w = ctx.input(1).contiguous();
  const Tensor bias = ctx.num_inputs() > 2 ? ctx.input(2) : Tensor{};
  const ConvGeometry geo = ConvGeometry::from_attrs(ctx.attrs(), "conv2d");
  const int64_t N = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  const int64_t O = w.size(0), kH = w.size(2), kW = w.size(3);
  const int64_t Ho = geo.output_size(0, H, kH), Wo = geo.output_size(1, W, kW);
  const bool nhwc =
      ctx.input(0).is_contiguous(MemoryFormat::channels_last) && !ctx.input(0).is_contiguous();
  Tensor& out = ctx.output(0, {N, O, Ho, Wo}, x.dtype(),
                           nhwc ? MemoryFormat::channels_last : MemoryFormat::contiguous);
  if (out.numel() == 0) return;
  const Tensor res = out.is_contiguous() ? out : Tensor::empty(out.shape(), out.dtype());
  T* y = res.data<T>();
  const int64_t plane = Ho * Wo;
  for (int64_t k = 0; k < res.numel(); ++k) {
    y[k] = bias.defined() ? bias.data<T>()[(k / plane) % O * bias.stride(0)] : T(0);
  }
  const int64_t G = geo.groups, Cg = C / G, Og = O / G, K = Cg * kH * kW;
  const bool direct = kH == 1 && kW == 1 && geo.stride[0] == 1 && geo.stride[1] == 1 &&
                      geo.padding[0] == 0 && geo.padding[1] == 0;
  std::vector<T> col(direct ? 0 : static_cast<size_t>(K * plane));
  const T* xd = x.data<T>();
  const T* wd = w.data<T>();
  for (int64_t n = 0; n < N; ++n)
    for (int64_t g = 0; g < G; ++g) {
      const T* xg = xd + (n * C + g * Cg) * H * W;
      if (!direct) im2col(xg, Cg, H, W, kH, kW, Ho, Wo, geo, col.data());
      if (K == 0) continue;
      gemm(CblasNoTrans, CblasNoTrans, Og, plane, K, wd + g * Og * K, K, direct ? xg : col.data(),
           plane, T(1), y + (n * O + g * Og) * plane);
    }
  if (!res.is_same(out)) out.copy_(res);
}

const bool registered = [] {
  register_kernel(
      "conv2d", DeviceType::cpu, "im2col_gemm", 10,
      [](KernelContext& ctx) {
        ctx.input(0).dtype() == DType::f64 ? forward_im2col<double>(ctx)
                                           : forward_im2col<float>(ctx);
      },
      [](const KernelContext& ctx) { return inputs_are_float(ctx); },
      "im2col + OpenBLAS gemm per image and group; 1x1 stride-1 unpadded skips im2col");
  register_kernel(
      "conv2d_backward_input", DeviceType::cpu, "im2col_gemm", 10,
      [](KernelContext& ctx) {
        ctx.input(0).dtype() == DType::f64 ? backward_input_im2col<double>(ctx)
                                           : backward_input_im2col<float>(ctx);
      },
      [](const KernelContext& ctx) { return inputs_are_float(ctx); },
      "OpenBLAS gemm (weightT x grad) per image and group, then col2im");
  register_kernel(
      "conv2d_backward_weight", DeviceType::cpu, "im2col_gemm", 10,
      [](KernelContext& ctx) {
        ctx.input(0).dtype() == DType::f64 ? backward_weight_im2col<double>(ctx)
                                           : backward_weight_im2col<float>(ctx);
      },
      [](const KernelContext& ctx) { return inputs_are_float(ctx); },
      "im2col + OpenBLAS gemm (grad x colT) accumulated over images, per group");
  return true;
}();

}  // namespace
}  // namespace osprey::ops
