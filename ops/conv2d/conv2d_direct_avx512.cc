// cpu/direct_avx512 kernels of conv2d and its two gradients (f32, groups 1, no dilation, column
// stride 1 or 2): direct convolutions with the output tile held in AVX-512 registers, no im2col
// and no GEMM packing. Calls outside that (f64, groups, dilation, 1×1 kernels, a few channels,
// no AVX-512) run cpu/batched_gemm, so the kernel covers every float call.
//
// conv2d: a tile is OB vectors of 16 output channels × PB output pixels (OB·PB ≤ 28
// accumulators); for every input channel and kernel tap it loads OB weight vectors and
// broadcasts PB input values, OB·PB fused multiply-adds. The PB pixels are consecutive pixels of
// an output row, or, for rows narrower than 9 (7×7 and smaller stages), PB images at the
// same pixel. The input is first copied, zero padded, into a per-thread buffer, so the inner loop
// has no bounds checks; weights are packed once per call as [block][c][p][q][OB·16] (zeros past
// the last output channel). Images run in parallel (OpenMP); with fewer images than threads, the
// rows of each image do.
//
// conv2d_backward_input with stride 1 is the same convolution of the gradient with the weight
// flipped in space and transposed in channels, padded by k − 1 − p:
//   dx[n,c,h,v] = Σ_{o,p,q} g[n,o,h+pH−p,v+pW−q] w[o,c,p,q]
//               = Σ_{o,p',q'} gpad[n,o,h+p',v+q'] w[o,c,kH−1−p',kW−1−q'].
// (Stride 2 goes to cpu/batched_gemm.) conv2d_backward_weight: see backward_weight below.
#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <array>
#include <utility>
#include <vector>

#include "ops/common/op_helpers.h"
#include "ops/conv2d/conv2d_geometry.h"

namespace osprey::ops {
namespace {

constexpr int kLanes = 16;    // floats per AVX-512 register
constexpr int kMaxTile = 28;  // most pixels per tile

// One convolution as the tile loop sees it: a padded image and packed weights of one block.
// Offsets are in floats: the input of output pixel (i, j), channel c, tap (p, q), tile pixel k is
// at xp + i·row_step + j·col_step + c·plane + p·row + q·q_step + k·SW, its output at
// y + i·ysh + j·ysw + k·y_k. Row mode: the tile's pixels are along an output row. Batch mode: they
// are images at the same pixel, stored innermost ((c, h, w, image) order).
struct TileArgs {
  const float* xp;
  int64_t Cin, plane, row, kH, kW, row_step, col_step, q_step;
  const float* wt;  // packed weights of this block, [c][p][q][OB·16]
  float* y;         // output at (first image, first channel of the block)
  int64_t ysc, ysh, ysw, y_k;
  int64_t channels;   // valid output channels in this block (≤ OB·16)
  const float* bias;  // at the block's first channel, or null
  int64_t bias_stride;
};

// Pixels per tile for OB channel vectors: the accumulators plus OB weights and one broadcast
// must fit the 32 vector registers.
constexpr int max_pixels(int ob) {
  return std::min(kMaxTile, (31 - ob) / ob);
}

// Computes output pixels j .. j+PB−1 of row i for the block's OB·16 channels; SW: column stride.
// No predictive commoning: GCC would otherwise carry the broadcast values of one tap over to the
// next (they overlap when SW = 1) through stack spills, halving the speed.
template <int OB, int PB, int SW>
__attribute__((target("avx512f"), optimize("no-predictive-commoning"))) void tile(const TileArgs& a,
                                                                                  int64_t i,
                                                                                  int64_t j) {
  __m512 acc[OB][PB];
#pragma GCC unroll 4
  for (int o = 0; o < OB; ++o)
#pragma GCC unroll 28
    for (int k = 0; k < PB; ++k) acc[o][k] = _mm512_setzero_ps();
  const float* w = a.wt;
  const float* x0 = a.xp + i * a.row_step + j * a.col_step;
  for (int64_t c = 0; c < a.Cin; ++c) {
    for (int64_t p = 0; p < a.kH; ++p) {
      const float* xr = x0 + c * a.plane + p * a.row;
      for (int64_t q = 0; q < a.kW; ++q, w += OB * kLanes, xr += a.q_step) {
        __m512 wv[OB];
#pragma GCC unroll 4
        for (int o = 0; o < OB; ++o) wv[o] = _mm512_loadu_ps(w + o * kLanes);
#pragma GCC unroll 28
        for (int k = 0; k < PB; ++k) {
          const __m512 b = _mm512_set1_ps(xr[k * SW]);
#pragma GCC unroll 4
          for (int o = 0; o < OB; ++o) acc[o][k] = _mm512_fmadd_ps(wv[o], b, acc[o][k]);
        }
      }
    }
  }
  // Registers hold pixel-major vectors of channels; the output wants channel planes.
  alignas(64) float buf[PB][OB * kLanes];
#pragma GCC unroll 28
  for (int k = 0; k < PB; ++k)
#pragma GCC unroll 4
    for (int o = 0; o < OB; ++o) _mm512_store_ps(&buf[k][o * kLanes], acc[o][k]);
  for (int64_t oc = 0; oc < a.channels; ++oc) {
    const float add = a.bias ? a.bias[oc * a.bias_stride] : 0.0f;
    float* yr = a.y + oc * a.ysc + i * a.ysh + j * a.ysw;
    for (int k = 0; k < PB; ++k) yr[k * a.y_k] = buf[k][oc] + add;
  }
}

using TileFn = void (*)(const TileArgs&, int64_t, int64_t);

template <int OB, int SW, int... P>
constexpr std::array<TileFn, sizeof...(P)> tile_row(std::integer_sequence<int, P...>) {
  return {&tile<OB, P + 1, SW>...};
}
template <int OB, int SW>
constexpr auto tiles_for = tile_row<OB, SW>(std::make_integer_sequence<int, max_pixels(OB)>{});

// The tile function for OB register rows of channels, PB pixels (1 ≤ PB ≤ max_pixels(OB)),
// column stride SW.
TileFn pick_tile(int ob, int pb, int sw) {
  if (sw == 1) {
    switch (ob) {
      case 1:
        return tiles_for<1, 1>[pb - 1];
      case 2:
        return tiles_for<2, 1>[pb - 1];
      case 3:
        return tiles_for<3, 1>[pb - 1];
      default:
        return tiles_for<4, 1>[pb - 1];
    }
  }
  switch (ob) {
    case 1:
      return tiles_for<1, 2>[pb - 1];
    case 2:
      return tiles_for<2, 2>[pb - 1];
    case 3:
      return tiles_for<3, 2>[pb - 1];
    default:
      return tiles_for<4, 2>[pb - 1];
  }
}

// A direct convolution y = conv(x, w) + bias, unit dilation, one group: x N×Cin×H×W read through
// its strides, w Cout×Cin×kH×kW contiguous (logical layout), y N×Cout×Ho×Wo written through its
// strides. The convolution reads a Hp×Wp window of x whose (0, 0) is x's (row0, col0), zeros
// outside x: row0 = −padding for a plain convolution.
struct DirectConv {
  int64_t N, Cin, H, W, Cout, kH, kW, row0, col0, Hp, Wp, sH, sW, Ho, Wo;
  const float* x;
  int64_t xsn, xsc, xsh, xsw;
  float* y;
  int64_t ysn, ysc, ysh, ysw;
  const float* bias = nullptr;
  int64_t bias_stride = 0;
};

// Copies the window of image n of x into xp (Cin × Hp × Wp).
void pad_image(const DirectConv& d, int64_t n, float* xp) {
  const int64_t vlo = std::clamp<int64_t>(-d.col0, 0, d.Wp);
  const int64_t vhi = std::clamp<int64_t>(d.W - d.col0, vlo, d.Wp);
  for (int64_t c = 0; c < d.Cin; ++c)
    for (int64_t u = 0; u < d.Hp; ++u) {
      float* row = xp + (c * d.Hp + u) * d.Wp;
      const int64_t h = u + d.row0;
      if (h < 0 || h >= d.H) {
        std::fill(row, row + d.Wp, 0.0f);
        continue;
      }
      const float* src = d.x + n * d.xsn + c * d.xsc + h * d.xsh + d.col0 * d.xsw;
      std::fill(row, row + vlo, 0.0f);
      for (int64_t v = vlo; v < vhi; ++v) row[v] = src[v * d.xsw];
      std::fill(row + vhi, row + d.Wp, 0.0f);
    }
}

// Copies the windows of images n0 .. n0+count−1 of x into xb in (c, h, w, image) order.
void pad_images(const DirectConv& d, int64_t n0, int64_t count, float* xb) {
  const int64_t vlo = std::clamp<int64_t>(-d.col0, 0, d.Wp);
  const int64_t vhi = std::clamp<int64_t>(d.W - d.col0, vlo, d.Wp);
  std::fill(xb, xb + d.Cin * d.Hp * d.Wp * count, 0.0f);
  for (int64_t k = 0; k < count; ++k)
    for (int64_t c = 0; c < d.Cin; ++c)
      for (int64_t u = 0; u < d.Hp; ++u) {
        const int64_t h = u + d.row0;
        if (h < 0 || h >= d.H) continue;
        const float* src = d.x + (n0 + k) * d.xsn + c * d.xsc + h * d.xsh + d.col0 * d.xsw;
        float* dst = xb + (c * d.Hp + u) * d.Wp * count + k;
        for (int64_t v = vlo; v < vhi; ++v) dst[v * count] = src[v * d.xsw];
      }
}

// Rows narrower than this put images, not pixels of a row, in a tile's registers: a row of 7 or 8
// would split into tiles of 4 + 3 or 4 + 4 pixels, too few accumulators for 4 channel vectors.
constexpr int64_t kBatchBelowWidth = 9;

void run_direct(const DirectConv& d, const float* w) {
  const int64_t vectors = (d.Cout + kLanes - 1) / kLanes;
  // Widest channel block first: fewer broadcasts per multiply-add; pixels fill the rest.
  const int64_t ob = std::min<int64_t>(4, vectors);
  // Tiles of a row: as few as the registers allow, of near-equal widths (7 = 4 + 3, not 6 + 1).
  const int64_t tiles_per_row = (d.Wo + max_pixels(int(ob)) - 1) / max_pixels(int(ob));
  std::vector<std::pair<int64_t, int64_t>> row_tiles;  // (first pixel, pixels)
  for (int64_t t = 0, j = 0; t < tiles_per_row; ++t) {
    const int64_t width = d.Wo / tiles_per_row + (t < d.Wo % tiles_per_row ? 1 : 0);
    row_tiles.push_back({j, width});
    j += width;
  }
  struct Block {
    int64_t first_vector, ob;
  };
  std::vector<Block> blocks;
  for (int64_t v = 0; v < vectors; v += ob) blocks.push_back({v, std::min(ob, vectors - v)});
  // Packed weights: block b at offset first_vector·16·Cin·kH·kW.
  const int64_t taps = d.Cin * d.kH * d.kW;
  std::vector<float> wt(size_t(vectors * kLanes * taps), 0.0f);
  // Eight lanes at a time, tap by tap: the eight weight rows being read stay in L1 over the 16
  // taps of a cache line (rows taps floats apart fall in the same few cache sets, so all lanes
  // at once would thrash), and the writes run in half lines; lane by lane wrote one line per value.
  for (const Block& b : blocks) {
    float* dst = wt.data() + b.first_vector * kLanes * taps;
    const float* src = w + b.first_vector * kLanes * taps;
    const int64_t width = b.ob * kLanes;
    const int64_t lanes = std::min(width, d.Cout - b.first_vector * kLanes);
    for (int64_t l0 = 0; l0 < lanes; l0 += 8) {
      const int64_t l1 = std::min(lanes, l0 + 8);
      for (int64_t t = 0; t < taps; ++t)
        for (int64_t l = l0; l < l1; ++l) dst[t * width + l] = src[l * taps + t];
    }
  }
  const int64_t Hp = d.Hp, Wp = d.Wp;

  // Rows [r0, r1) of the block-row space (block-major) of image n, from its padded copy xp.
  auto rows = [&](int64_t n, const float* xp, int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const Block& b = blocks[size_t(r / d.Ho)];
      const int64_t i = r % d.Ho;
      const int64_t o0 = b.first_vector * kLanes;
      const TileArgs a{xp,
                       d.Cin,
                       Hp * Wp,
                       Wp,
                       d.kH,
                       d.kW,
                       d.sH * Wp,
                       d.sW,
                       1,
                       wt.data() + o0 * taps,
                       d.y + n * d.ysn + o0 * d.ysc,
                       d.ysc,
                       d.ysh,
                       d.ysw,
                       d.ysw,
                       std::min(b.ob * kLanes, d.Cout - o0),
                       d.bias ? d.bias + o0 * d.bias_stride : nullptr,
                       d.bias_stride};
      for (const auto& [j, width] : row_tiles) pick_tile(int(b.ob), int(width), int(d.sW))(a, i, j);
    }
  };
  const int64_t row_count = int64_t(blocks.size()) * d.Ho;
  const int threads = omp_in_parallel() ? 1 : omp_get_max_threads();
  if (d.Wo < kBatchBelowWidth) {
    // Batch mode: a tile is up to max_pixels(ob) images at one output pixel.
    const int64_t per_tile = max_pixels(int(ob));
    const int64_t groups = (d.N + per_tile - 1) / per_tile;
#pragma omp parallel num_threads(threads)
    {
      std::vector<float> xb(size_t(d.Cin * Hp * Wp * per_tile));
#pragma omp for schedule(static)
      for (int64_t group = 0; group < groups; ++group) {
        const int64_t n0 = group * per_tile, count = std::min(per_tile, d.N - n0);
        pad_images(d, n0, count, xb.data());
        for (const Block& b : blocks) {
          const int64_t o0 = b.first_vector * kLanes;
          const TileArgs a{xb.data(),
                           d.Cin,
                           Hp * Wp * count,
                           Wp * count,
                           d.kH,
                           d.kW,
                           d.sH * Wp * count,
                           d.sW * count,
                           count,
                           wt.data() + o0 * taps,
                           d.y + n0 * d.ysn + o0 * d.ysc,
                           d.ysc,
                           d.ysh,
                           d.ysw,
                           d.ysn,
                           std::min(b.ob * kLanes, d.Cout - o0),
                           d.bias ? d.bias + o0 * d.bias_stride : nullptr,
                           d.bias_stride};
          const TileFn fn = pick_tile(int(b.ob), int(count), 1);
          for (int64_t i = 0; i < d.Ho; ++i)
            for (int64_t j = 0; j < d.Wo; ++j) fn(a, i, j);
        }
      }
    }
    return;
  }
  if (d.N >= threads) {
#pragma omp parallel num_threads(threads)
    {
      std::vector<float> xp(size_t(d.Cin * Hp * Wp));
#pragma omp for schedule(static)
      for (int64_t n = 0; n < d.N; ++n) {
        pad_image(d, n, xp.data());
        rows(n, xp.data(), 0, row_count);
      }
    }
    return;
  }
  std::vector<float> xp(size_t(d.Cin * Hp * Wp));
  for (int64_t n = 0; n < d.N; ++n) {
    pad_image(d, n, xp.data());
#pragma omp parallel for schedule(static) num_threads(threads)
    for (int64_t r = 0; r < row_count; ++r) rows(n, xp.data(), r, r + 1);
  }
}

bool cpu_has_avx512() {
  static const bool has = __builtin_cpu_supports("avx512f");
  return has;
}

// Whether the direct kernel takes this geometry: f32, one group, unit dilation, column stride
// 1 or 2.
bool supports_geometry(const KernelContext& ctx, const char* op) {
  if (!cpu_has_avx512()) return false;
  for (int i = 0; i < ctx.num_inputs(); ++i)
    if (ctx.input(i).defined() && ctx.input(i).dtype() != DType::f32) return false;
  const ConvGeometry geo = ConvGeometry::from_attrs(ctx.attrs(), op);
  return geo.groups == 1 && geo.dilation[0] == 1 && geo.dilation[1] == 1 &&
         (geo.stride[1] == 1 || geo.stride[1] == 2);
}

void forward(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor w = ctx.input(1).contiguous();
  const Tensor bias = ctx.num_inputs() > 2 ? ctx.input(2) : Tensor{};
  const ConvGeometry geo = ConvGeometry::from_attrs(ctx.attrs(), "conv2d");
  DirectConv d{};
  d.N = x.size(0), d.Cin = x.size(1), d.H = x.size(2), d.W = x.size(3);
  d.Cout = w.size(0), d.kH = w.size(2), d.kW = w.size(3);
  d.row0 = -geo.padding[0], d.col0 = -geo.padding[1];
  d.Hp = d.H + 2 * geo.padding[0], d.Wp = d.W + 2 * geo.padding[1];
  d.sH = geo.stride[0], d.sW = geo.stride[1];
  d.Ho = geo.output_size(0, d.H, d.kH), d.Wo = geo.output_size(1, d.W, d.kW);
  const bool nhwc = x.is_contiguous(MemoryFormat::channels_last) && !x.is_contiguous();
  Tensor& out = ctx.output(0, {d.N, d.Cout, d.Ho, d.Wo}, x.dtype(),
                           nhwc ? MemoryFormat::channels_last : MemoryFormat::contiguous);
  if (out.numel() == 0) return;
  d.x = x.data<float>(), d.xsn = x.stride(0), d.xsc = x.stride(1), d.xsh = x.stride(2),
  d.xsw = x.stride(3);
  d.y = out.data<float>(), d.ysn = out.stride(0), d.ysc = out.stride(1), d.ysh = out.stride(2),
  d.ysw = out.stride(3);
  if (bias.defined()) d.bias = bias.data<float>(), d.bias_stride = bias.stride(0);
  run_direct(d, w.data<float>());
}

// The output pixels h ≡ a (mod s) of one dimension of the input gradient (a phase) are reached by
// the taps p ≡ (a + pad) (mod s) only, each from gradient row (h + pad − p) / s: a stride-1
// correlation of the gradient with those taps in reverse order.
struct Phase {
  int64_t outputs;  // output pixels a, a + s, ... inside the input
  int64_t taps;     // taps p = first_tap, first_tap + s, ...
  int64_t first_tap;
  int64_t offset;  // gradient index read by output pixel 0 and reversed tap 0
};

Phase phase_of(int64_t a, int64_t s, int64_t k, int64_t pad, int64_t size) {
  Phase ph{};
  ph.outputs = a < size ? (size - a + s - 1) / s : 0;
  ph.first_tap = (a + pad) % s;
  ph.taps = ph.first_tap < k ? (k - ph.first_tap + s - 1) / s : 0;
  ph.offset = (a + pad - ph.first_tap) / s - ph.taps + 1;
  return ph;
}

// dx as one stride-1 direct convolution per phase (one phase for stride 1: the gradient padded
// by k − 1 − pad, convolved with the flipped, channel-transposed weight).
void backward_input(KernelContext& ctx) {
  const Tensor& g = ctx.input(0);
  const Tensor w = ctx.input(1).contiguous();
  const ConvGeometry geo = ConvGeometry::from_attrs(ctx.attrs(), "conv2d_backward_input");
  const Shape input_size = ctx.attrs().get_ints("input_size");
  const bool nhwc = g.is_contiguous(MemoryFormat::channels_last) && !g.is_contiguous();
  Tensor& out = ctx.output(0, input_size, g.dtype(),
                           nhwc ? MemoryFormat::channels_last : MemoryFormat::contiguous);
  if (out.numel() == 0) return;
  const int64_t O = w.size(0), C = w.size(1), kH = w.size(2), kW = w.size(3);
  const int64_t sH = geo.stride[0], sW = geo.stride[1];
  bool empty_phase = O == 0;
  for (int64_t a = 0; a < sH; ++a)
    for (int64_t b = 0; b < sW; ++b) {
      const Phase ph = phase_of(a, sH, kH, geo.padding[0], input_size[2]);
      const Phase pw = phase_of(b, sW, kW, geo.padding[1], input_size[3]);
      if (ph.outputs > 0 && pw.outputs > 0 && (ph.taps == 0 || pw.taps == 0)) empty_phase = true;
    }
  if (empty_phase) out.zero_();
  if (O == 0) return;
  const float* wd = w.data<float>();
  for (int64_t a = 0; a < sH; ++a)
    for (int64_t b = 0; b < sW; ++b) {
      const Phase ph = phase_of(a, sH, kH, geo.padding[0], input_size[2]);
      const Phase pw = phase_of(b, sW, kW, geo.padding[1], input_size[3]);
      if (ph.outputs == 0 || pw.outputs == 0 || ph.taps == 0 || pw.taps == 0) continue;
      // wf[c][o][t][u] = w[o][c][first + s (taps − 1 − t)] in both dims. Eight output channels at
      // a time over all c: the eight weight rows being read (C·kH·kW floats apart, the same few
      // L1 sets) stay cached; all O at once missed L1 on every read of a 512-channel layer.
      std::vector<float> wf(size_t(C * O * ph.taps * pw.taps));
      for (int64_t o0 = 0; o0 < O; o0 += 8)
        for (int64_t c = 0; c < C; ++c)
          for (int64_t o = o0; o < std::min(O, o0 + 8); ++o)
            for (int64_t t = 0; t < ph.taps; ++t)
              for (int64_t u = 0; u < pw.taps; ++u) {
                const int64_t p = ph.first_tap + sH * (ph.taps - 1 - t);
                const int64_t q = pw.first_tap + sW * (pw.taps - 1 - u);
                wf[size_t(((c * O + o) * ph.taps + t) * pw.taps + u)] =
                    wd[((o * C + c) * kH + p) * kW + q];
              }
      DirectConv d{};
      d.N = g.size(0), d.Cin = O, d.H = g.size(2), d.W = g.size(3);
      d.Cout = C, d.kH = ph.taps, d.kW = pw.taps;
      d.row0 = ph.offset, d.col0 = pw.offset;
      d.Hp = ph.outputs + ph.taps - 1, d.Wp = pw.outputs + pw.taps - 1;
      d.sH = 1, d.sW = 1, d.Ho = ph.outputs, d.Wo = pw.outputs;
      d.x = g.data<float>(), d.xsn = g.stride(0), d.xsc = g.stride(1), d.xsh = g.stride(2),
      d.xsw = g.stride(3);
      d.y = out.data<float>() + a * out.stride(2) + b * out.stride(3);
      d.ysn = out.stride(0), d.ysc = out.stride(1), d.ysh = sH * out.stride(2),
      d.ysw = sW * out.stride(3);
      run_direct(d, wf.data());
    }
}

// conv2d_backward_weight, dW[o,c,p,q] = Σ_{n,i,j} g[n,o,i,j] xpad[n,c,i sH+p,j sW+q], as
// outer products: per output pixel, OB vectors of 16 output channels of g times T broadcast input
// values of one kernel row p (consecutive (q, c) pairs), summed over the pixels into OB·T
// registers. The image is padded into channels-innermost order (h, w, c), so the T values are
// consecutive, and g is transposed to (pixel, o) with the channels padded to whole vectors. Each
// thread sums its images into a partial dW; the partials are added in
// thread order at the end.
struct WeightTileArgs {
  int64_t images, x_image, g_image;  // images summed over, floats between them in x and g
  int64_t Ho, Wo;
  int64_t row_step, col_step;  // floats between the x values of consecutive output rows, pixels
  int64_t g_step;              // floats per pixel of the transposed g (channels, padded)
  int64_t p_step;              // floats between the partial sums of consecutive T values
};

template <int OB, int T>
__attribute__((target("avx512f"))) void weight_tile(const WeightTileArgs& a, const float* x,
                                                    const float* g, float* partial) {
  __m512 acc[OB][T];
#pragma GCC unroll 4
  for (int o = 0; o < OB; ++o)
#pragma GCC unroll 28
    for (int t = 0; t < T; ++t) acc[o][t] = _mm512_loadu_ps(partial + t * a.p_step + o * kLanes);
  for (int64_t m = 0; m < a.images; ++m)
    for (int64_t i = 0; i < a.Ho; ++i) {
      const float* xr = x + m * a.x_image + i * a.row_step;
      const float* gr = g + m * a.g_image + i * a.Wo * a.g_step;
      for (int64_t j = 0; j < a.Wo; ++j, xr += a.col_step, gr += a.g_step) {
        __m512 gv[OB];
#pragma GCC unroll 4
        for (int o = 0; o < OB; ++o) gv[o] = _mm512_loadu_ps(gr + o * kLanes);
#pragma GCC unroll 28
        for (int t = 0; t < T; ++t) {
          const __m512 b = _mm512_set1_ps(xr[t]);
#pragma GCC unroll 4
          for (int o = 0; o < OB; ++o) acc[o][t] = _mm512_fmadd_ps(gv[o], b, acc[o][t]);
        }
      }
    }
#pragma GCC unroll 4
  for (int o = 0; o < OB; ++o)
#pragma GCC unroll 28
    for (int t = 0; t < T; ++t) _mm512_storeu_ps(partial + t * a.p_step + o * kLanes, acc[o][t]);
}

using WeightTileFn = void (*)(const WeightTileArgs&, const float*, const float*, float*);

template <int OB, int... T>
constexpr std::array<WeightTileFn, sizeof...(T)> weight_tile_row(std::integer_sequence<int, T...>) {
  return {&weight_tile<OB, T + 1>...};
}
template <int OB>
constexpr auto weight_tiles_for =
    weight_tile_row<OB>(std::make_integer_sequence<int, max_pixels(OB)>{});

WeightTileFn pick_weight_tile(int ob, int t) {
  switch (ob) {
    case 1:
      return weight_tiles_for<1>[t - 1];
    case 2:
      return weight_tiles_for<2>[t - 1];
    case 3:
      return weight_tiles_for<3>[t - 1];
    default:
      return weight_tiles_for<4>[t - 1];
  }
}

// Splits n into as few near-equal parts of at most `most` as possible: (first, size) pairs.
std::vector<std::pair<int64_t, int64_t>> even_split(int64_t n, int64_t most) {
  std::vector<std::pair<int64_t, int64_t>> parts;
  const int64_t count = (n + most - 1) / most;
  for (int64_t t = 0, first = 0; t < count; ++t) {
    const int64_t size = n / count + (t < n % count ? 1 : 0);
    parts.push_back({first, size});
    first += size;
  }
  return parts;
}

void backward_weight(KernelContext& ctx) {
  const Tensor& g = ctx.input(0);
  const Tensor& x = ctx.input(1);
  const ConvGeometry geo = ConvGeometry::from_attrs(ctx.attrs(), "conv2d_backward_weight");
  const Shape weight_size = ctx.attrs().get_ints("weight_size");
  Tensor& out = ctx.output(0, weight_size, g.dtype());
  if (out.numel() == 0) return;
  const int64_t N = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  const int64_t O = weight_size[0], kH = weight_size[2], kW = weight_size[3];
  const int64_t Ho = g.size(2), Wo = g.size(3);
  const int64_t pH = geo.padding[0], pW = geo.padding[1];
  const int64_t Hp = H + 2 * pH, Wp = W + 2 * pW;
  const int64_t vectors = (O + kLanes - 1) / kLanes, Opad = vectors * kLanes;
  const int64_t ob = std::min<int64_t>(4, vectors);
  // In (h, w, c) order the kW·C values of one kernel row (q, c) are consecutive for every pixel,
  // so a tile's T values run over (q, c) pairs: T = 24 + 24 for 16 channels, not 16 per tap.
  const auto tap_tiles = even_split(kW * C, max_pixels(int(ob)));
  const int threads = int(
      std::max<int64_t>(1, std::min<int64_t>(omp_in_parallel() ? 1 : omp_get_max_threads(), N)));
  // Partial sums block by block of output channels, [block][p][q][c][channels of the block], so
  // that a tile's accumulators are one contiguous run (the sums of a 512-channel layer are 9 MB).
  const int64_t taps = kH * kW * C, psize = taps * Opad;
  std::vector<std::vector<float>> partial(static_cast<size_t>(threads));
  const float* xd = x.data<float>();
  const float* gd = g.data<float>();
  const Shape xs = x.strides(), gs = g.strides();
  // Small images go several to a tile call, so that the accumulators are loaded and stored once
  // per few hundred pixels, not per 4 (ResNet-18's last stage is 2×2).
  const int64_t per_group = std::max<int64_t>(
      1,
      std::min((256 + Ho * Wo - 1) / std::max<int64_t>(1, Ho * Wo), (N + threads - 1) / threads));
  const int64_t groups = (N + per_group - 1) / per_group;
  const int64_t x_image = Hp * Wp * C, g_image = Ho * Wo * Opad;
#pragma omp parallel num_threads(threads)
  {
    const int t = omp_get_thread_num();
    std::vector<float>& part = partial[size_t(t)];
    part.assign(size_t(psize), 0.0f);
    std::vector<float> xh(size_t(per_group * x_image)), gt(size_t(per_group * g_image), 0.0f);
#pragma omp for schedule(static)
    for (int64_t group = 0; group < groups; ++group) {
      const int64_t n0 = group * per_group, count = std::min(per_group, N - n0);
      // x padded, channels innermost; g as (pixel, o); image after image.
      std::fill(xh.begin(), xh.end(), 0.0f);
      for (int64_t m = 0; m < count; ++m) {
        const int64_t n = n0 + m;
        for (int64_t c = 0; c < C; ++c)
          for (int64_t h = 0; h < H; ++h) {
            const float* src = xd + n * xs[0] + c * xs[1] + h * xs[2];
            float* dst = xh.data() + m * x_image + ((h + pH) * Wp + pW) * C + c;
            for (int64_t v = 0; v < W; ++v) dst[v * C] = src[v * xs[3]];
          }
        for (int64_t o = 0; o < O; ++o)
          for (int64_t i = 0; i < Ho; ++i) {
            const float* src = gd + n * gs[0] + o * gs[1] + i * gs[2];
            float* dst = gt.data() + m * g_image + i * Wo * Opad + o;
            for (int64_t j = 0; j < Wo; ++j) dst[j * Opad] = src[j * gs[3]];
          }
      }
      const WeightTileArgs a{
          count, x_image, g_image, Ho, Wo, geo.stride[0] * Wp * C, geo.stride[1] * C, Opad, 0};
      for (int64_t v0 = 0; v0 < vectors; v0 += ob) {
        const int64_t obs = std::min(ob, vectors - v0);
        WeightTileArgs block = a;
        block.p_step = obs * kLanes;
        for (int64_t p = 0; p < kH; ++p)
          for (const auto& [f0, width] : tap_tiles) {
            pick_weight_tile(int(obs), int(width))(
                block, xh.data() + p * Wp * C + f0, gt.data() + v0 * kLanes,
                part.data() + v0 * kLanes * taps + (p * kW * C + f0) * obs * kLanes);
          }
      }
    }
  }
  const Tensor res = out.is_contiguous() ? out : Tensor::empty(out.shape(), out.dtype());
  float* dw = res.data<float>();
  // The partials are read in their own order (blocks, (p, q, c), channels) and dW written in its
  // own (o, c, p, q) through a transposed chunk of input channels that stays in L1: writing dW
  // lane by lane would put consecutive values C·kH·kW floats apart, a new cache line and often a
  // new page each (9 MB of them for a 512-channel layer). One block per thread.
  constexpr int64_t kChunk = 16;
  const int64_t khw = kH * kW;
  const int64_t block_count = (vectors + ob - 1) / ob;
#pragma omp parallel num_threads(threads)
  {
    std::vector<float> buf(size_t(ob * kLanes * kChunk * khw));
#pragma omp for schedule(static)
    for (int64_t blk = 0; blk < block_count; ++blk) {
      const int64_t v0 = blk * ob, obs = std::min(ob, vectors - v0), o0 = v0 * kLanes;
      const int64_t width = obs * kLanes, lanes = std::min(width, O - o0);
      for (int64_t c0 = 0; c0 < C; c0 += kChunk) {
        const int64_t cs = std::min(kChunk, C - c0);
        for (int64_t pq = 0; pq < khw; ++pq)
          for (int64_t cc = 0; cc < cs; ++cc) {
            const size_t at = size_t(o0 * taps + (pq * C + c0 + cc) * width);
            for (int64_t l = 0; l < lanes; ++l) {
              float sum = 0.0f;
              for (int t = 0; t < threads; ++t) sum += partial[size_t(t)][at + size_t(l)];
              buf[size_t((l * cs + cc) * khw + pq)] = sum;
            }
          }
        for (int64_t l = 0; l < lanes; ++l)
          std::copy_n(buf.data() + l * cs * khw, cs * khw, dw + ((o0 + l) * C + c0) * khw);
      }
    }
  }
  if (!res.is_same(out)) out.copy_(res);
}

bool forward_fits(const KernelContext& ctx) {
  const Tensor& w = ctx.input(1);
  const ConvGeometry geo = ConvGeometry::from_attrs(ctx.attrs(), "conv2d");
  const int64_t Wo = geo.output_size(1, ctx.input(0).size(3), w.size(3));
  // 1×1 kernels have too few taps per output load: the GEMM wins.
  return supports_geometry(ctx, "conv2d") && Wo > 0 && w.size(1) > 0 && w.size(2) * w.size(3) > 1;
}

bool backward_input_fits(const KernelContext& ctx) {
  const ConvGeometry geo = ConvGeometry::from_attrs(ctx.attrs(), "conv2d_backward_input");
  const Tensor& w = ctx.input(1);
  // Fewer than 8 input channels waste most of each 16-channel vector.
  return supports_geometry(ctx, "conv2d_backward_input") && w.size(1) >= 8 &&
         w.size(2) * w.size(3) > 1 && geo.stride[0] <= 2 && geo.stride[1] <= 2;
}

bool backward_weight_fits(const KernelContext& ctx) {
  const Shape weight_size = ctx.attrs().get_ints("weight_size");
  // A few input channels give short broadcast runs, unless the kernel row is wide (a 7×7 stem
  // on 3 channels: runs of 21 (q, c) pairs); 1×1 kernels are plain GEMMs.
  return supports_geometry(ctx, "conv2d_backward_weight") &&
         (weight_size[1] >= 4 || weight_size[1] * weight_size[3] >= 12) &&
         weight_size[2] * weight_size[3] > 1;
}

// Calls this direct kernel handles nothing of go to cpu/batched_gemm, so that the kernel covers
// every float call (a network mixes geometries; forcing the kernel by name must still work).
void or_batched_gemm(const char* op, KernelContext& ctx, bool fits,
                     void (*direct)(KernelContext&)) {
  if (fits) {
    direct(ctx);
    return;
  }
  dispatch::Registry::instance().kernel(op, DeviceType::cpu, "batched_gemm").fn(ctx);
}

const bool registered = [] {
  register_kernel(
      "conv2d", DeviceType::cpu, "direct_avx512", 30,
      [](KernelContext& ctx) { or_batched_gemm("conv2d", ctx, forward_fits(ctx), forward); },
      [](const KernelContext& ctx) { return inputs_are_float(ctx); },
      "direct convolution, output tile in AVX-512 registers, for f32, groups 1, no dilation, "
      "column stride 1 or 2, output rows of 4+ pixels; other calls run cpu/batched_gemm");
  register_kernel(
      "conv2d_backward_input", DeviceType::cpu, "direct_avx512", 30,
      [](KernelContext& ctx) {
        or_batched_gemm("conv2d_backward_input", ctx, backward_input_fits(ctx), backward_input);
      },
      [](const KernelContext& ctx) { return inputs_are_float(ctx); },
      "the stride-1 input gradient as a direct convolution of the gradient with the flipped, "
      "transposed weight (see cpu/direct_avx512 conv2d); other calls run cpu/batched_gemm");
  register_kernel(
      "conv2d_backward_weight", DeviceType::cpu, "direct_avx512", 30,
      [](KernelContext& ctx) {
        or_batched_gemm("conv2d_backward_weight", ctx, backward_weight_fits(ctx), backward_weight);
      },
      [](const KernelContext& ctx) { return inputs_are_float(ctx); },
      "outer products of 16-channel gradient vectors and broadcast input values summed over the "
      "pixels in AVX-512 registers (f32, groups 1, no dilation, 4+ input channels, kernels "
      "larger than 1x1); other calls run cpu/batched_gemm");
  return true;
}();

}  // namespace
}  // namespace osprey::ops
