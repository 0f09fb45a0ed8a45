// cpu/im2col_gemm kernel of conv2d: per image and group, the input windows are unrolled into a
// (Cg·kH·kW) × (Ho·Wo) matrix and one cblas_sgemm/dgemm multiplies the group's weight rows
// (Og × Cg·kH·kW) with it, straight into the NCHW output rows (which hold the bias first, so the
// product adds with beta = 1). A 1×1 kernel with stride 1 and no padding needs no unrolling: the
// input channels are already that matrix. Inputs of any layout are copied contiguous first; a
// channels-last result is computed NCHW and copied into the output.
#include <cblas.h>

#include <vector>

#include "ops/common/op_helpers.h"
#include "ops/conv2d/conv2d_geometry.h"

namespace osprey::ops {
namespace {

void gemm(int64_t m, int64_t n, int64_t k, const float* a, const float* b, float* c) {
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(m), int(n), int(k), 1.0f, a, int(k), b,
              int(n), 1.0f, c, int(n));
}
void gemm(int64_t m, int64_t n, int64_t k, const double* a, const double* b, double* c) {
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(m), int(n), int(k), 1.0, a, int(k), b,
              int(n), 1.0, c, int(n));
}

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
      gemm(Og, plane, K, wd + g * Og * K, direct ? xg : col.data(), y + (n * O + g * Og) * plane);
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
  return true;
}();

}  // namespace
}  // namespace osprey::ops
