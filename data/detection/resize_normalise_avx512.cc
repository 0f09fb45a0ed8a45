// The avx512 variant of resize_flip_normalise / resize_flip_u8 (see resize_normalise.h for when
// it runs): resize.h's fixed-point bilinear in 16-bit lanes, bit for bit. The library is built
// for generic x86-64, so only the functions marked OSPREY_AVX512 use AVX-512; they are called
// only after avx512_resize_available() said yes.
//
// resize.h's blend(p, q, w) = p + (((q − p) · w + 2^14) >> 15) is exactly p + pmulhrsw(q − p, w)
// (pmulhrsw computes ((x · y >> 14) + 1) >> 1, the same floor), and the final (v + 64) >> 7 is
// pmulhrsw(v, 256). The f32 output applies the normalisation expression to the rounded 8-bit
// value with separate multiplies and subtractions, as the scalar variant does: GCC contracts
// a·b − c into an FMA in C++ (even in ISO mode) when the target has FMA, and _mm512_mul_ps/
// _mm512_sub_ps are plain vector arithmetic it may contract, so the *_round_ps forms with the
// current rounding mode (the same instructions, but opaque builtins) are used.
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

constexpr int kLanes = 32;   // 16-bit values per register
constexpr int kWindow = 64;  // source pixels two registers hold: the reach of vpermt2w

OSPREY_AVX512 inline __m512 sub(__m512 a, __m512 b) {
  return _mm512_sub_round_ps(a, b, _MM_FROUND_CUR_DIRECTION);
}
OSPREY_AVX512 inline __m512 mul(__m512 a, __m512 b) {
  return _mm512_mul_round_ps(a, b, _MM_FROUND_CUR_DIRECTION);
}

int round_up(int v, int m) {
  return (v + m - 1) / m * m;
}

// The horizontal taps of a call in blocks of 32 output columns. A block whose taps all lie in
// [base, base + 64) stores them relative to base (two loads and two permutes per plane); a wider
// one (a reduction by more than about 2x) has base −1 and is blended lane by lane.
struct Blocks {
  std::vector<int> base;
  std::vector<uint8_t> narrow;  // the taps lie in [base, base + 32): one register, vpermw
  std::vector<int16_t> ia, ib;  // kLanes per block
  std::vector<int16_t> w;       // kLanes per block
};

void plan_blocks(const ResizePlan& p, Blocks& b) {
  const int count = round_up(p.out_w, kLanes) / kLanes;
  b.base.resize(count);
  b.narrow.resize(count);
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
    b.narrow[k] = hi - lo < kLanes;
    for (int j = 0; j < kLanes; ++j) {
      const size_t i = size_t(k) * kLanes + j;
      // Relative to base; a block that does not fit is blended lane by lane from the plan's
      // xa/xb instead, and its entries stay 0.
      b.ia[i] = static_cast<int16_t>(base < 0 ? 0 : p.xa[column(j)] - base);
      b.ib[i] = static_cast<int16_t>(base < 0 ? 0 : p.xb[column(j)] - base);
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

// One window row of RGB bytes into 3 planes of 128 · value, `pstride` values apart.
OSPREY_AVX512 void deinterleave(const uint8_t* src, int width, int16_t* planes, size_t pstride) {
  const __m512i index = deinterleave_index();
  for (int x = 0; x < width; x += 16) {
    const int n = std::min(16, width - x);
    const __mmask64 mask = (__mmask64{1} << (3 * n)) - 1;  // 3·n ≤ 48 bytes
    const __m512i rgb = _mm512_permutexvar_epi8(index, _mm512_maskz_loadu_epi8(mask, src + 3 * x));
    const __m512i rg = _mm512_slli_epi16(_mm512_cvtepu8_epi16(_mm512_castsi512_si256(rgb)), 7);
    const __m512i b = _mm512_slli_epi16(_mm512_cvtepu8_epi16(_mm512_extracti64x4_epi64(rgb, 1)), 7);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(planes + x), _mm512_castsi512_si256(rg));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(planes + pstride + x),
                        _mm512_extracti64x4_epi64(rg, 1));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(planes + 2 * pstride + x),
                        _mm512_castsi512_si256(b));
  }
}

// p + (((q − p) · w + 2^14) >> 15) in every lane.
OSPREY_AVX512 inline __m512i blend(__m512i p, __m512i q, __m512i w) {
  return _mm512_add_epi16(p, _mm512_mulhrs_epi16(_mm512_sub_epi16(q, p), w));
}

// The horizontal pass of one row from the planes.
OSPREY_AVX512 void horizontal(const int16_t* planes, size_t pstride, const Blocks& b,
                              const ResizePlan& p, int16_t* dst) {
  const int count = static_cast<int>(b.base.size());
  for (int k = 0; k < count; ++k) {
    const int base = b.base[k];
    if (base < 0) {
      for (int c = 0; c < 3; ++c) {
        const int16_t* plane = planes + c * pstride;
        for (int x = k * kLanes; x < std::min(p.out_w, (k + 1) * kLanes); ++x) {
          dst[size_t(c) * p.stride + x] =
              static_cast<int16_t>(bilinear_blend(plane[p.xa[x]], plane[p.xb[x]], p.wx[x]));
        }
      }
      continue;
    }
    const __m512i ia = _mm512_loadu_si512(b.ia.data() + size_t(k) * kLanes);
    const __m512i ib = _mm512_loadu_si512(b.ib.data() + size_t(k) * kLanes);
    const __m512i w = _mm512_loadu_si512(b.w.data() + size_t(k) * kLanes);
    if (b.narrow[k]) {
      for (int c = 0; c < 3; ++c) {
        const __m512i window = _mm512_loadu_si512(planes + c * pstride + base);
        const __m512i r =
            blend(_mm512_permutexvar_epi16(ia, window), _mm512_permutexvar_epi16(ib, window), w);
        _mm512_storeu_si512(dst + size_t(c) * p.stride + size_t(k) * kLanes, r);
      }
      continue;
    }
    for (int c = 0; c < 3; ++c) {
      const int16_t* plane = planes + c * pstride + base;
      const __m512i first = _mm512_loadu_si512(plane), second = _mm512_loadu_si512(plane + kLanes);
      const __m512i r = blend(_mm512_permutex2var_epi16(first, ia, second),
                              _mm512_permutex2var_epi16(first, ib, second), w);
      _mm512_storeu_si512(dst + size_t(c) * p.stride + size_t(k) * kLanes, r);
    }
  }
}

// The rounded 8-bit values of 32 columns: (blend(lo, hi, w) + 64) >> 7.
OSPREY_AVX512 inline __m512i blend_round(const int16_t* lo, const int16_t* hi, __m512i w, int x) {
  const __m512i v = blend(_mm512_loadu_si512(lo + x), _mm512_loadu_si512(hi + x), w);
  return _mm512_mulhrs_epi16(v, _mm512_set1_epi16(256));
}

OSPREY_AVX512 inline __mmask32 tail_mask(int left) {
  return left >= 32 ? ~__mmask32{0} : (__mmask32{1} << left) - 1;
}

OSPREY_AVX512 void vertical_u8(const int16_t* lo, const int16_t* hi, int weight, int n,
                               uint8_t* dst) {
  const __m512i w = _mm512_set1_epi16(static_cast<int16_t>(weight));
  for (int x = 0; x < n; x += kLanes) {
    const __m256i r = _mm512_cvtepi16_epi8(blend_round(lo, hi, w, x));
    _mm256_mask_storeu_epi8(dst + x, tail_mask(n - x), r);
  }
}

// Full vectors go to 64-byte aligned rows with streaming stores: the f32 canvas (5.8 MB for
// VOC at shorter side 600) does not fit in L2 and is read later by another thread (collate,
// upload), so ordinary stores would first read every line they overwrite. In the loader bench
// this took about 0.2 ms per image off the f32 mode (docs/performance.md). run() fences them.
OSPREY_AVX512 void vertical_f32(const int16_t* lo, const int16_t* hi, int weight, int n,
                                float scale, float mean, float inv_std, float* dst) {
  const __m512i w = _mm512_set1_epi16(static_cast<int16_t>(weight));
  const __m512 s = _mm512_set1_ps(scale), m = _mm512_set1_ps(mean), is = _mm512_set1_ps(inv_std);
  const bool aligned = reinterpret_cast<uintptr_t>(dst) % 64 == 0;
  for (int x = 0; x < n; x += kLanes) {
    const __m512i r = blend_round(lo, hi, w, x);
    const __mmask32 mask = tail_mask(n - x);
    const __m512 first = _mm512_cvtepi32_ps(_mm512_cvtepi16_epi32(_mm512_castsi512_si256(r)));
    const __m512 second =
        _mm512_cvtepi32_ps(_mm512_cvtepi16_epi32(_mm512_extracti64x4_epi64(r, 1)));
    const __m512 v0 = mul(sub(mul(first, s), m), is), v1 = mul(sub(mul(second, s), m), is);
    if (aligned && n - x >= kLanes) {
      _mm512_stream_ps(dst + x, v0);
      _mm512_stream_ps(dst + x + 16, v1);
    } else {
      _mm512_mask_storeu_ps(dst + x, static_cast<__mmask16>(mask), v0);
      _mm512_mask_storeu_ps(dst + x + 16, static_cast<__mmask16>(mask >> 16), v1);
    }
  }
}

// Per-thread scratch, kept across calls.
struct Scratch {
  Blocks blocks[2];                   // per flip, as the plans
  int64_t blocks_generation[2] = {};  // the plan generation each was made for
  std::vector<int16_t> planes;        // 3 deinterleaved planes of a window row
  std::vector<int16_t> rows;          // run_resize's two cached rows
};

template <typename T, typename Vertical>
void run(const Image& image, const ResizePlan& p, const ChannelNormalise& n, T pad, int out_height,
         int out_width, T* out, Vertical&& vertical) {
  thread_local Scratch s;
  const int slot = p.flip ? 1 : 0;
  if (s.blocks_generation[slot] != p.generation) {
    plan_blocks(p, s.blocks[slot]);
    s.blocks_generation[slot] = p.generation;
  }
  // Room past the row for the second vector loaded at any base < width.
  const size_t pstride = size_t(round_up(p.width, 16)) + kWindow;
  s.planes.resize(3 * pstride);
  auto horizontal_row = [&](int sy, int16_t* dst) {
    deinterleave(image.row(p.y0 + sy) + size_t(3) * p.x0, p.width, s.planes.data(), pstride);
    horizontal(s.planes.data(), pstride, s.blocks[slot], p, dst);
  };
  run_resize(p, n, pad, out_height, out_width, out, s.rows, horizontal_row, vertical);
  _mm_sfence();
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
      [&](const int16_t* lo, const int16_t* hi, int w, int oc, float* dst) {
        vertical_f32(lo, hi, w, plan.out_w, n.value_scale, n.mean[oc], n.inv_std[oc], dst);
      });
}

void resize_flip_avx512(const Image& image, const ResizePlan& plan, int out_height, int out_width,
                        uint8_t* out) {
  run(image, plan, ChannelNormalise{}, uint8_t{0}, out_height, out_width, out,
      [&](const int16_t* lo, const int16_t* hi, int w, int, uint8_t* dst) {
        vertical_u8(lo, hi, w, plan.out_w, dst);
      });
}

}  // namespace osprey::data::detail
