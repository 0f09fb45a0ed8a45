// cpu/fast kernels of batch_norm and batch_norm_backward for the layouts a CNN produces: a
// contiguous N x C x (spatial) input ("planes": each (n, c) plane of S values is contiguous) and a
// contiguous channels-last 4-d input ("rows": M = N*H*W rows of C values). Other layouts go to the
// strided kernels. f32 and f64 share the templates.
//   - Statistics in one pass: sums of d = x - pivot_c and d^2 (pivot_c: the channel's first value,
//     which keeps the E[d^2] - E[d]^2 cancellation small). Short runs (one plane, or a block of
//     kRowBlock rows) accumulate in T with a vectorised loop; the run totals accumulate in double.
//   - Normalising is one fused multiply-add per element: y = x * scale_c + shift_c with
//     scale = weight * invstd and shift = bias - mean * scale (then relu when asked).
//   - Backward in two passes: per-channel sum(g) and sum(g * (x - mean)), then
//     grad_input = g * k_c + x * a_c + b_c (the batch_norm.h formula with the constants folded).
//   - Deterministic: every sum is taken in a fixed order that does not depend on the number of
//     threads (planes: one channel per task; rows: fixed blocks of rows reduced in block order).
// Outputs take the input's layout; a caller's out= tensor in another layout is filled by a copy.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>
#include <utility>
#include <vector>

#include "framework/autograd/grad_mode.h"
#include "ops/batch_norm/batch_norm_channels.h"
#include "ops/common/op_helpers.h"

namespace osprey::ops {
namespace {

constexpr int64_t kRowBlock = 64;         // rows per partial sum in the channels-last layout
constexpr int64_t kParallelWork = 16384;  // elements below which one thread does everything

enum class Layout { planes, rows };

bool is_rows(const Tensor& x) {
  return x.dim() == 4 && !x.is_contiguous() && x.is_contiguous(MemoryFormat::channels_last);
}

MemoryFormat format_of(Layout l) {
  return l == Layout::rows ? MemoryFormat::channels_last : MemoryFormat::contiguous;
}

bool fast_layout(const Tensor& x) {
  return x.dim() >= 2 && (x.is_contiguous() || is_rows(x));
}

// A per-channel tensor (optional) as a dense vector in double.
template <typename T>
std::vector<double> channel_values(const Tensor& t, int64_t channels, double absent) {
  std::vector<double> v(static_cast<size_t>(channels));
  for (int64_t c = 0; c < channels; ++c) v[c] = channel_value<T>(t, c, absent);
  return v;
}

// The tensor a kernel writes: `given` when it has the layout, else a scratch of that layout.
Tensor writable(const Tensor& given, Layout l) {
  const MemoryFormat f = format_of(l);
  return given.is_contiguous(f) ? given
                                : Tensor::empty(given.shape(), given.dtype(), given.device(), f);
}

struct Geometry {
  int64_t n = 0, channels = 0, spatial = 1;
  int64_t per_channel() const { return n * spatial; }
  int64_t numel() const { return n * channels * spatial; }
};

Geometry geometry_of(const Tensor& x) {
  Geometry g;
  g.n = x.size(0);
  g.channels = x.size(1);
  for (int64_t d = 2; d < x.dim(); ++d) g.spatial *= x.size(d);
  return g;
}

// 16 bytes of T as one GCC vector (an SSE register on the baseline target). The statistics loops
// are written on it explicitly: GCC's vectoriser left their float reductions scalar (an `omp simd`
// reduction included), a latency chain that made the statistics pass 2.7x slower than the affine
// pass.
template <typename T>
struct LanesOf;
template <>
struct LanesOf<float> {
  typedef float type __attribute__((vector_size(16)));
};
template <>
struct LanesOf<double> {
  typedef double type __attribute__((vector_size(16)));
};
template <typename T>
using Lanes = typename LanesOf<T>::type;

// *p as V: one T, or the Lanes starting at p.
template <typename V, typename T>
V load(const T* p) {
  if constexpr (std::is_same_v<V, T>) {
    return *p;
  } else {
    V v;
    std::memcpy(&v, p, sizeof v);
    return v;
  }
}

// The two sums of `terms` over the contiguous run [base, base + length), in T: lane-wise in two
// interleaved Lanes accumulators (two independent add chains), then the lanes and the tail in
// order. terms(i, k) returns the pair of terms of the elements from i on, with k and the result
// both T or both Lanes<T>.
template <typename T, typename Terms>
[[gnu::always_inline]] inline void run_sums(int64_t base, int64_t length, T k, const Terms& terms,
                                            T& sum, T& squares) {
  using V = Lanes<T>;
  constexpr int64_t kWidth = sizeof(V) / sizeof(T);
  V s = {}, q = {}, s_odd = {}, q_odd = {};
  const V kv = V{} + k;
  int64_t i = 0;
  for (; i + 2 * kWidth <= length; i += 2 * kWidth) {
    const auto [a, b] = terms(base + i, kv);
    const auto [a_odd, b_odd] = terms(base + i + kWidth, kv);
    s += a;
    q += b;
    s_odd += a_odd;
    q_odd += b_odd;
  }
  s += s_odd;
  q += q_odd;
  T total_s = 0, total_q = 0;
  for (int64_t lane = 0; lane < kWidth; ++lane) {
    total_s += s[lane];
    total_q += q[lane];
  }
  for (; i < length; ++i) {
    const auto [a, b] = terms(base + i, k);
    total_s += a;
    total_q += b;
  }
  sum = total_s;
  squares = total_q;
}

// Two sums per channel, in double: `terms(i, centre_c)` is the pair of element i's terms (i: flat
// index into the layout, centre_c: the channel's constant; see run_sums).
template <typename T, typename Terms>
void channel_sums(const Geometry& g, Layout l, const std::vector<T>& centre, Terms terms,
                  std::vector<double>& first, std::vector<double>& second) {
  const int64_t C = g.channels;
  first.assign(C, 0.0);
  second.assign(C, 0.0);
  if (g.per_channel() == 0) return;
  const bool parallel = g.numel() >= kParallelWork;
  if (l == Layout::planes) {
#pragma omp parallel for schedule(static) if (parallel && C > 1)
    for (int64_t c = 0; c < C; ++c) {
      const T k = centre[c];
      double s = 0, q = 0;
      for (int64_t n = 0; n < g.n; ++n) {
        const int64_t base = (n * C + c) * g.spatial;
        T ps = 0, pq = 0;
        run_sums(base, g.spatial, k, terms, ps, pq);
        s += static_cast<double>(ps);
        q += static_cast<double>(pq);
      }
      first[c] = s;
      second[c] = q;
    }
    return;
  }
  // rows: blocks of kRowBlock rows give partial vectors, added in block order.
  const int64_t rows = g.per_channel();
  const int64_t blocks = (rows + kRowBlock - 1) / kRowBlock;
  std::vector<double> partial(static_cast<size_t>(blocks * 2 * C));
#pragma omp parallel if (parallel)
  {
    std::vector<T> ps(C), pq(C);
#pragma omp for schedule(static)
    for (int64_t b = 0; b < blocks; ++b) {
      std::fill(ps.begin(), ps.end(), T(0));
      std::fill(pq.begin(), pq.end(), T(0));
      const int64_t end = std::min(rows, (b + 1) * kRowBlock);
      for (int64_t r = b * kRowBlock; r < end; ++r) {
        T* s = ps.data();
        T* q = pq.data();
        const T* k = centre.data();
#pragma omp simd
        for (int64_t c = 0; c < C; ++c) {
          const auto [a, b] = terms(r * C + c, k[c]);
          s[c] += a;
          q[c] += b;
        }
      }
      double* out = partial.data() + b * 2 * C;
      for (int64_t c = 0; c < C; ++c) {
        out[c] = static_cast<double>(ps[c]);
        out[C + c] = static_cast<double>(pq[c]);
      }
    }
  }
  for (int64_t b = 0; b < blocks; ++b) {
    const double* in = partial.data() + b * 2 * C;
    for (int64_t c = 0; c < C; ++c) {
      first[c] += in[c];
      second[c] += in[C + c];
    }
  }
}

// Sums of (x - pivot) and (x - pivot)^2 per channel, in double.
template <typename T>
void shifted_sums(const T* x, const Geometry& g, Layout l, std::vector<double>& pivot,
                  std::vector<double>& sum, std::vector<double>& squares) {
  const int64_t C = g.channels;
  pivot.assign(C, 0.0);
  if (g.per_channel() > 0) {
    const int64_t step = l == Layout::planes ? g.spatial : 1;
    for (int64_t c = 0; c < C; ++c) pivot[c] = static_cast<double>(x[c * step]);
  }
  std::vector<T> kp(C);
  for (int64_t c = 0; c < C; ++c) kp[c] = static_cast<T>(pivot[c]);
  channel_sums(
      g, l, kp,
      [x](int64_t i, auto k) {
        using V = decltype(k);
        const V d = load<V>(x + i) - k;
        return std::pair{d, d * d};
      },
      sum, squares);
}

// out = x * scale_c + shift_c (relu'd when asked), every element.
template <typename T>
void affine(const T* x, T* out, const Geometry& g, Layout l, const std::vector<T>& scale,
            const std::vector<T>& shift, bool relu) {
  const int64_t C = g.channels;
  const bool parallel = g.numel() >= kParallelWork;
  if (l == Layout::planes) {
#pragma omp parallel for schedule(static) if (parallel)
    for (int64_t plane = 0; plane < g.n * C; ++plane) {
      const T a = scale[plane % C], b = shift[plane % C];
      const T* p = x + plane * g.spatial;
      T* o = out + plane * g.spatial;
      if (relu) {
#pragma omp simd
        for (int64_t i = 0; i < g.spatial; ++i) o[i] = std::max(p[i] * a + b, T(0));
      } else {
#pragma omp simd
        for (int64_t i = 0; i < g.spatial; ++i) o[i] = p[i] * a + b;
      }
    }
    return;
  }
  const T* a = scale.data();
  const T* b = shift.data();
#pragma omp parallel for schedule(static) if (parallel)
  for (int64_t r = 0; r < g.per_channel(); ++r) {
    const T* p = x + r * C;
    T* o = out + r * C;
    if (relu) {
#pragma omp simd
      for (int64_t c = 0; c < C; ++c) o[c] = std::max(p[c] * a[c] + b[c], T(0));
    } else {
#pragma omp simd
      for (int64_t c = 0; c < C; ++c) o[c] = p[c] * a[c] + b[c];
    }
  }
}

template <typename T>
void forward(KernelContext& ctx) {
  autograd::NoGradGuard no_grad;  // a layout copy made here is not part of the graph
  const Tensor& x = ctx.input(0);
  const Tensor& running_mean = ctx.input(3);
  const Tensor& running_var = ctx.input(4);
  const bool training = ctx.attrs().get_bool("training");
  const bool relu = ctx.attrs().get_bool("relu");
  const double momentum = ctx.attrs().get_float("momentum");
  const double eps = ctx.attrs().get_float("eps");
  const Layout l = is_rows(x) ? Layout::rows : Layout::planes;
  const Geometry g = geometry_of(x);
  const int64_t C = g.channels, m = g.per_channel();
  Tensor& out = ctx.output(0, x.shape(), x.dtype(), format_of(l));
  const Tensor& save_mean = ctx.output(1, {C}, x.dtype());
  const Tensor& save_invstd = ctx.output(2, {C}, x.dtype());

  std::vector<double> mean(C, 0.0), invstd(C, 0.0);
  if (training && m > 0) {
    std::vector<double> pivot, sum, squares;
    shifted_sums(x.data<T>(), g, l, pivot, sum, squares);
    const double md = static_cast<double>(m);
    for (int64_t c = 0; c < C; ++c) {
      const double shift = sum[c] / md;
      const double centred = std::max(squares[c] - sum[c] * shift, 0.0);  // sum((x - mean)^2)
      mean[c] = pivot[c] + shift;
      invstd[c] = 1.0 / std::sqrt(centred / md + eps);
      if (running_mean.defined()) {
        update_running_stats<T>(running_mean, running_var, c, momentum, mean[c],
                                centred / static_cast<double>(m - 1));
      }
    }
    if (running_mean.defined()) {
      running_mean.bump_version();
      running_var.bump_version();
    }
  } else if (!training) {
    mean = channel_values<T>(running_mean, C, 0);
    const auto var = channel_values<T>(running_var, C, 1);
    for (int64_t c = 0; c < C; ++c) invstd[c] = 1.0 / std::sqrt(var[c] + eps);
  }
  const auto weight = channel_values<T>(ctx.input(1), C, 1);
  const auto bias = channel_values<T>(ctx.input(2), C, 0);
  std::vector<T> scale(C), shift(C);
  for (int64_t c = 0; c < C; ++c) {
    set_channel<T>(save_mean, c, mean[c]);
    set_channel<T>(save_invstd, c, invstd[c]);
    const double s = weight[c] * invstd[c];
    scale[c] = static_cast<T>(s);
    shift[c] = static_cast<T>(bias[c] - mean[c] * s);
  }
  Tensor target = writable(out, l);
  affine<T>(x.data<T>(), target.data<T>(), g, l, scale, shift, relu);
  if (!target.is_same(out)) out.copy_(target);
}

// Per channel: sum(g) and sum(g * (x - mean)), in double.
template <typename T>
void gradient_sums(const T* gp, const T* x, const Geometry& g, Layout l,
                   const std::vector<double>& mean, std::vector<double>& sum_g,
                   std::vector<double>& sum_gx) {
  std::vector<T> mu(g.channels);
  for (int64_t c = 0; c < g.channels; ++c) mu[c] = static_cast<T>(mean[c]);
  channel_sums(
      g, l, mu,
      [gp, x](int64_t i, auto k) {
        using V = decltype(k);
        const V g = load<V>(gp + i);
        return std::pair{g, g * (load<V>(x + i) - k)};
      },
      sum_g, sum_gx);
}

// grad_input = g * k_c + x * a_c + b_c.
template <typename T>
void gradient_apply(const T* gp, const T* x, T* out, const Geometry& g, Layout l,
                    const std::vector<T>& k, const std::vector<T>& a, const std::vector<T>& b) {
  const int64_t C = g.channels;
  const bool parallel = g.numel() >= kParallelWork;
  if (l == Layout::planes) {
#pragma omp parallel for schedule(static) if (parallel)
    for (int64_t plane = 0; plane < g.n * C; ++plane) {
      const int64_t c = plane % C;
      const T kc = k[c], ac = a[c], bc = b[c];
      const T* gv = gp + plane * g.spatial;
      const T* xv = x + plane * g.spatial;
      T* o = out + plane * g.spatial;
#pragma omp simd
      for (int64_t i = 0; i < g.spatial; ++i) o[i] = gv[i] * kc + xv[i] * ac + bc;
    }
    return;
  }
#pragma omp parallel for schedule(static) if (parallel)
  for (int64_t r = 0; r < g.per_channel(); ++r) {
    const T* gv = gp + r * C;
    const T* xv = x + r * C;
    T* o = out + r * C;
#pragma omp simd
    for (int64_t c = 0; c < C; ++c) o[c] = gv[c] * k[c] + xv[c] * a[c] + b[c];
  }
}

template <typename T>
void backward(KernelContext& ctx) {
  autograd::NoGradGuard no_grad;  // layout copies made here are not part of the graph
  const Tensor& x = ctx.input(1);
  const bool training = ctx.attrs().get_bool("training");
  const Layout l = is_rows(x) ? Layout::rows : Layout::planes;
  const MemoryFormat f = format_of(l);
  const Tensor grad = ctx.input(0).is_contiguous(f) ? ctx.input(0) : ctx.input(0).contiguous(f);
  const Geometry g = geometry_of(x);
  const int64_t C = g.channels, m = g.per_channel();
  Tensor& grad_input = ctx.output(0, x.shape(), x.dtype(), f);
  const Tensor& grad_weight = ctx.output(1, {C}, x.dtype());
  const Tensor& grad_bias = ctx.output(2, {C}, x.dtype());
  const auto mean = channel_values<T>(ctx.input(3), C, 0);
  const auto invstd = channel_values<T>(ctx.input(4), C, 0);
  const auto weight = channel_values<T>(ctx.input(2), C, 1);
  std::vector<double> sum_g, sum_gx;
  gradient_sums(grad.data<T>(), x.data<T>(), g, l, mean, sum_g, sum_gx);
  std::vector<T> k(C), a(C), b(C);
  for (int64_t c = 0; c < C; ++c) {
    const double is = invstd[c];
    const double dot = sum_gx[c] * is;  // sum(g * xhat)
    set_channel<T>(grad_bias, c, sum_g[c]);
    set_channel<T>(grad_weight, c, dot);
    const double kc = weight[c] * is;
    // w*is*(g - sum_g/m - (x - mean)*is*dot/m), expanded into g*k + x*a + b.
    const double mean_g = m > 0 ? sum_g[c] / static_cast<double>(m) : 0;
    const double slope = m > 0 ? is * dot / static_cast<double>(m) : 0;
    k[c] = static_cast<T>(kc);
    a[c] = static_cast<T>(training ? -kc * slope : 0.0);
    b[c] = static_cast<T>(training ? kc * (mean[c] * slope - mean_g) : 0.0);
  }
  Tensor target = writable(grad_input, l);
  gradient_apply<T>(grad.data<T>(), x.data<T>(), target.data<T>(), g, l, k, a, b);
  if (!target.is_same(grad_input)) grad_input.copy_(target);
}

bool forward_supported(const KernelContext& ctx) {
  return inputs_are_float(ctx) && fast_layout(ctx.input(0));
}

bool backward_supported(const KernelContext& ctx) {
  return inputs_are_float(ctx) && fast_layout(ctx.input(1));
}

const bool registered = [] {
  register_kernel(
      "batch_norm", DeviceType::cpu, "fast", 20,
      [](KernelContext& ctx) {
        OSPREY_DISPATCH_FLOAT(ctx.input(0).dtype(), "batch_norm",
                              [&]<typename T>() { forward<T>(ctx); });
      },
      forward_supported,
      "contiguous or channels-last: one-pass shifted sums, then a vectorised x*scale+shift");
  register_kernel(
      "batch_norm_backward", DeviceType::cpu, "fast", 20,
      [](KernelContext& ctx) {
        OSPREY_DISPATCH_FLOAT(ctx.input(0).dtype(), "batch_norm_backward",
                              [&]<typename T>() { backward<T>(ctx); });
      },
      backward_supported,
      "contiguous or channels-last: vectorised per-channel sums, then g*k + x*a + b");
  return true;
}();

}  // namespace
}  // namespace osprey::ops
