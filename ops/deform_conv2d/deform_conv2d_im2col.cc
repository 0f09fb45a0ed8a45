// cpu/im2col_gemm kernels of deform_conv2d and its backward ops. The images go
// in chunks of B (the columns buffer is bounded to kColumnBudget elements); per
// chunk:
//   1. one bilinear sample (four corner indices and weights, the mask folded in
//   where only values
//      are needed) per (image, offset group, tap, output pixel), shared by all
//      channels of the offset group (OpenMP over sample rows);
//   2. deformable im2col: columns [C·kH·kW] × [B·Ho·Wo], row c·kH·kW + k, from
//   those samples
//      (OpenMP over image × channel);
//   3. one OpenBLAS gemm per conv group over the whole chunk:
//        deform_conv2d:                 y[grp] = W_grp · col            (then +
//        bias) deform_conv2d_backward_weight: dW_grp += g[grp] · colᵀ
//        deform_conv2d_backward:        colgrad[grp] = W_grpᵀ · g[grp], then
//          grad_input: colgrad · m scattered onto each sample's corners (OpenMP
//          over image ×
//            channel, so no two threads write one plane: deterministic);
//          grad_offset, grad_mask: per (image, offset group, tap) row, the sums
//          over the group's
//            channels of colgrad times the corners' derivative weights / the
//            sampled value.
// g and y are held [O] × [B·Ho·Wo] during a chunk (a transpose of the N × O
// planes). Inputs of any layout are copied contiguous first; strided outputs
// are computed contiguous and copied in. f32 and f64; the sampling rule is
// bilinear_corners (deform_conv2d_geometry.h), the one the CUDA kernels use
// too.
#include <cblas.h>

#include <algorithm>
#include <climits>
#include <vector>

#include "ops/common/cpu_loops.h"
#include "ops/common/op_helpers.h"
#include "ops/deform_conv2d/deform_conv2d_geometry.h"

namespace osprey::ops {
namespace {

// Elements of the columns buffer per chunk (64 MB of f32).
constexpr int64_t kColumnBudget = int64_t{1} << 24;

void gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int64_t m, int64_t n, int64_t k, const float* a,
          int64_t lda, const float* b, int64_t ldb, float beta, float* c) {
  cblas_sgemm(CblasRowMajor, ta, tb, int(m), int(n), int(k), 1.0f, a, int(lda), b, int(ldb), beta,
              c, int(n));
}
void gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int64_t m, int64_t n, int64_t k, const double* a,
          int64_t lda, const double* b, int64_t ldb, double beta, double* c) {
  cblas_dgemm(CblasRowMajor, ta, tb, int(m), int(n), int(k), 1.0, a, int(lda), b, int(ldb), beta, c,
              int(n));
}

// A sample as im2col needs it: corner indices into the H×W plane and weights
// (mask included).
template <typename T>
struct Corners4 {
  int32_t index[4];
  T weight[4];
};

// The sizes of one call and of its chunks.
struct Plan {
  DeformGeometry d;
  int64_t plane, G, Og, K, chunk;
  explicit Plan(const DeformGeometry& geo) : d(geo) {
    plane = d.Ho * d.Wo;
    G = d.conv.groups;
    Og = d.O / G;
    K = d.Cg * d.taps;
    OSPREY_CHECK(d.H * d.W <= INT32_MAX,
                 "deform_conv2d/cpu/im2col_gemm: input plane {}×{} too large", d.H, d.W);
    const int64_t per_image = std::max<int64_t>(1, d.C * d.taps * plane);
    const int64_t most = std::max<int64_t>(1, kColumnBudget / per_image);
    const int64_t chunks = std::max<int64_t>(1, (d.N + most - 1) / most);
    chunk = std::max<int64_t>(1, (d.N + chunks - 1) / chunks);  // balanced chunks
  }
  int64_t sample_rows(int64_t B) const { return B * d.offset_groups * d.taps; }
  // The base (undeformed) position of output pixel ij for tap k, along y (dim
  // 0) and x (dim 1).
  int64_t base(int dim, int64_t out_index, int64_t tap_index) const {
    return out_index * d.conv.stride[dim] - d.conv.padding[dim] + tap_index * d.conv.dilation[dim];
  }
};

// Calls f(row, ij, corners) for every sample of images [n0, n0 + B): row = (b·G
// + a)·taps + k.
template <typename T, typename F>
void for_each_sample(const Plan& s, const T* offset, int64_t n0, int64_t B, F&& f) {
  const DeformGeometry& d = s.d;
  const bool v1 = d.boundary == DeformBoundary::mxnet_v1;
  const int64_t rows = s.sample_rows(B);
#pragma omp parallel for schedule(static) if (rows * s.plane >= kParallelGrain)
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t k = r % d.taps;
    const int64_t p = k / d.kW, q = k % d.kW;
    // Offset channel 2·tap (Δy) and 2·tap + 1 (Δx) of image n0 + r / (G·taps).
    const T* dy = offset + (n0 * d.offset_groups * d.taps + r) * 2 * s.plane;
    const T* dx = dy + s.plane;
    for (int64_t i = 0; i < d.Ho; ++i) {
      const T y0 = static_cast<T>(s.base(0, i, p));
      for (int64_t j = 0; j < d.Wo; ++j) {
        const int64_t ij = i * d.Wo + j;
        const T x0 = static_cast<T>(s.base(1, j, q));
        f(r, ij, bilinear_corners<T>(y0 + dy[ij], x0 + dx[ij], d.H, d.W, v1));
      }
    }
  }
}

// The im2col samples of a chunk, mask folded into the weights.
template <typename T>
void value_samples(const Plan& s, const T* offset, const T* mask, int64_t n0, int64_t B,
                   std::vector<Corners4<T>>& out) {
  out.resize(static_cast<size_t>(s.sample_rows(B) * s.plane));
  const T* m0 = mask ? mask + n0 * s.d.offset_groups * s.d.taps * s.plane : nullptr;
  for_each_sample<T>(s, offset, n0, B, [&](int64_t r, int64_t ij, const BilinearCorners<T>& c) {
    const T m = m0 ? m0[r * s.plane + ij] : T(1);
    Corners4<T>& e = out[r * s.plane + ij];
    for (int t = 0; t < 4; ++t) {
      e.index[t] = static_cast<int32_t>(c.index[t]);
      e.weight[t] = c.weight[t] * m;
    }
  });
}

// Deformable im2col of images [n0, n0 + B) into col ([C·taps] × [B·plane]).
template <typename T>
void im2col(const Plan& s, const T* x, const std::vector<Corners4<T>>& samples, int64_t n0,
            int64_t B, T* col) {
  const DeformGeometry& d = s.d;
  const int64_t width = B * s.plane, hw = d.H * d.W;
#pragma omp parallel for collapse(2) schedule(static) if (d.C * d.taps * width >= kParallelGrain)
  for (int64_t b = 0; b < B; ++b)
    for (int64_t c = 0; c < d.C; ++c) {
      const T* X = x + ((n0 + b) * d.C + c) * hw;
      const int64_t a = c / d.Coff;
      for (int64_t k = 0; k < d.taps; ++k) {
        const Corners4<T>* e = samples.data() + ((b * d.offset_groups + a) * d.taps + k) * s.plane;
        T* dst = col + (c * d.taps + k) * width + b * s.plane;
        for (int64_t ij = 0; ij < s.plane; ++ij) {
          const Corners4<T>& v = e[ij];
          dst[ij] = v.weight[0] * X[v.index[0]] + v.weight[1] * X[v.index[1]] +
                    v.weight[2] * X[v.index[2]] + v.weight[3] * X[v.index[3]];
        }
      }
    }
}

// rows[o][b·plane + ij] = t[n0 + b][o][ij] (grad_output of a chunk as an [O] ×
// [B·plane] matrix).
template <typename T>
void gather_rows(const Plan& s, const T* t, int64_t n0, int64_t B, T* rows) {
  const int64_t width = B * s.plane;
#pragma omp parallel for collapse(2) schedule(static) if (s.d.O * width >= kParallelGrain)
  for (int64_t b = 0; b < B; ++b)
    for (int64_t o = 0; o < s.d.O; ++o)
      std::copy_n(t + ((n0 + b) * s.d.O + o) * s.plane, s.plane, rows + o * width + b * s.plane);
}

MemoryFormat format_of(const Tensor& t) {
  return t.is_contiguous(MemoryFormat::channels_last) && !t.is_contiguous()
             ? MemoryFormat::channels_last
             : MemoryFormat::contiguous;
}

// A contiguous tensor to compute `out` in (out itself when contiguous).
Tensor dense_like(const Tensor& out) {
  return out.is_contiguous() ? out : Tensor::empty(out.shape(), out.dtype());
}

template <typename T>
const T* data_or_null(const Tensor& t) {
  return t.defined() ? t.data<T>() : nullptr;
}

template <typename T>
void forward_im2col(KernelContext& ctx) {
  const Tensor x = ctx.input(0).contiguous();
  const Tensor offset = ctx.input(1).contiguous();
  const Tensor w = ctx.input(2).contiguous();
  const Tensor& bias = ctx.input(3);
  const Tensor mask = ctx.input(4).defined() ? ctx.input(4).contiguous() : Tensor{};
  const Plan s(
      DeformGeometry::from(ctx.attrs(), x.shape(), w.shape(), offset.shape(), "deform_conv2d"));
  const DeformGeometry& d = s.d;
  Tensor& out = ctx.output(0, d.output_shape(), x.dtype(), format_of(ctx.input(0)));
  if (out.numel() == 0) return;
  const Tensor res = dense_like(out);
  T* y = res.data<T>();
  std::vector<Corners4<T>> samples;
  std::vector<T> col(static_cast<size_t>(d.C * d.taps * s.chunk * s.plane));
  std::vector<T> rows(static_cast<size_t>(d.O * s.chunk * s.plane));
  for (int64_t n0 = 0; n0 < d.N; n0 += s.chunk) {
    const int64_t B = std::min(s.chunk, d.N - n0), width = B * s.plane;
    value_samples<T>(s, offset.data<T>(), data_or_null<T>(mask), n0, B, samples);
    im2col<T>(s, x.data<T>(), samples, n0, B, col.data());
    for (int64_t g = 0; g < s.G; ++g) {
      if (s.K == 0) {
        std::fill_n(rows.data() + g * s.Og * width, s.Og * width, T(0));
        continue;
      }
      gemm(CblasNoTrans, CblasNoTrans, s.Og, width, s.K, w.data<T>() + g * s.Og * s.K, s.K,
           col.data() + g * s.K * width, width, T(0), rows.data() + g * s.Og * width);
    }
#pragma omp parallel for collapse(2) schedule(static) if (d.O * width >= kParallelGrain)
    for (int64_t b = 0; b < B; ++b)
      for (int64_t o = 0; o < d.O; ++o) {
        const T add = bias.defined() ? bias.data<T>()[o * bias.stride(0)] : T(0);
        const T* src = rows.data() + o * width + b * s.plane;
        T* dst = y + ((n0 + b) * d.O + o) * s.plane;
        for (int64_t ij = 0; ij < s.plane; ++ij) dst[ij] = src[ij] + add;
      }
  }
  if (!res.is_same(out)) out.copy_(res);
}

template <typename T>
void backward_weight_im2col(KernelContext& ctx) {
  const Tensor grad = ctx.input(0).contiguous();
  const Tensor x = ctx.input(1).contiguous();
  const Tensor offset = ctx.input(2).contiguous();
  const Tensor mask = ctx.input(3).defined() ? ctx.input(3).contiguous() : Tensor{};
  const Shape weight_size = ctx.attrs().get_ints("weight_size");
  const Plan s(DeformGeometry::from(ctx.attrs(), x.shape(), weight_size, offset.shape(),
                                    "deform_conv2d_backward_weight"));
  const DeformGeometry& d = s.d;
  Tensor& out = ctx.output(0, weight_size, grad.dtype());
  if (out.numel() == 0) return;
  const Tensor res = dense_like(out);
  T* dw = res.data<T>();
  std::fill_n(dw, res.numel(), T(0));
  std::vector<Corners4<T>> samples;
  std::vector<T> col(static_cast<size_t>(d.C * d.taps * s.chunk * s.plane));
  std::vector<T> rows(static_cast<size_t>(d.O * s.chunk * s.plane));
  for (int64_t n0 = 0; n0 < d.N; n0 += s.chunk) {
    const int64_t B = std::min(s.chunk, d.N - n0), width = B * s.plane;
    if (width == 0) break;
    value_samples<T>(s, offset.data<T>(), data_or_null<T>(mask), n0, B, samples);
    im2col<T>(s, x.data<T>(), samples, n0, B, col.data());
    gather_rows<T>(s, grad.data<T>(), n0, B, rows.data());
    for (int64_t g = 0; g < s.G; ++g) {
      gemm(CblasNoTrans, CblasTrans, s.Og, s.K, width, rows.data() + g * s.Og * width, width,
           col.data() + g * s.K * width, width, T(1), dw + g * s.Og * s.K);
    }
  }
  if (!res.is_same(out)) out.copy_(res);
}

// grad_input += colgrad · m on each sample's corners; one thread per (image,
// channel) plane.
template <typename T>
void col2im(const Plan& s, const T* colgrad, const std::vector<BilinearCorners<T>>& samples,
            const T* mask, int64_t n0, int64_t B, T* grad_input) {
  const DeformGeometry& d = s.d;
  const int64_t width = B * s.plane, hw = d.H * d.W;
  const T* m0 = mask ? mask + n0 * d.offset_groups * d.taps * s.plane : nullptr;
#pragma omp parallel for collapse(2) schedule(static) if (d.C * d.taps * width >= kParallelGrain)
  for (int64_t b = 0; b < B; ++b)
    for (int64_t c = 0; c < d.C; ++c) {
      T* dX = grad_input + ((n0 + b) * d.C + c) * hw;
      const int64_t a = c / d.Coff;
      for (int64_t k = 0; k < d.taps; ++k) {
        const int64_t r = (b * d.offset_groups + a) * d.taps + k;
        const BilinearCorners<T>* e = samples.data() + r * s.plane;
        const T* m = m0 ? m0 + r * s.plane : nullptr;
        const T* v = colgrad + (c * d.taps + k) * width + b * s.plane;
        for (int64_t ij = 0; ij < s.plane; ++ij) {
          const T vm = m ? v[ij] * m[ij] : v[ij];
          for (int t = 0; t < 4; ++t) dX[e[ij].index[t]] += e[ij].weight[t] * vm;
        }
      }
    }
}

// grad_offset and grad_mask of a chunk: per sample row (image, offset group,
// tap), sums over the group's channels.
template <typename T>
void offset_mask_grads(const Plan& s, const T* x, const T* colgrad,
                       const std::vector<BilinearCorners<T>>& samples, const T* mask, int64_t n0,
                       int64_t B, T* grad_offset, T* grad_mask) {
  const DeformGeometry& d = s.d;
  const int64_t width = B * s.plane, hw = d.H * d.W;
  const int64_t rows = s.sample_rows(B), first = n0 * d.offset_groups * d.taps;
#pragma omp parallel if (d.C * d.taps * width >= kParallelGrain)
  {
    std::vector<T> gy(static_cast<size_t>(s.plane)), gx(gy.size()), gm(gy.size());
#pragma omp for schedule(static)
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t b = r / (d.offset_groups * d.taps);
      const int64_t a = (r / d.taps) % d.offset_groups, k = r % d.taps;
      std::fill(gy.begin(), gy.end(), T(0));
      std::fill(gx.begin(), gx.end(), T(0));
      std::fill(gm.begin(), gm.end(), T(0));
      const BilinearCorners<T>* e = samples.data() + r * s.plane;
      for (int64_t c = a * d.Coff; c < (a + 1) * d.Coff; ++c) {
        const T* X = x + ((n0 + b) * d.C + c) * hw;
        const T* v = colgrad + (c * d.taps + k) * width + b * s.plane;
        for (int64_t ij = 0; ij < s.plane; ++ij) {
          const BilinearCorners<T>& q = e[ij];
          T val = 0, dy = 0, dx = 0;
          for (int t = 0; t < 4; ++t) {
            const T px = X[q.index[t]];
            val += q.weight[t] * px;
            dy += q.dweight_dy[t] * px;
            dx += q.dweight_dx[t] * px;
          }
          gm[ij] += v[ij] * val;
          gy[ij] += v[ij] * dy;
          gx[ij] += v[ij] * dx;
        }
      }
      const T* m = mask ? mask + (first + r) * s.plane : nullptr;
      T* oy = grad_offset + (first + r) * 2 * s.plane;
      T* ox = oy + s.plane;
      T* om = grad_mask + (first + r) * s.plane;
      for (int64_t ij = 0; ij < s.plane; ++ij) {
        const T mm = m ? m[ij] : T(1);
        oy[ij] = gy[ij] * mm;
        ox[ij] = gx[ij] * mm;
        om[ij] = gm[ij];
      }
    }
  }
}

template <typename T>
void backward_im2col(KernelContext& ctx) {
  const Tensor grad = ctx.input(0).contiguous();
  const Tensor x = ctx.input(1).contiguous();
  const Tensor offset = ctx.input(2).contiguous();
  const Tensor w = ctx.input(3).contiguous();
  const Tensor mask = ctx.input(4).defined() ? ctx.input(4).contiguous() : Tensor{};
  const Plan s(DeformGeometry::from(ctx.attrs(), x.shape(), w.shape(), offset.shape(),
                                    "deform_conv2d_backward"));
  const DeformGeometry& d = s.d;
  Tensor& out_input = ctx.output(0, x.shape(), x.dtype(), format_of(ctx.input(1)));
  Tensor& out_offset = ctx.output(1, offset.shape(), x.dtype());
  Tensor& out_mask = ctx.output(2, d.mask_shape(), x.dtype());
  const Tensor gi = dense_like(out_input), go = dense_like(out_offset), gm = dense_like(out_mask);
  std::fill_n(gi.data<T>(), gi.numel(), T(0));
  std::fill_n(go.data<T>(), go.numel(), T(0));
  std::fill_n(gm.data<T>(), gm.numel(), T(0));
  std::vector<BilinearCorners<T>> samples;
  std::vector<T> colgrad(static_cast<size_t>(d.C * d.taps * s.chunk * s.plane));
  std::vector<T> rows(static_cast<size_t>(d.O * s.chunk * s.plane));
  for (int64_t n0 = 0; n0 < d.N && s.plane > 0 && d.C > 0; n0 += s.chunk) {
    const int64_t B = std::min(s.chunk, d.N - n0), width = B * s.plane;
    gather_rows<T>(s, grad.data<T>(), n0, B, rows.data());
    for (int64_t g = 0; g < s.G; ++g) {
      T* dst = colgrad.data() + g * s.K * width;
      if (s.Og == 0) {
        std::fill_n(dst, s.K * width, T(0));
        continue;
      }
      gemm(CblasTrans, CblasNoTrans, s.K, width, s.Og, w.data<T>() + g * s.Og * s.K, s.K,
           rows.data() + g * s.Og * width, width, T(0), dst);
    }
    samples.resize(static_cast<size_t>(s.sample_rows(B) * s.plane));
    for_each_sample<T>(
        s, offset.data<T>(), n0, B,
        [&](int64_t r, int64_t ij, const BilinearCorners<T>& c) { samples[r * s.plane + ij] = c; });
    col2im<T>(s, colgrad.data(), samples, data_or_null<T>(mask), n0, B, gi.data<T>());
    offset_mask_grads<T>(s, x.data<T>(), colgrad.data(), samples, data_or_null<T>(mask), n0, B,
                         go.data<T>(), gm.data<T>());
  }
  if (!gi.is_same(out_input)) out_input.copy_(gi);
  if (!go.is_same(out_offset)) out_offset.copy_(go);
  if (!gm.is_same(out_mask)) out_mask.copy_(gm);
}

template <void (*F32)(KernelContext&), void (*F64)(KernelContext&)>
void by_dtype(KernelContext& ctx) {
  ctx.input(0).dtype() == DType::f64 ? F64(ctx) : F32(ctx);
}

const bool registered = [] {
  auto fp = [](const KernelContext& ctx) { return inputs_are_float(ctx); };
  register_kernel("deform_conv2d", DeviceType::cpu, "im2col_gemm", 10,
                  by_dtype<forward_im2col<float>, forward_im2col<double>>, fp,
                  "bilinear samples shared per offset group, deformable im2col (OpenMP) + "
                  "OpenBLAS gemm per group over chunks of images");
  register_kernel("deform_conv2d_backward", DeviceType::cpu, "im2col_gemm", 10,
                  by_dtype<backward_im2col<float>, backward_im2col<double>>, fp,
                  "OpenBLAS gemm (weightT x grad) per group over chunks of images, then a "
                  "deterministic bilinear col2im and per-tap offset/mask sums (OpenMP)");
  register_kernel("deform_conv2d_backward_weight", DeviceType::cpu, "im2col_gemm", 10,
                  by_dtype<backward_weight_im2col<float>, backward_weight_im2col<double>>, fp,
                  "deformable im2col (OpenMP) + OpenBLAS gemm (grad x colT) over chunks of "
                  "images");
  return true;
}();

}  // namespace
}  // namespace osprey::ops
