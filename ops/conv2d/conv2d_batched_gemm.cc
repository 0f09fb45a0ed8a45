// cpu/batched_gemm kernels of conv2d and its backward ops: im2col over a chunk of several images
// at once, so that one GEMM covers nb·Ho·Wo columns instead of the Ho·Wo of one small image
// (ResNet stages at 7×7 give 49 columns per image, far too few for a GEMM to run near peak).
// Chunks run in parallel, one per OpenMP thread, each with its own buffers and a single-threaded
// GEMM; that parallelises the unrolling and the scatter too, which a threaded GEMM would not.
//   conv2d:                 Y_chunk = W_grp · col(x_chunk),          scattered (+ bias) into y
//   conv2d_backward_input:  dx_chunk = col2im(W_grpᵀ · g_chunk)
//   conv2d_backward_weight: dW_grp  += g_chunk · col(x_chunk)ᵀ  (a partial sum per thread, added
//                                                                 in thread order at the end)
// Every tensor is read and written through its own strides, so channels-last and other views
// need no contiguous copy. The chunk size keeps the column buffer near the L2 cache.
#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <cstring>
#include <type_traits>
#include <vector>

#include "ops/common/cpu_gemm.h"
#include "ops/common/op_helpers.h"
#include "ops/conv2d/conv2d_geometry.h"

namespace osprey::ops {
namespace {

// Bytes of column buffer per chunk: measured on Zen 4 (1 MiB L2), larger chunks lose to cache
// misses and smaller ones to short GEMMs.
constexpr int64_t kColumnBudgetBytes = int64_t(1) << 20;

int64_t ceil_div(int64_t a, int64_t b) {
  return (a + b - 1) / b;
}

// A 4-d tensor's data and element strides (n, c, h, w).
template <typename T>
struct View {
  T* data;
  int64_t sn, sc, sh, sw;
  explicit View(const Tensor& t)
      : data(t.data<std::remove_const_t<T>>()),
        sn(t.stride(0)),
        sc(t.stride(1)),
        sh(t.stride(2)),
        sw(t.stride(3)) {}
  T* at(int64_t n, int64_t c) const { return data + n * sn + c * sc; }
};

// Sizes of one convolution (input N×C×H×W, weight O×Cg×kH×kW, output N×O×Ho×Wo) and, per kernel
// column q, the range [lo, hi) of output columns j whose input column lies inside the image.
struct Plan : ConvSizes {
  ConvGeometry geo;
  std::vector<int64_t> row_lo, row_hi, col_lo, col_hi;  // per p (rows) and per q (columns)

  Plan(const Shape& input, const Shape& weight, const ConvGeometry& g)
      : ConvSizes(input, weight, g), geo(g) {
    inside_range(0, kH, H, Ho, row_lo, row_hi);
    inside_range(1, kW, W, Wo, col_lo, col_hi);
  }

  // Output indices i in [lo, hi) read input index i·s − pad + tap·d inside [0, size).
  void inside_range(int dim, int64_t taps, int64_t size, int64_t out, std::vector<int64_t>& lo,
                    std::vector<int64_t>& hi) const {
    const int64_t s = geo.stride[dim], pad = geo.padding[dim], d = geo.dilation[dim];
    for (int64_t t = 0; t < taps; ++t) {
      const int64_t shift = pad - t * d;  // i·s >= shift  and  i·s <= size − 1 + shift
      const int64_t first = shift <= 0 ? 0 : ceil_div(shift, s);
      const int64_t last = size - 1 + shift < 0 ? -1 : (size - 1 + shift) / s;
      lo.push_back(std::min(first, out));
      hi.push_back(std::max(std::min(last + 1, out), lo.back()));
    }
  }

  // Images per chunk: as many as fit the column budget, but no fewer chunks than threads.
  int64_t images_per_chunk(size_t elem, int64_t threads) const {
    const int64_t per_image = std::max<int64_t>(1, K * plane * int64_t(elem));
    const int64_t fit = std::max<int64_t>(1, kColumnBudgetBytes / per_image);
    return std::max<int64_t>(1, std::min(fit, ceil_div(N, threads)));
  }
};

// Each thread's working set for one chunk of images: the column matrix (K × cols) and the
// group's output-side matrix (Og × cols), cols = images in the chunk × plane.
template <typename T>
struct ChunkBuffers {
  int64_t threads, images, max_cols;
  std::vector<std::vector<T>> col, rows;
  ChunkBuffers(const Plan& s, int64_t n_threads)
      : threads(n_threads),
        images(s.images_per_chunk(sizeof(T), n_threads)),
        max_cols(images * s.plane),
        col(n_threads),
        rows(n_threads) {
    for (int64_t t = 0; t < threads; ++t) {
      col[t].resize(size_t(s.K * max_cols));
      rows[t].resize(size_t(s.Og * max_cols));
    }
  }
};

// Unrolls channels [c0, c0 + Cg) of image n of x into the column block starting at `col` (row
// stride ld): row (c, p, q), column i·Wo + j holds x[n, c0 + c, i sH − pH + p dH, j sW − pW + q dW]
// (0 outside the image).
template <typename T>
void im2col(const View<const T>& x, int64_t n, int64_t c0, const Plan& s, T* col, int64_t ld) {
  const int64_t sH = s.geo.stride[0], sW = s.geo.stride[1];
  for (int64_t c = 0; c < s.Cg; ++c) {
    const T* xc = x.at(n, c0 + c);
    for (int64_t p = 0; p < s.kH; ++p)
      for (int64_t q = 0; q < s.kW; ++q) {
        T* row = col + ((c * s.kH + p) * s.kW + q) * ld;
        const int64_t jlo = s.col_lo[q], jhi = s.col_hi[q];
        const int64_t dv = q * s.geo.dilation[1] - s.geo.padding[1];
        for (int64_t i = 0; i < s.Ho; ++i) {
          T* out = row + i * s.Wo;
          if (i < s.row_lo[p] || i >= s.row_hi[p]) {
            std::fill(out, out + s.Wo, T(0));
            continue;
          }
          const T* xr = xc + (i * sH + p * s.geo.dilation[0] - s.geo.padding[0]) * x.sh;
          std::fill(out, out + jlo, T(0));
          if (sW == 1 && x.sw == 1) {
            if (jhi > jlo) std::memcpy(out + jlo, xr + jlo + dv, size_t(jhi - jlo) * sizeof(T));
          } else {
            for (int64_t j = jlo; j < jhi; ++j) out[j] = xr[(j * sW + dv) * x.sw];
          }
          std::fill(out + jhi, out + s.Wo, T(0));
        }
      }
  }
}

// The adjoint of im2col: adds each column entry onto the input pixel it was read from.
template <typename T>
void col2im(const T* col, int64_t ld, const Plan& s, const View<T>& x, int64_t n, int64_t c0) {
  const int64_t sH = s.geo.stride[0], sW = s.geo.stride[1];
  for (int64_t c = 0; c < s.Cg; ++c) {
    T* xc = x.at(n, c0 + c);
    for (int64_t p = 0; p < s.kH; ++p)
      for (int64_t q = 0; q < s.kW; ++q) {
        const T* row = col + ((c * s.kH + p) * s.kW + q) * ld;
        const int64_t jlo = s.col_lo[q], jhi = s.col_hi[q];
        const int64_t dv = q * s.geo.dilation[1] - s.geo.padding[1];
        for (int64_t i = s.row_lo[p]; i < s.row_hi[p]; ++i) {
          const T* in = row + i * s.Wo;
          T* xr = xc + (i * sH + p * s.geo.dilation[0] - s.geo.padding[0]) * x.sh;
          if (sW == 1 && x.sw == 1) {
            T* dst = xr + dv;
            for (int64_t j = jlo; j < jhi; ++j) dst[j] += in[j];
          } else {
            for (int64_t j = jlo; j < jhi; ++j) xr[(j * sW + dv) * x.sw] += in[j];
          }
        }
      }
  }
}

// Copies channels [c0, c0 + rows) of image n (each Ho×Wo) into consecutive rows of `dst` (row
// stride ld), or back.
template <typename T>
void gather_planes(const View<const T>& t, int64_t n, int64_t c0, int64_t rows, int64_t Ho,
                   int64_t Wo, T* dst, int64_t ld) {
  for (int64_t r = 0; r < rows; ++r) {
    const T* src = t.at(n, c0 + r);
    T* out = dst + r * ld;
    if (t.sw == 1 && t.sh == Wo) {
      std::memcpy(out, src, size_t(Ho * Wo) * sizeof(T));
      continue;
    }
    for (int64_t i = 0; i < Ho; ++i)
      for (int64_t j = 0; j < Wo; ++j) out[i * Wo + j] = src[i * t.sh + j * t.sw];
  }
}

// Runs body(thread, first_image, images) over the chunks of N images, chunk c on thread
// c mod threads (a fixed assignment, so per-thread partial sums add up the same every run).
// With fewer chunks than threads, one thread runs them with a threaded GEMM instead.
template <typename F>
void for_each_chunk(int64_t N, int64_t nb, int64_t threads, F&& body) {
  const int64_t chunks = ceil_div(N, nb);
  if (threads <= 1) {
    for (int64_t c = 0; c < chunks; ++c) body(0, c * nb, std::min(nb, N - c * nb));
    return;
  }
  SingleThreadedBlas single;
#pragma omp parallel num_threads(int(threads))
  {
    const int64_t t = omp_get_thread_num();
    for (int64_t c = t; c < chunks; c += threads) body(t, c * nb, std::min(nb, N - c * nb));
  }
}

// Threads to use for N images: the OpenMP threads available, at most one per image.
int64_t thread_count(int64_t N) {
  if (omp_in_parallel()) return 1;
  return std::max<int64_t>(1, std::min<int64_t>(omp_get_max_threads(), N));
}

template <typename T>
void forward(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& w_in = ctx.input(1);
  const Tensor bias = ctx.num_inputs() > 2 ? ctx.input(2) : Tensor{};
  const ConvGeometry geo = ConvGeometry::from_attrs(ctx.attrs(), "conv2d");
  const Plan s(x.shape(), w_in.shape(), geo);
  const bool nhwc = x.is_contiguous(MemoryFormat::channels_last) && !x.is_contiguous();
  Tensor& out = ctx.output(0, {s.N, s.O, s.Ho, s.Wo}, x.dtype(),
                           nhwc ? MemoryFormat::channels_last : MemoryFormat::contiguous);
  if (out.numel() == 0) return;
  const Tensor w = w_in.contiguous();
  const T* wd = w.data<T>();
  const View<const T> xv(x);
  const View<T> yv(out);
  const T* bd = bias.defined() ? bias.data<T>() : nullptr;
  const int64_t bstride = bias.defined() ? bias.stride(0) : 0;

  ChunkBuffers<T> buf(s, thread_count(s.N));
  for_each_chunk(s.N, buf.images, buf.threads, [&](int64_t t, int64_t n0, int64_t count) {
    const int64_t cols = count * s.plane;
    T* cb = buf.col[t].data();
    T* yb = buf.rows[t].data();
    for (int64_t g = 0; g < s.G; ++g) {
      for (int64_t b = 0; b < count; ++b) im2col(xv, n0 + b, g * s.Cg, s, cb + b * s.plane, cols);
      if (s.K == 0) {
        std::fill(yb, yb + s.Og * cols, T(0));
      } else {
        gemm(CblasNoTrans, CblasNoTrans, s.Og, cols, s.K, wd + g * s.Og * s.K, s.K, cb, cols, T(0),
             yb, cols);
      }
      for (int64_t b = 0; b < count; ++b)
        for (int64_t o = 0; o < s.Og; ++o) {
          const int64_t oc = g * s.Og + o;
          const T add = bd ? bd[oc * bstride] : T(0);
          const T* src = yb + o * cols + b * s.plane;
          T* dst = yv.at(n0 + b, oc);
          if (yv.sw == 1 && yv.sh == s.Wo) {
            for (int64_t k = 0; k < s.plane; ++k) dst[k] = src[k] + add;
          } else {
            for (int64_t i = 0; i < s.Ho; ++i)
              for (int64_t j = 0; j < s.Wo; ++j)
                dst[i * yv.sh + j * yv.sw] = src[i * s.Wo + j] + add;
          }
        }
    }
  });
}

template <typename T>
void backward_input(KernelContext& ctx) {
  const Tensor& g_in = ctx.input(0);
  const ConvGeometry geo = ConvGeometry::from_attrs(ctx.attrs(), "conv2d_backward_input");
  const Shape input_size = ctx.attrs().get_ints("input_size");
  const Plan s(input_size, ctx.input(1).shape(), geo);
  const bool nhwc = g_in.is_contiguous(MemoryFormat::channels_last) && !g_in.is_contiguous();
  Tensor& out = ctx.output(0, input_size, g_in.dtype(),
                           nhwc ? MemoryFormat::channels_last : MemoryFormat::contiguous);
  if (out.numel() == 0) return;
  const Tensor w = ctx.input(1).contiguous();
  const T* wd = w.data<T>();
  const View<const T> gv(g_in);
  const View<T> xv(out);

  ChunkBuffers<T> buf(s, thread_count(s.N));
  for_each_chunk(s.N, buf.images, buf.threads, [&](int64_t t, int64_t n0, int64_t count) {
    const int64_t cols = count * s.plane;
    T* cb = buf.col[t].data();
    T* gb = buf.rows[t].data();
    for (int64_t b = 0; b < count; ++b)
      for (int64_t c = 0; c < s.C; ++c) {
        T* xc = xv.at(n0 + b, c);
        for (int64_t h = 0; h < s.H; ++h)
          for (int64_t v = 0; v < s.W; ++v) xc[h * xv.sh + v * xv.sw] = T(0);
      }
    if (cols == 0) return;
    for (int64_t g = 0; g < s.G; ++g) {
      for (int64_t b = 0; b < count; ++b)
        gather_planes(gv, n0 + b, g * s.Og, s.Og, s.Ho, s.Wo, gb + b * s.plane, cols);
      if (s.K == 0) continue;
      if (s.Og == 0) {
        std::fill(cb, cb + s.K * cols, T(0));
      } else {
        gemm(CblasTrans, CblasNoTrans, s.K, cols, s.Og, wd + g * s.Og * s.K, s.K, gb, cols, T(0),
             cb, cols);
      }
      for (int64_t b = 0; b < count; ++b) col2im(cb + b * s.plane, cols, s, xv, n0 + b, g * s.Cg);
    }
  });
}

template <typename T>
void backward_weight(KernelContext& ctx) {
  const Tensor& g_in = ctx.input(0);
  const Tensor& x = ctx.input(1);
  const ConvGeometry geo = ConvGeometry::from_attrs(ctx.attrs(), "conv2d_backward_weight");
  const Shape weight_size = ctx.attrs().get_ints("weight_size");
  const Plan s(x.shape(), weight_size, geo);
  Tensor& out = ctx.output(0, weight_size, g_in.dtype());
  if (out.numel() == 0) return;
  const View<const T> gv(g_in);
  const View<const T> xv(x);

  ChunkBuffers<T> buf(s, thread_count(s.N));
  const int64_t threads = buf.threads;
  const int64_t wsize = s.O * s.K;
  std::vector<std::vector<T>> part(threads, std::vector<T>(size_t(wsize), T(0)));
  if (s.plane > 0) {
    for_each_chunk(s.N, buf.images, threads, [&](int64_t t, int64_t n0, int64_t count) {
      const int64_t cols = count * s.plane;
      T* cb = buf.col[t].data();
      T* gb = buf.rows[t].data();
      for (int64_t g = 0; g < s.G; ++g) {
        for (int64_t b = 0; b < count; ++b) {
          gather_planes(gv, n0 + b, g * s.Og, s.Og, s.Ho, s.Wo, gb + b * s.plane, cols);
          im2col(xv, n0 + b, g * s.Cg, s, cb + b * s.plane, cols);
        }
        gemm(CblasNoTrans, CblasTrans, s.Og, s.K, cols, gb, cols, cb, cols, T(1),
             part[t].data() + g * s.Og * s.K, s.K);
      }
    });
  }
  const Tensor res = out.is_contiguous() ? out : Tensor::empty(out.shape(), out.dtype());
  T* dw = res.data<T>();
  for (int64_t k = 0; k < wsize; ++k) {
    T sum = part[0][k];
    for (int64_t t = 1; t < threads; ++t) sum += part[t][k];
    dw[k] = sum;
  }
  if (!res.is_same(out)) out.copy_(res);
}

const bool registered = [] {
  register_kernel(
      "conv2d", DeviceType::cpu, "batched_gemm", 20,
      [](KernelContext& ctx) {
        ctx.input(0).dtype() == DType::f64 ? forward<double>(ctx) : forward<float>(ctx);
      },
      [](const KernelContext& ctx) { return inputs_are_float(ctx); },
      "im2col over chunks of images + one OpenBLAS gemm per chunk and group, chunks in parallel "
      "(OpenMP, single-threaded gemm each); reads and writes any strides");
  register_kernel(
      "conv2d_backward_input", DeviceType::cpu, "batched_gemm", 20,
      [](KernelContext& ctx) {
        ctx.input(0).dtype() == DType::f64 ? backward_input<double>(ctx)
                                           : backward_input<float>(ctx);
      },
      [](const KernelContext& ctx) { return inputs_are_float(ctx); },
      "OpenBLAS gemm (weightT x grad) per chunk of images and group, then col2im; chunks in "
      "parallel");
  register_kernel(
      "conv2d_backward_weight", DeviceType::cpu, "batched_gemm", 20,
      [](KernelContext& ctx) {
        ctx.input(0).dtype() == DType::f64 ? backward_weight<double>(ctx)
                                           : backward_weight<float>(ctx);
      },
      [](const KernelContext& ctx) { return inputs_are_float(ctx); },
      "im2col + OpenBLAS gemm (grad x colT) per chunk of images and group, a partial sum per "
      "thread added at the end");
  return true;
}();

}  // namespace
}  // namespace osprey::ops
