// 16-bit floating-point storage types. Arithmetic is done in float; these types only convert.
// They are plain structs (not the CUDA types) so that host code never needs CUDA headers, and their
// bit layouts equal IEEE binary16 and bfloat16, so device kernels may reinterpret them.
#pragma once

#include <cstdint>
#include <cstring>

#include "framework/core/macros.h"

namespace osprey {

namespace detail {
OSPREY_INLINE uint32_t float_bits(float f) {
#if defined(__CUDA_ARCH__)
  return __float_as_uint(f);
#else
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
#endif
}
OSPREY_INLINE float bits_float(uint32_t u) {
#if defined(__CUDA_ARCH__)
  return __uint_as_float(u);
#else
  float f;
  std::memcpy(&f, &u, 4);
  return f;
#endif
}
}  // namespace detail

struct Half {
  uint16_t bits = 0;
  Half() = default;
  OSPREY_INLINE Half(float f)
      : bits(from_float(f)) {}  // NOLINT: implicit like a builtin float type
  OSPREY_INLINE operator float() const { return to_float(bits); }

  // Round-to-nearest-even conversion, handling subnormals, infinities and NaN.
  static OSPREY_INLINE uint16_t from_float(float f) {
    uint32_t x = detail::float_bits(f);
    uint32_t sign = (x >> 16) & 0x8000u;
    uint32_t abs = x & 0x7fffffffu;
    if (abs >= 0x7f800000u)
      return static_cast<uint16_t>(sign | (abs > 0x7f800000u ? 0x7e00u : 0x7c00u));
    if (abs >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // overflow to inf
    if (abs < 0x38800000u) {                                               // subnormal or zero
      if (abs < 0x33000000u) return static_cast<uint16_t>(sign);
      uint32_t mant = (abs & 0x7fffffu) | 0x800000u;
      int shift = 113 - static_cast<int>(abs >> 23) + 13;
      uint32_t half = mant >> shift;
      uint32_t rem = mant & ((1u << shift) - 1u);
      uint32_t midpoint = 1u << (shift - 1);
      if (rem > midpoint || (rem == midpoint && (half & 1u))) ++half;
      return static_cast<uint16_t>(sign | half);
    }
    uint32_t rounded = abs + 0xfffu + ((abs >> 13) & 1u);
    return static_cast<uint16_t>(sign | ((rounded - 0x38000000u) >> 13));
  }
  static OSPREY_INLINE float to_float(uint16_t h) {
    uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t mant = h & 0x3ffu;
    if (exp == 0x1fu) return detail::bits_float(sign | 0x7f800000u | (mant << 13));
    if (exp == 0) {
      if (mant == 0) return detail::bits_float(sign);
      float value = static_cast<float>(mant) * (1.0f / 16777216.0f);  // mant * 2^-24
      return sign ? -value : value;
    }
    return detail::bits_float(sign | ((exp + 112u) << 23) | (mant << 13));
  }
};

struct BFloat16 {
  uint16_t bits = 0;
  BFloat16() = default;
  OSPREY_INLINE BFloat16(float f) : bits(from_float(f)) {}  // NOLINT: implicit like a builtin type
  OSPREY_INLINE operator float() const {
    return detail::bits_float(static_cast<uint32_t>(bits) << 16);
  }

  static OSPREY_INLINE uint16_t from_float(float f) {
    uint32_t x = detail::float_bits(f);
    if ((x & 0x7fffffffu) > 0x7f800000u)
      return static_cast<uint16_t>((x >> 16) | 0x40u);  // quiet NaN
    uint32_t rounding = 0x7fffu + ((x >> 16) & 1u);
    return static_cast<uint16_t>((x + rounding) >> 16);
  }
};

}  // namespace osprey
