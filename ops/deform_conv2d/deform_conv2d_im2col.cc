// cpu/im2col_gemm kernels of deform_conv2d and its backward ops. The images go in chunks of B
// (one image, or a few small ones for a wide gemm; the columns buffers are bounded to
// kColumnBudget elements in all), each chunk wholly on one OpenMP thread with single-threaded
// gemms, so the steps below run without barriers and a chunk's buffers stay in that core's
// caches as far as they fit (one thread: the steps' own OpenMP loops and OpenBLAS's threads split
// each step instead). Per chunk the input is copied into
// planes with a one-pixel zero border, so that every sample's four corners sit at base, base + 1,
// base + Wp and base + Wp + 1 of its padded plane (corners outside the map read the border's zeros;
// invalid samples get zero weights) and the inner loops need no bounds checks. Then:
//   1. one sample (base index, four weights with the mask folded in) per (image, offset group,
//      tap, output pixel), shared by all channels of the offset group;
//   2. deformable im2col: columns [C·kH·kW] × [B·Ho·Wo], row c·kH·kW + k;
//   3. one OpenBLAS gemm per conv group over the whole chunk:
//        deform_conv2d:                 y[grp] = W_grp · col  (then + bias)
//        deform_conv2d_backward_weight: dW_grp += g[grp] · colᵀ
//        deform_conv2d_backward:        colgrad[grp] = W_grpᵀ · g[grp], then
//          grad_input: colgrad scattered onto each sample's corners with the masked weights,
//            into padded planes (per image × channel: no two threads write one plane, so the
//            result is deterministic), then cropped into place;
//          grad_offset, grad_mask: per (image, offset group, tap) row, per pixel the sums over
//            the group's channels of colgrad times each of the four corners, from which ∂B/∂y,
//            ∂B/∂x and B follow (they are linear in the corners).
// The sampling loops take 4 channels of an offset group per pass over a row of samples; their f32
// forms use SSE on the adjacent corner pairs.
// dW sums a partial per thread, added in thread order (deterministic).
// g and y are held [O] × [B·Ho·Wo] during a chunk (a transpose of the N × O planes). Inputs of any
// layout are copied contiguous first; strided outputs are computed contiguous and copied in.
// f32 and f64. The sampling rule is bilinear_cell (deform_conv2d_geometry.h), shared with the CUDA
// kernels.
#include <omp.h>
#include <xmmintrin.h>

#include <algorithm>
#include <climits>
#include <memory>
#include <type_traits>
#include <vector>

#include "ops/common/cpu_gemm.h"
#include "ops/common/cpu_loops.h"
#include "ops/common/op_helpers.h"
#include "ops/deform_conv2d/deform_conv2d_geometry.h"

namespace osprey::ops {
namespace {

// Elements of the columns buffer per chunk (128 MB of f32).
constexpr int64_t kColumnBudget = int64_t{1} << 25;

// Columns per gemm worth batching images for (small planes are batched up to this width).
constexpr int64_t kGemmWidth = 256;

// One sample in a padded plane: corners at base + {0, 1, Wp, Wp + 1} with these weights.
template <typename T>
struct Tap {
  int32_t base;
  T weight[4];
};

// The sizes of one call and of its chunks.
struct Plan {
  DeformGeometry d;
  int64_t plane, G, Og, K, chunk, Hp, Wp;
  explicit Plan(const DeformGeometry& geo) : d(geo) {
    plane = d.Ho * d.Wo;
    G = d.conv.groups;
    Og = d.O / G;
    K = d.Cg * d.taps;
    Hp = d.H + 2;
    Wp = d.W + 2;
    OSPREY_CHECK(Hp * Wp <= INT32_MAX,
                 "deform_conv2d/cpu/im2col_gemm: input plane {}×{} is too large", d.H, d.W);
    threads =
        omp_in_parallel() ? 1 : std::max<int64_t>(1, std::min<int64_t>(omp_get_max_threads(), d.N));
    const int64_t per_image = std::max<int64_t>(1, d.C * d.taps * plane);
    const int64_t most = std::max<int64_t>(1, kColumnBudget / threads / per_image);
    // Enough images per chunk for a wide gemm, few enough that every thread gets a share.
    const int64_t wide =
        std::max<int64_t>(1, (kGemmWidth + plane - 1) / std::max<int64_t>(1, plane));
    const int64_t share = std::max<int64_t>(1, (d.N + threads - 1) / threads);
    const int64_t want = std::min({most, wide, share});
    const int64_t chunks = std::max<int64_t>(1, (d.N + want - 1) / want);
    chunk = std::max<int64_t>(1, (d.N + chunks - 1) / chunks);  // balanced chunks
    chunks_ = (d.N + chunk - 1) / chunk;
    threads = std::max<int64_t>(1, std::min(threads, chunks_));
  }
  // Runs body(thread, first_image, images) over the chunks, chunk c on thread c mod threads (a
  // fixed assignment, so per-thread partial sums add up the same every run). Each thread runs its
  // own single-threaded gemms and sampling loops, with no barriers between the steps; with one
  // thread the steps' own OpenMP loops and OpenBLAS's threads share the work instead.
  template <typename F>
  void for_each_chunk(F&& body) const {
    if (threads <= 1) {
      for (int64_t c = 0; c < chunks_; ++c) body(0, c * chunk, std::min(chunk, d.N - c * chunk));
      return;
    }
    SingleThreadedBlas single;
#pragma omp parallel num_threads(int(threads))
    {
      const int64_t t = omp_get_thread_num();
      for (int64_t c = t; c < chunks_; c += threads)
        body(t, c * chunk, std::min(chunk, d.N - c * chunk));
    }
  }
  int64_t threads = 1, chunks_ = 1;
  int64_t sample_rows(int64_t B) const {
    return B * d.offset_groups * d.taps;
  }
  int64_t padded_plane() const {
    return Hp * Wp;
  }
  // The base (undeformed) position of output index `out` for kernel index `tap` along dim 0 (y)
  // or 1 (x).
  int64_t base(int dim, int64_t out, int64_t tap) const {
    return out * d.conv.stride[dim] - d.conv.padding[dim] + tap * d.conv.dilation[dim];
  }
};

// Calls f(ij, cell) for the samples of sample row r = (b·G + a)·taps + k of images from n0.
template <typename T, typename F>
void for_each_cell(const Plan& s, const T* offset, int64_t n0, int64_t r, F&& f) {
  const DeformGeometry& d = s.d;
  const bool v1 = d.boundary == DeformBoundary::mxnet_v1;
  const int64_t k = r % d.taps, p = k / d.kW, q = k % d.kW;
  // Offset channels 2·tap (Δy) and 2·tap + 1 (Δx).
  const T* dy = offset + (n0 * d.offset_groups * d.taps + r) * 2 * s.plane;
  const T* dx = dy + s.plane;
  for (int64_t i = 0; i < d.Ho; ++i) {
    const T y0 = static_cast<T>(s.base(0, i, p));
    for (int64_t j = 0; j < d.Wo; ++j) {
      const int64_t ij = i * d.Wo + j;
      const T x0 = static_cast<T>(s.base(1, j, q));
      f(ij, bilinear_cell<T>(y0 + dy[ij], x0 + dx[ij], d.H, d.W, v1));
    }
  }
}

// The samples of a chunk with the mask folded into the weights, indexed [row][ij].
template <typename T>
void masked_taps(const Plan& s, const T* offset, const T* mask, int64_t n0, int64_t B,
                 std::vector<Tap<T>>& out) {
  const int64_t rows = s.sample_rows(B);
  out.resize(static_cast<size_t>(rows * s.plane));
  const T* m0 = mask ? mask + n0 * s.d.offset_groups * s.d.taps * s.plane : nullptr;
#pragma omp parallel for schedule(static) if (rows * s.plane >= kParallelGrain)
  for (int64_t r = 0; r < rows; ++r) {
    for_each_cell<T>(s, offset, n0, r, [&](int64_t ij, const BilinearCell<T>& c) {
      Tap<T>& e = out[r * s.plane + ij];
      if (!c.valid) {
        e = Tap<T>{0, {T(0), T(0), T(0), T(0)}};
        return;
      }
      const T m = m0 ? m0[r * s.plane + ij] : T(1);
      T w[4];
      bilinear_weights(c, w);
      e.base = static_cast<int32_t>((c.y0 + 1) * s.Wp + (c.x0 + 1));
      for (int t = 0; t < 4; ++t) e.weight[t] = w[t] * m;
    });
  }
}

// The chunk's input planes with a one-pixel zero border: [B][C][Hp][Wp].
template <typename T>
void pad_planes(const Plan& s, const T* x, int64_t n0, int64_t B, T* xp) {
  const DeformGeometry& d = s.d;
  const int64_t planes = B * d.C;
#pragma omp parallel for schedule(static) if (planes * s.padded_plane() >= kParallelGrain)
  for (int64_t pc = 0; pc < planes; ++pc) {
    const T* src = x + (n0 * d.C + pc) * d.H * d.W;
    T* dst = xp + pc * s.padded_plane();
    std::fill_n(dst, s.Wp, T(0));
    for (int64_t h = 0; h < d.H; ++h) {
      T* row = dst + (h + 1) * s.Wp;
      row[0] = T(0);
      std::copy_n(src + h * d.W, d.W, row + 1);
      row[d.W + 1] = T(0);
    }
    std::fill_n(dst + (d.H + 1) * s.Wp, s.Wp, T(0));
  }
}

// Channels sampled per pass over a sample row: the row's samples are loaded once per pass.
constexpr int64_t kChannelBlock = 4;

// Ds[u][ij] = the sample e[ij] of the padded plane Xs[u], for kChannelBlock planes.
template <typename T>
void sample_block(const Tap<T>* e, int64_t n, int64_t wp, const T* const* Xs, T* const* Ds) {
  const T *X0 = Xs[0], *X1 = Xs[1], *X2 = Xs[2], *X3 = Xs[3];
  T *D0 = Ds[0], *D1 = Ds[1], *D2 = Ds[2], *D3 = Ds[3];
  for (int64_t ij = 0; ij < n; ++ij) {
    const int64_t o = e[ij].base;
    const T w0 = e[ij].weight[0], w1 = e[ij].weight[1], w2 = e[ij].weight[2], w3 = e[ij].weight[3];
    D0[ij] = w0 * X0[o] + w1 * X0[o + 1] + w2 * X0[o + wp] + w3 * X0[o + wp + 1];
    D1[ij] = w0 * X1[o] + w1 * X1[o + 1] + w2 * X1[o + wp] + w3 * X1[o + wp + 1];
    D2[ij] = w0 * X2[o] + w1 * X2[o + 1] + w2 * X2[o + wp] + w3 * X2[o + wp + 1];
    D3[ij] = w0 * X3[o] + w1 * X3[o + 1] + w2 * X3[o + wp] + w3 * X3[o + wp + 1];
  }
}

// The f32 form with SSE (baseline x86-64): a sample's corner pairs (x00, x01) and (x10, x11) are
// adjacent, so each plane's four corners come in two 8-byte loads, times the four weights in one
// multiply; the four planes' products are then summed across in one transposing add.
template <>
void sample_block<float>(const Tap<float>* e, int64_t n, int64_t wp, const float* const* Xs,
                         float* const* Ds) {
  auto corners = [wp](const float* p) {
    const __m128 top = _mm_loadl_pi(_mm_setzero_ps(), reinterpret_cast<const __m64*>(p));
    return _mm_loadh_pi(top, reinterpret_cast<const __m64*>(p + wp));
  };
  for (int64_t ij = 0; ij < n; ++ij) {
    const int64_t o = e[ij].base;
    const __m128 w = _mm_loadu_ps(e[ij].weight);
    const __m128 p0 = _mm_mul_ps(w, corners(Xs[0] + o)), p1 = _mm_mul_ps(w, corners(Xs[1] + o));
    const __m128 p2 = _mm_mul_ps(w, corners(Xs[2] + o)), p3 = _mm_mul_ps(w, corners(Xs[3] + o));
    // u01 = [p0₀ + p0₂, p1₀ + p1₂, p0₁ + p0₃, p1₁ + p1₃], u23 likewise.
    const __m128 u01 = _mm_add_ps(_mm_unpacklo_ps(p0, p1), _mm_unpackhi_ps(p0, p1));
    const __m128 u23 = _mm_add_ps(_mm_unpacklo_ps(p2, p3), _mm_unpackhi_ps(p2, p3));
    const __m128 sum = _mm_add_ps(_mm_movelh_ps(u01, u23), _mm_movehl_ps(u23, u01));
    alignas(16) float out[4];
    _mm_store_ps(out, sum);
    Ds[0][ij] = out[0];
    Ds[1][ij] = out[1];
    Ds[2][ij] = out[2];
    Ds[3][ij] = out[3];
  }
}

// Deformable im2col of the chunk's padded planes into col ([C·taps] × [B·plane]): per sample row
// (image, offset group, tap), the group's channels kChannelBlock at a time, then one by one.
template <typename T>
void im2col(const Plan& s, const T* xp, const std::vector<Tap<T>>& taps, int64_t B, T* col) {
  const DeformGeometry& d = s.d;
  const int64_t width = B * s.plane, wp = s.Wp, rows = s.sample_rows(B);
#pragma omp parallel for schedule(static) if (d.C * d.taps * width >= kParallelGrain)
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t b = r / (d.offset_groups * d.taps);
    const int64_t a = (r / d.taps) % d.offset_groups, k = r % d.taps;
    const Tap<T>* e = taps.data() + r * s.plane;
    const T* X = xp + b * d.C * s.padded_plane();
    T* dst = col + k * width + b * s.plane;
    const int64_t end = (a + 1) * d.Coff;
    int64_t c = a * d.Coff;
    for (; c + kChannelBlock <= end; c += kChannelBlock) {
      const T* X0 = X + c * s.padded_plane();
      const T *X1 = X0 + s.padded_plane(), *X2 = X1 + s.padded_plane(), *X3 = X2 + s.padded_plane();
      T* D0 = dst + c * d.taps * width;
      T *D1 = D0 + d.taps * width, *D2 = D1 + d.taps * width, *D3 = D2 + d.taps * width;
      const T* Xs[kChannelBlock] = {X0, X1, X2, X3};
      T* Ds[kChannelBlock] = {D0, D1, D2, D3};
      sample_block(e, s.plane, wp, Xs, Ds);
    }
    for (; c < end; ++c) {
      const T* X0 = X + c * s.padded_plane();
      T* D0 = dst + c * d.taps * width;
      for (int64_t ij = 0; ij < s.plane; ++ij) {
        const int64_t o = e[ij].base;
        const T* w = e[ij].weight;
        D0[ij] = w[0] * X0[o] + w[1] * X0[o + 1] + w[2] * X0[o + wp] + w[3] * X0[o + wp + 1];
      }
    }
  }
}

// rows[o][b·plane + ij] = t[n0 + b][o][ij] (grad_output of a chunk as an [O] × [B·plane] matrix).
template <typename T>
void gather_rows(const Plan& s, const T* t, int64_t n0, int64_t B, T* rows) {
  const int64_t width = B * s.plane;
#pragma omp parallel for collapse(2) schedule(static) if (s.d.O * width >= kParallelGrain)
  for (int64_t b = 0; b < B; ++b)
    for (int64_t o = 0; o < s.d.O; ++o)
      std::copy_n(t + ((n0 + b) * s.d.O + o) * s.plane, s.plane, rows + o * width + b * s.plane);
}

template <typename T>
const T* data_or_null(const Tensor& t) {
  return t.defined() ? t.data<T>() : nullptr;
}

// Scratch buffers of one thread, sized for a full chunk (uninitialised: every use writes first).
template <typename T>
struct Scratch {
  std::unique_ptr<T[]> col, rows, padded;
  std::vector<Tap<T>> taps;
  explicit Scratch(const Plan& s)
      : col(new T[static_cast<size_t>(s.d.C * s.d.taps * s.chunk * s.plane)]),
        rows(new T[static_cast<size_t>(s.d.O * s.chunk * s.plane)]),
        padded(new T[static_cast<size_t>(s.chunk * s.d.C * s.padded_plane())]) {}
};

template <typename T>
std::vector<Scratch<T>> scratch_per_thread(const Plan& s) {
  std::vector<Scratch<T>> out;
  out.reserve(static_cast<size_t>(s.threads));
  for (int64_t t = 0; t < s.threads; ++t) out.emplace_back(s);
  return out;
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
  Tensor& out = ctx.output(0, d.output_shape(), x.dtype(), deform_layout(ctx.input(0)));
  if (out.numel() == 0) return;
  const Tensor res = dense_like(out);
  T* y = res.data<T>();
  std::vector<Scratch<T>> work = scratch_per_thread<T>(s);
  s.for_each_chunk([&](int64_t t, int64_t n0, int64_t B) {
    Scratch<T>& buf = work[static_cast<size_t>(t)];
    const int64_t width = B * s.plane;
    masked_taps<T>(s, offset.data<T>(), data_or_null<T>(mask), n0, B, buf.taps);
    pad_planes<T>(s, x.data<T>(), n0, B, buf.padded.get());
    im2col<T>(s, buf.padded.get(), buf.taps, B, buf.col.get());
    for (int64_t g = 0; g < s.G; ++g) {
      T* dst = buf.rows.get() + g * s.Og * width;
      if (s.K == 0) {
        std::fill_n(dst, s.Og * width, T(0));
        continue;
      }
      gemm(CblasNoTrans, CblasNoTrans, s.Og, width, s.K, w.data<T>() + g * s.Og * s.K, s.K,
           buf.col.get() + g * s.K * width, width, T(0), dst);
    }
#pragma omp parallel for collapse(2) schedule(static) if (d.O * width >= kParallelGrain)
    for (int64_t b = 0; b < B; ++b)
      for (int64_t o = 0; o < d.O; ++o) {
        const T add = bias.defined() ? bias.data<T>()[o * bias.stride(0)] : T(0);
        const T* src = buf.rows.get() + o * width + b * s.plane;
        T* dst = y + ((n0 + b) * d.O + o) * s.plane;
        for (int64_t ij = 0; ij < s.plane; ++ij) dst[ij] = src[ij] + add;
      }
  });
  store_dense(res, out);
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
  Tensor& out = ctx.output(0, weight_size, grad.dtype());
  if (out.numel() == 0) return;
  const Tensor res = dense_like(out);
  T* dw = res.data<T>();
  const int64_t size = res.numel();
  // One partial sum per thread (thread 0 sums into dw), added up in thread order.
  std::vector<T> partial(static_cast<size_t>((s.threads - 1) * size), T(0));
  std::fill_n(dw, size, T(0));
  std::vector<Scratch<T>> work = scratch_per_thread<T>(s);
  s.for_each_chunk([&](int64_t t, int64_t n0, int64_t B) {
    Scratch<T>& buf = work[static_cast<size_t>(t)];
    T* acc = t == 0 ? dw : partial.data() + (t - 1) * size;
    const int64_t width = B * s.plane;
    masked_taps<T>(s, offset.data<T>(), data_or_null<T>(mask), n0, B, buf.taps);
    pad_planes<T>(s, x.data<T>(), n0, B, buf.padded.get());
    im2col<T>(s, buf.padded.get(), buf.taps, B, buf.col.get());
    gather_rows<T>(s, grad.data<T>(), n0, B, buf.rows.get());
    for (int64_t g = 0; g < s.G; ++g) {
      gemm(CblasNoTrans, CblasTrans, s.Og, s.K, width, buf.rows.get() + g * s.Og * width, width,
           buf.col.get() + g * s.K * width, width, T(1), acc + g * s.Og * s.K);
    }
  });
  for (int64_t t = 1; t < s.threads; ++t) {
    const T* p = partial.data() + (t - 1) * size;
    for (int64_t i = 0; i < size; ++i) dw[i] += p[i];
  }
  store_dense(res, out);
}

// Scatters the colgrad rows v[u] (u < n) of one sample row onto the corners of the padded planes
// dX[u] (one tap's samples loaded once for all n channels).
template <typename T, int n>
void scatter_row(const Tap<T>* e, int64_t plane, int64_t wp, const T* const* v, T* const* dX) {
  if constexpr (std::is_same_v<T, float>) {
    // SSE (baseline x86-64): the corner pairs are adjacent, updated with 8-byte loads and stores.
    for (int64_t ij = 0; ij < plane; ++ij) {
      const int64_t o = e[ij].base;
      const __m128 w = _mm_loadu_ps(e[ij].weight);
      for (int u = 0; u < n; ++u) {
        float* p = dX[u] + o;
        __m128 x = _mm_loadl_pi(_mm_setzero_ps(), reinterpret_cast<const __m64*>(p));
        x = _mm_loadh_pi(x, reinterpret_cast<const __m64*>(p + wp));
        x = _mm_add_ps(x, _mm_mul_ps(w, _mm_set1_ps(v[u][ij])));
        _mm_storel_pi(reinterpret_cast<__m64*>(p), x);
        _mm_storeh_pi(reinterpret_cast<__m64*>(p + wp), x);
      }
    }
  } else {
    for (int64_t ij = 0; ij < plane; ++ij) {
      const int64_t o = e[ij].base;
      const T w0 = e[ij].weight[0], w1 = e[ij].weight[1], w2 = e[ij].weight[2],
              w3 = e[ij].weight[3];
      for (int u = 0; u < n; ++u) {
        const T g = v[u][ij];
        T* p = dX[u] + o;
        p[0] += w0 * g;
        p[1] += w1 * g;
        p[wp] += w2 * g;
        p[wp + 1] += w3 * g;
      }
    }
  }
}

// grad_input of a chunk: colgrad scattered onto the corners with the masked weights, in padded
// planes (reusing the padded buffer), then cropped into grad_input. One thread per block of up to
// kChannelBlock planes of one image and offset group.
template <typename T>
void col2im(const Plan& s, const T* colgrad, const std::vector<Tap<T>>& taps, int64_t n0, int64_t B,
            T* padded, T* grad_input) {
  const DeformGeometry& d = s.d;
  const int64_t width = B * s.plane, wp = s.Wp;
  const int64_t per_group = (d.Coff + kChannelBlock - 1) / kChannelBlock;
  const int64_t blocks = B * d.offset_groups * per_group;
#pragma omp parallel for schedule(static) if (d.C * d.taps * width >= kParallelGrain)
  for (int64_t blk = 0; blk < blocks; ++blk) {
    const int64_t b = blk / (d.offset_groups * per_group);
    const int64_t a = (blk / per_group) % d.offset_groups;
    const int64_t c0 = a * d.Coff + (blk % per_group) * kChannelBlock;
    const int64_t n = std::min(kChannelBlock, (a + 1) * d.Coff - c0);
    T* dX[kChannelBlock];
    for (int64_t u = 0; u < n; ++u) {
      dX[u] = padded + (b * d.C + c0 + u) * s.padded_plane();
      std::fill_n(dX[u], s.padded_plane(), T(0));
    }
    for (int64_t k = 0; k < d.taps; ++k) {
      const Tap<T>* e = taps.data() + ((b * d.offset_groups + a) * d.taps + k) * s.plane;
      const T* v[kChannelBlock];
      for (int64_t u = 0; u < n; ++u)
        v[u] = colgrad + ((c0 + u) * d.taps + k) * width + b * s.plane;
      if (n == kChannelBlock) {
        scatter_row<T, kChannelBlock>(e, s.plane, wp, v, dX);
      } else {
        for (int64_t u = 0; u < n; ++u) scatter_row<T, 1>(e, s.plane, wp, v + u, dX + u);
      }
    }
    for (int64_t u = 0; u < n; ++u) {
      T* out = grad_input + ((n0 + b) * d.C + c0 + u) * d.H * d.W;
      for (int64_t h = 0; h < d.H; ++h) std::copy_n(dX[u] + (h + 1) * wp + 1, d.W, out + h * d.W);
    }
  }
}

// acc[4·ij + i] += Σ_u v[u][ij] · (corner i of sample ij in the padded plane Xs[u]), corners
// 0, 1, wp, wp + 1, for n channels (the offset and mask gradients are linear in these sums).
template <typename T, int n>
void corner_sums(const int32_t* base, int64_t P, int64_t wp, const T* const* Xs, const T* const* v,
                 T* acc) {
  if constexpr (std::is_same_v<T, float> && n == 4) {
    // SSE (baseline x86-64): the corner pairs are adjacent, two 8-byte loads per plane.
    for (int64_t ij = 0; ij < P; ++ij) {
      const int64_t o = base[ij];
      __m128 sum = _mm_loadu_ps(acc + 4 * ij);
      for (int u = 0; u < n; ++u) {
        const float* p = Xs[u] + o;
        const __m128 top = _mm_loadl_pi(_mm_setzero_ps(), reinterpret_cast<const __m64*>(p));
        const __m128 x = _mm_loadh_pi(top, reinterpret_cast<const __m64*>(p + wp));
        sum = _mm_add_ps(sum, _mm_mul_ps(_mm_set1_ps(v[u][ij]), x));
      }
      _mm_storeu_ps(acc + 4 * ij, sum);
    }
  } else {
    for (int64_t ij = 0; ij < P; ++ij) {
      const int64_t o = base[ij];
      T s0 = acc[4 * ij], s1 = acc[4 * ij + 1], s2 = acc[4 * ij + 2], s3 = acc[4 * ij + 3];
      for (int u = 0; u < n; ++u) {
        const T* p = Xs[u] + o;
        const T g = v[u][ij];
        s0 += g * p[0];
        s1 += g * p[1];
        s2 += g * p[wp];
        s3 += g * p[wp + 1];
      }
      acc[4 * ij] = s0;
      acc[4 * ij + 1] = s1;
      acc[4 * ij + 2] = s2;
      acc[4 * ij + 3] = s3;
    }
  }
}

// grad_offset and grad_mask of a chunk: per sample row (image, offset group, tap), the sums over
// the group's channels of colgrad times each corner (corner_sums), then per pixel ∂B/∂y, ∂B/∂x and
// B of those sums.
template <typename T>
void offset_mask_grads(const Plan& s, const T* xp, const T* colgrad, const T* offset, const T* mask,
                       int64_t n0, int64_t B, T* grad_offset, T* grad_mask) {
  const DeformGeometry& d = s.d;
  const int64_t width = B * s.plane, wp = s.Wp;
  const int64_t rows = s.sample_rows(B), first = n0 * d.offset_groups * d.taps;
#pragma omp parallel if (d.C * d.taps * width >= kParallelGrain)
  {
    const size_t n = static_cast<size_t>(s.plane);
    std::vector<int32_t> base(n);
    // Per pixel: hy, ly, hx, lx (all 0 for an invalid sample), the clamp factors my, mx and the
    // four corner sums.
    std::vector<T> hy(n), ly(n), hx(n), lx(n), my(n), mx(n), acc(4 * n);
#pragma omp for schedule(static)
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t b = r / (d.offset_groups * d.taps);
      const int64_t a = (r / d.taps) % d.offset_groups, k = r % d.taps;
      for_each_cell<T>(s, offset, n0, r, [&](int64_t ij, const BilinearCell<T>& c) {
        base[ij] = c.valid ? static_cast<int32_t>((c.y0 + 1) * wp + (c.x0 + 1)) : 0;
        ly[ij] = c.valid ? c.ly : T(0);
        lx[ij] = c.valid ? c.lx : T(0);
        hy[ij] = c.valid ? T(1) - c.ly : T(0);
        hx[ij] = c.valid ? T(1) - c.lx : T(0);
        my[ij] = c.y_moves ? T(1) : T(0);
        mx[ij] = c.x_moves ? T(1) : T(0);
      });
      std::fill(acc.begin(), acc.end(), T(0));
      // The group's channels kChannelBlock at a time, then one by one.
      const int64_t end = (a + 1) * d.Coff;
      int64_t c = a * d.Coff;
      for (; c < end;) {
        const T* Xs[kChannelBlock];
        const T* Vs[kChannelBlock];
        const int64_t m = end - c >= kChannelBlock ? kChannelBlock : 1;
        for (int64_t u = 0; u < m; ++u) {
          Xs[u] = xp + (b * d.C + c + u) * s.padded_plane();
          Vs[u] = colgrad + ((c + u) * d.taps + k) * width + b * s.plane;
        }
        if (m == kChannelBlock) {
          corner_sums<T, kChannelBlock>(base.data(), s.plane, wp, Xs, Vs, acc.data());
        } else {
          corner_sums<T, 1>(base.data(), s.plane, wp, Xs, Vs, acc.data());
        }
        c += m;
      }
      const T* mk = mask ? mask + (first + r) * s.plane : nullptr;
      T* oy = grad_offset + (first + r) * 2 * s.plane;
      T* ox = oy + s.plane;
      T* om = grad_mask + (first + r) * s.plane;
      for (int64_t ij = 0; ij < s.plane; ++ij) {
        const T* S = acc.data() + 4 * ij;
        const T top = hx[ij] * S[0] + lx[ij] * S[1], bottom = hx[ij] * S[2] + lx[ij] * S[3];
        const T mm = mk ? mk[ij] : T(1);
        oy[ij] = (bottom - top) * mm * my[ij];
        ox[ij] = (hy[ij] * (S[1] - S[0]) + ly[ij] * (S[3] - S[2])) * mm * mx[ij];
        om[ij] = hy[ij] * top + ly[ij] * bottom;
      }
    }
  }
}

// Copies the contiguous results into strided outputs.
void finish_backward(const Tensor& gi, const Tensor& go, const Tensor& gm, Tensor& out_input,
                     Tensor& out_offset, Tensor& out_mask) {
  store_dense(gi, out_input);
  store_dense(go, out_offset);
  store_dense(gm, out_mask);
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
  Tensor& out_input = ctx.output(0, x.shape(), x.dtype(), deform_layout(ctx.input(1)));
  Tensor& out_offset = ctx.output(1, offset.shape(), x.dtype());
  Tensor& out_mask = ctx.output(2, d.mask_shape(), x.dtype());
  const Tensor gi = dense_like(out_input), go = dense_like(out_offset), gm = dense_like(out_mask);
  if (d.C == 0) {  // no channels: nothing is sampled
    std::fill_n(go.data<T>(), go.numel(), T(0));
    std::fill_n(gm.data<T>(), gm.numel(), T(0));
    return finish_backward(gi, go, gm, out_input, out_offset, out_mask);
  }
  std::vector<Scratch<T>> work = scratch_per_thread<T>(s);
  // Per thread a second padded copy: the scatter target of col2im.
  const int64_t scatter_size = s.chunk * d.C * s.padded_plane();
  std::unique_ptr<T[]> scatter(new T[static_cast<size_t>(s.threads * scatter_size)]);
  s.for_each_chunk([&](int64_t t, int64_t n0, int64_t B) {
    Scratch<T>& buf = work[static_cast<size_t>(t)];
    const int64_t width = B * s.plane;
    T* colgrad = buf.col.get();
    gather_rows<T>(s, grad.data<T>(), n0, B, buf.rows.get());
    for (int64_t g = 0; g < s.G; ++g) {
      T* dst = colgrad + g * s.K * width;
      if (s.Og == 0) {
        std::fill_n(dst, s.K * width, T(0));
        continue;
      }
      gemm(CblasTrans, CblasNoTrans, s.K, width, s.Og, w.data<T>() + g * s.Og * s.K, s.K,
           buf.rows.get() + g * s.Og * width, width, T(0), dst);
    }
    masked_taps<T>(s, offset.data<T>(), data_or_null<T>(mask), n0, B, buf.taps);
    col2im<T>(s, colgrad, buf.taps, n0, B, scatter.get() + t * scatter_size, gi.data<T>());
    pad_planes<T>(s, x.data<T>(), n0, B, buf.padded.get());
    offset_mask_grads<T>(s, buf.padded.get(), colgrad, offset.data<T>(), data_or_null<T>(mask), n0,
                         B, go.data<T>(), gm.data<T>());
  });
  finish_backward(gi, go, gm, out_input, out_offset, out_mask);
}

const bool registered = [] {
  auto fp = [](const KernelContext& ctx) { return inputs_are_float(ctx); };
  register_kernel("deform_conv2d", DeviceType::cpu, "im2col_gemm", 10,
                  by_float_dtype<forward_im2col<float>, forward_im2col<double>>, fp,
                  "samples shared per offset group, deformable im2col from zero-bordered planes "
                  "(OpenMP) + OpenBLAS gemm per group over chunks of images");
  register_kernel("deform_conv2d_backward", DeviceType::cpu, "im2col_gemm", 10,
                  by_float_dtype<backward_im2col<float>, backward_im2col<double>>, fp,
                  "OpenBLAS gemm (weightT x grad) per group over chunks of images, then a "
                  "deterministic bilinear col2im and per-tap offset/mask sums (OpenMP)");
  register_kernel("deform_conv2d_backward_weight", DeviceType::cpu, "im2col_gemm", 10,
                  by_float_dtype<backward_weight_im2col<float>, backward_weight_im2col<double>>, fp,
                  "deformable im2col (OpenMP) + OpenBLAS gemm (grad x colT) over chunks of images");
  return true;
}();

}  // namespace
}  // namespace osprey::ops
