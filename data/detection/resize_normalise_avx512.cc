// The avx512 variant of resize_flip_normalise / resize_flip_u8 (see resize_normalise.h for when
// it runs and why it agrees bit for bit with the scalar variant). The library is built for
// generic x86-64, so only the functions marked OSPREY_AVX512 use AVX-512; they are called only
// after avx512_resize_available() said yes. Every pass does the scalar variant's float
// operations in the same order, lane by lane, and none may be fused: GCC contracts a*b + c
// into an FMA in C++ even in ISO mode when the target has FMA (as AVX-512 code does), and
// _mm512_mul_ps/_mm512_add_ps are plain vector arithmetic it may contract. The *_round_ps forms
// with the current rounding mode are the same instructions but opaque builtins, so add/sub/mul
// below use them.
// GCC 12 warns that the unmasked intrinsics' _mm512_undefined_*() placeholders "may be used
// uninitialized" (a false positive in its headers, GCC bug 105593); the headers' lines must be
// covered, so the suppression precedes the include.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <algorithm>
#include <vector>

#include "data/detection/resize_rows.h"

#define OSPREY_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512vbmi")))

namespace osprey::data::detail {

namespace {

constexpr int kLanes = 16;   // floats per register
constexpr int kWindow = 32;  // source pixels two registers hold: the reach of vpermt2ps

OSPREY_AVX512 inline __m512 add(__m512 a, __m512 b) {
  return _mm512_add_round_ps(a, b, _MM_FROUND_CUR_DIRECTION);
}
OSPREY_AVX512 inline __m512 sub(__m512 a, __m512 b) {
  return _mm512_sub_round_ps(a, b, _MM_FROUND_CUR_DIRECTION);
}
OSPREY_AVX512 inline __m512 mul(__m512 a, __m512 b) {
  return _mm512_mul_round_ps(a, b, _MM_FROUND_CUR_DIRECTION);
}

int round_up(int v, int m) {
  return (v + m - 1) / m * m;
}

// The horizontal taps of a call in blocks of 16 output columns. A block whose taps all lie in
// [base, base + 32) stores them relative to base (two loads and two permutes per plane); a wider
// one (a reduction by more than about 2x) has base −1 and absolute indices for a gather.
struct Blocks {
  std::vector<int> base;
  std::vector<int> ia, ib;  // kLanes per block
  std::vector<float> w;     // kLanes per block
};

void plan_blocks(const ResizePlan& p, Blocks& b) {
  const int count = round_up(p.out_w, kLanes) / kLanes;
  b.base.resize(count);
  b.ia.resize(size_t(count) * kLanes);
  b.ib.resize(size_t(count) * kLanes);
  b.w.resize(size_t(count) * kLanes);
  for (int k = 0; k < count; ++k) {
    // Lanes past the last column repeat it; the vertical pass never stores them.
    auto column = [&](int j) { return std::min(k * kLanes + j, p.out_w - 1); };
    int lo = p.xa[column(0)], hi = p.xb[column(0)];
    for (int j = 1; j < kLanes; ++j) {
      lo = std::min(lo, p.xa[column(j)]);
      hi = std::max(hi, p.xb[column(j)]);
    }
    const int base = hi - lo < kWindow ? lo : -1;
    b.base[k] = base;
    const int shift = base < 0 ? 0 : base;
    for (int j = 0; j < kLanes; ++j) {
      const size_t i = size_t(k) * kLanes + j;
      b.ia[i] = p.xa[column(j)] - shift;
      b.ib[i] = p.xb[column(j)] - shift;
      b.w[i] = p.wx[column(j)];
    }
  }
}

// Byte i < 48 of the result is byte 3·(i mod 16) + i / 16 of the source: 16 RGB pixels become
// 16 R, 16 G, 16 B.
OSPREY_AVX512 __m512i deinterleave_index() {
  alignas(64) uint8_t index[64] = {};
  for (int i = 0; i < 48; ++i) index[i] = static_cast<uint8_t>(3 * (i % 16) + i / 16);
  return _mm512_load_si512(index);
}

// One window row of RGB bytes into 3 float planes, `pstride` floats apart.
OSPREY_AVX512 void deinterleave(const uint8_t* src, int width, float* planes, size_t pstride) {
  const __m512i index = deinterleave_index();
  for (int x = 0; x < width; x += kLanes) {
    const int n = std::min(kLanes, width - x);
    const __mmask64 mask = (__mmask64{1} << (3 * n)) - 1;  // 3·n ≤ 48 bytes
    const __m512i rgb = _mm512_permutexvar_epi8(index, _mm512_maskz_loadu_epi8(mask, src + 3 * x));
    _mm512_storeu_ps(planes + x,
                     _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm512_castsi512_si128(rgb))));
    _mm512_storeu_ps(planes + pstride + x,
                     _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm512_extracti32x4_epi32(rgb, 1))));
    _mm512_storeu_ps(planes + 2 * pstride + x,
                     _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm512_extracti32x4_epi32(rgb, 2))));
  }
}

// The horizontal pass of one row from the planes: a + w · (b − a) per output column and plane.
OSPREY_AVX512 void horizontal(const float* planes, size_t pstride, const Blocks& b, float* dst,
                              int stride) {
  const int count = static_cast<int>(b.base.size());
  for (int k = 0; k < count; ++k) {
    const __m512i ia = _mm512_loadu_si512(b.ia.data() + size_t(k) * kLanes);
    const __m512i ib = _mm512_loadu_si512(b.ib.data() + size_t(k) * kLanes);
    const __m512 w = _mm512_loadu_ps(b.w.data() + size_t(k) * kLanes);
    for (int c = 0; c < 3; ++c) {
      const float* plane = planes + c * pstride;
      __m512 a, v;
      if (b.base[k] >= 0) {
        const __m512 first = _mm512_loadu_ps(plane + b.base[k]);
        const __m512 second = _mm512_loadu_ps(plane + b.base[k] + kLanes);
        a = _mm512_permutex2var_ps(first, ia, second);
        v = _mm512_permutex2var_ps(first, ib, second);
      } else {
        a = _mm512_i32gather_ps(ia, plane, 4);
        v = _mm512_i32gather_ps(ib, plane, 4);
      }
      const __m512 r = add(a, mul(w, sub(v, a)));
      _mm512_storeu_ps(dst + size_t(c) * stride + size_t(k) * kLanes, r);
    }
  }
}

// lo + w · (hi − lo), rounded as resize_bilinear rounds (truncating v + 0.5; v ≥ 0).
OSPREY_AVX512 inline __m512i blend_round(const float* lo, const float* hi, __m512 w, int x) {
  const __m512 l = _mm512_loadu_ps(lo + x), h = _mm512_loadu_ps(hi + x);
  const __m512 v = add(l, mul(w, sub(h, l)));
  return _mm512_cvttps_epi32(add(v, _mm512_set1_ps(0.5f)));
}

OSPREY_AVX512 void vertical_f32(const float* lo, const float* hi, float weight, int n, float scale,
                                float mean, float inv_std, float* dst) {
  const __m512 w = _mm512_set1_ps(weight), s = _mm512_set1_ps(scale), m = _mm512_set1_ps(mean),
               is = _mm512_set1_ps(inv_std);
  for (int x = 0; x < n; x += kLanes) {
    const __m512 r = _mm512_cvtepi32_ps(blend_round(lo, hi, w, x));
    const __m512 v = mul(sub(mul(r, s), m), is);
    const __mmask16 mask = n - x >= kLanes ? __mmask16(0xffff) : __mmask16((1u << (n - x)) - 1);
    _mm512_mask_storeu_ps(dst + x, mask, v);
  }
}

OSPREY_AVX512 void vertical_u8(const float* lo, const float* hi, float weight, int n,
                               uint8_t* dst) {
  const __m512 w = _mm512_set1_ps(weight);
  for (int x = 0; x < n; x += kLanes) {
    const __m128i r = _mm512_cvtepi32_epi8(blend_round(lo, hi, w, x));
    const __mmask16 mask = n - x >= kLanes ? __mmask16(0xffff) : __mmask16((1u << (n - x)) - 1);
    _mm_mask_storeu_epi8(dst + x, mask, r);
  }
}

// Per-thread scratch, kept across calls.
struct Scratch {
  Blocks blocks;
  std::vector<float> planes;  // 3 deinterleaved planes of a window row
  std::vector<float> rows;    // run_resize's two cached rows
};

template <typename T, typename Vertical>
void run(const Image& image, const ResizePlan& p, const ChannelNormalise& n, T pad, int out_height,
         int out_width, T* out, Vertical&& vertical) {
  thread_local Scratch s;
  plan_blocks(p, s.blocks);
  // Room past the row for the second vector loaded at any base < width.
  const size_t pstride = size_t(round_up(p.width, kLanes)) + kWindow;
  s.planes.resize(3 * pstride);
  auto horizontal_row = [&](int sy, float* dst) {
    deinterleave(image.row(p.y0 + sy) + size_t(3) * p.x0, p.width, s.planes.data(), pstride);
    horizontal(s.planes.data(), pstride, s.blocks, dst, p.stride);
  };
  run_resize(p, n, pad, out_height, out_width, out, s.rows, horizontal_row, vertical);
}

}  // namespace

bool avx512_resize_available() {
  static const bool has = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                          __builtin_cpu_supports("avx512vl") &&
                          __builtin_cpu_supports("avx512vbmi");
  return has;
}

void resize_flip_avx512(const Image& image, const ResizePlan& plan, const ChannelNormalise& n,
                        float pad, int out_height, int out_width, float* out) {
  run(image, plan, n, pad, out_height, out_width, out,
      [&](const float* lo, const float* hi, float w, int oc, float* dst) {
        vertical_f32(lo, hi, w, plan.out_w, n.value_scale, n.mean[oc], n.inv_std[oc], dst);
      });
}

void resize_flip_avx512(const Image& image, const ResizePlan& plan, int out_height, int out_width,
                        uint8_t* out) {
  run(image, plan, ChannelNormalise{}, uint8_t{0}, out_height, out_width, out,
      [&](const float* lo, const float* hi, float w, int, uint8_t* dst) {
        vertical_u8(lo, hi, w, plan.out_w, dst);
      });
}

}  // namespace osprey::data::detail
