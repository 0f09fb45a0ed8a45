// f16 and bf16 conversions on the CPU against an independent reference: rounding to nearest with
// ties to even (in the normal and the subnormal range, and at the overflow threshold), signed
// zeros, infinities and NaN. Every f16 value and every midpoint between two f16 values is checked;
// for bf16, every midpoint in a sweep of exponents. The tensor casts use the same conversions.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include "framework/core/half.h"
#include "framework/core/tensor.h"

namespace osprey {
namespace {

float float_from_bits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

uint32_t bits_of(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

// f rounded to nearest-even on a grid of `mantissa_bits` fractional bits whose exponent is at least
// `min_exponent` (below it the grid is that of the subnormals); values at or beyond
// 2^(max_exponent + 1) become infinity. Done in double, where every step is exact.
double round_to_format(float f, int mantissa_bits, int min_exponent, int max_exponent) {
  if (std::isnan(f) || std::isinf(f)) return f;
  double a = std::fabs(static_cast<double>(f));
  int e = 0;
  std::frexp(a, &e);  // a = m * 2^e, m in [0.5, 1)
  int exponent = a == 0.0 ? min_exponent : std::max(e - 1, min_exponent);
  double spacing = std::ldexp(1.0, exponent - mantissa_bits);
  double r = std::nearbyint(a / spacing) * spacing;  // default rounding mode: ties to even
  if (r >= std::ldexp(1.0, max_exponent + 1)) r = std::numeric_limits<double>::infinity();
  return std::copysign(r, static_cast<double>(f));
}

double half_reference(float f) {
  return round_to_format(f, 10, -14, 15);
}
double bf16_reference(float f) {
  return round_to_format(f, 7, -126, 127);
}

TEST(Half, KnownEncodings) {
  EXPECT_EQ(Half(1.0f).bits, 0x3c00);
  EXPECT_EQ(Half(-2.0f).bits, 0xc000);
  EXPECT_EQ(Half(65504.0f).bits, 0x7bff);  // largest finite
  EXPECT_EQ(Half(0.0f).bits, 0x0000);
  EXPECT_EQ(Half(-0.0f).bits, 0x8000);                  // the sign of zero survives
  EXPECT_EQ(Half(std::ldexp(1.0f, -14)).bits, 0x0400);  // smallest normal
  EXPECT_EQ(Half(std::ldexp(1.0f, -24)).bits, 0x0001);  // smallest subnormal
  EXPECT_EQ(Half(-std::ldexp(1.0f, -24)).bits, 0x8001);
  EXPECT_EQ(Half(std::ldexp(1023.0f, -24)).bits, 0x03ff);  // largest subnormal
}

TEST(Half, TiesRoundToEven) {
  // Normal range: 1 + 2^-11 lies halfway between 1 (even) and 1 + 2^-10 (odd).
  EXPECT_EQ(Half(1.0f + std::ldexp(1.0f, -11)).bits, 0x3c00);
  EXPECT_EQ(Half(1.0f + 3 * std::ldexp(1.0f, -11)).bits, 0x3c02);  // odd 0x3c01 loses
  EXPECT_EQ(Half(std::nextafter(1.0f + std::ldexp(1.0f, -11), 2.0f)).bits, 0x3c01);
  // Subnormals: 2^-25 is halfway between 0 and 2^-24, 3 * 2^-25 between 2^-24 and 2^-23.
  EXPECT_EQ(Half(std::ldexp(1.0f, -25)).bits, 0x0000);
  EXPECT_EQ(Half(std::nextafter(std::ldexp(1.0f, -25), 1.0f)).bits, 0x0001);
  EXPECT_EQ(Half(3 * std::ldexp(1.0f, -25)).bits, 0x0002);
  EXPECT_EQ(Half(-std::ldexp(1.0f, -26)).bits, 0x8000);  // underflows to -0
  // Halfway between the largest subnormal (odd) and the smallest normal: rounds up into normals.
  EXPECT_EQ(Half(std::ldexp(2047.0f, -25)).bits, 0x0400);
}

TEST(Half, OverflowThreshold) {
  // 65520 is halfway between 65504 (odd mantissa) and 65536, which is out of range: infinity.
  EXPECT_EQ(Half(65520.0f).bits, 0x7c00);
  EXPECT_EQ(Half(-65520.0f).bits, 0xfc00);
  EXPECT_EQ(Half(std::nextafter(65520.0f, 0.0f)).bits, 0x7bff);
  EXPECT_EQ(Half(1e30f).bits, 0x7c00);
  EXPECT_EQ(Half(std::numeric_limits<float>::max()).bits, 0x7c00);
}

TEST(Half, InfinityAndNan) {
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(Half(inf).bits, 0x7c00);
  EXPECT_EQ(Half(-inf).bits, 0xfc00);
  EXPECT_EQ(static_cast<float>(Half::to_float(0x7c00)), inf);
  EXPECT_EQ(static_cast<float>(Half::to_float(0xfc00)), -inf);
  // A NaN stays a NaN, also one whose payload sits in bits that f16 drops, and keeps its sign.
  for (uint32_t nan_bits : {0x7fc00000u, 0x7f800001u, 0x7f802000u, 0xffc00000u, 0xff800001u}) {
    Half h(float_from_bits(nan_bits));
    EXPECT_EQ(h.bits & 0x7c00, 0x7c00) << std::hex << nan_bits;
    EXPECT_NE(h.bits & 0x03ff, 0) << std::hex << nan_bits;
    EXPECT_EQ(static_cast<uint32_t>(h.bits >> 15), nan_bits >> 31) << std::hex << nan_bits;
    EXPECT_TRUE(std::isnan(static_cast<float>(h)));
  }
  EXPECT_TRUE(std::isnan(Half::to_float(0x7c01)));
  EXPECT_TRUE(std::isnan(Half::to_float(0xfe00)));
}

TEST(Half, EveryValueRoundTripsAndDecodesExactly) {
  for (uint32_t b = 0; b <= 0xffff; ++b) {
    auto h = static_cast<uint16_t>(b);
    float f = Half::to_float(h);
    uint32_t exponent = (b >> 10) & 0x1f, mantissa = b & 0x3ff;
    if (exponent == 0x1f && mantissa != 0) {
      ASSERT_TRUE(std::isnan(f)) << std::hex << b;
      continue;
    }
    double magnitude = exponent == 0x1f ? std::numeric_limits<double>::infinity()
                       : exponent == 0
                           ? std::ldexp(static_cast<double>(mantissa), -24)
                           : std::ldexp(1024.0 + mantissa, static_cast<int>(exponent) - 25);
    ASSERT_EQ(static_cast<double>(f), (b & 0x8000) ? -magnitude : magnitude) << std::hex << b;
    ASSERT_EQ(std::signbit(f), (b & 0x8000) != 0) << std::hex << b;
    ASSERT_EQ(Half(f).bits, h) << std::hex << b;
  }
}

TEST(Half, EveryMidpointAndItsNeighboursRoundLikeTheReference) {
  // Between two adjacent finite f16 values of the same sign (and between 65504 and 65536) the
  // midpoint needs 12 significant bits, so it is exact in float.
  for (uint32_t b = 0; b < 0x7c00; ++b) {
    for (float sign : {1.0f, -1.0f}) {
      double low = Half::to_float(static_cast<uint16_t>(b));
      double high = b + 1 < 0x7c00 ? Half::to_float(static_cast<uint16_t>(b + 1)) : 65536.0;
      float mid = sign * static_cast<float>((low + high) / 2);
      ASSERT_EQ(static_cast<double>(mid), sign * (low + high) / 2);
      for (float f : {mid, std::nextafter(mid, 0.0f), std::nextafter(mid, sign * 1e30f)}) {
        double expected = half_reference(f);
        double actual = static_cast<float>(Half(f));
        ASSERT_EQ(actual, expected) << "f = " << f << " (bits " << std::hex << bits_of(f) << ")";
        ASSERT_EQ(std::signbit(actual), std::signbit(expected)) << f;
      }
    }
  }
}

TEST(Half, SweepOfFloatsRoundsLikeTheReference) {
  // Every 4099th float bit pattern (all exponents, many mantissas, both signs).
  for (uint64_t u = 0; u <= 0xffffffffu; u += 4099) {
    float f = float_from_bits(static_cast<uint32_t>(u));
    if (std::isnan(f)) continue;
    ASSERT_EQ(static_cast<double>(static_cast<float>(Half(f))), half_reference(f)) << std::hex << u;
  }
}

TEST(BFloat16, KnownEncodingsAndTies) {
  EXPECT_EQ(BFloat16(1.0f).bits, 0x3f80);
  EXPECT_EQ(BFloat16(-0.0f).bits, 0x8000);
  EXPECT_EQ(BFloat16(1.0f + std::ldexp(1.0f, -8)).bits, 0x3f80);      // tie, even stays
  EXPECT_EQ(BFloat16(1.0f + 3 * std::ldexp(1.0f, -8)).bits, 0x3f82);  // tie, odd rounds up
  EXPECT_EQ(BFloat16(std::nextafter(1.0f + std::ldexp(1.0f, -8), 2.0f)).bits, 0x3f81);
  // Float's largest finite value rounds past bf16's largest (0x7f7f) to infinity.
  EXPECT_EQ(BFloat16(std::numeric_limits<float>::max()).bits, 0x7f80);
  EXPECT_EQ(BFloat16(float_from_bits(0x7f7f7fffu)).bits, 0x7f7f);
  EXPECT_EQ(BFloat16(float_from_bits(0x7f7f8000u)).bits, 0x7f80);  // tie at the top: to inf
  // Subnormals keep float's grid, truncated to 7 bits with the same rounding.
  EXPECT_EQ(BFloat16(float_from_bits(0x00000001u)).bits, 0x0000);
  EXPECT_EQ(BFloat16(float_from_bits(0x00008000u)).bits, 0x0000);  // tie, even
  EXPECT_EQ(BFloat16(float_from_bits(0x00018000u)).bits, 0x0002);  // tie, odd rounds up
  EXPECT_EQ(BFloat16(float_from_bits(0x00008001u)).bits, 0x0001);
}

TEST(BFloat16, InfinityAndNan) {
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(BFloat16(inf).bits, 0x7f80);
  EXPECT_EQ(BFloat16(-inf).bits, 0xff80);
  EXPECT_EQ(static_cast<float>(BFloat16(inf)), inf);
  // NaNs whose payload is only in the dropped low bits must not become infinity.
  for (uint32_t nan_bits : {0x7fc00000u, 0x7f800001u, 0x7fffffffu, 0xff800001u}) {
    BFloat16 b(float_from_bits(nan_bits));
    EXPECT_TRUE(std::isnan(static_cast<float>(b))) << std::hex << nan_bits;
    EXPECT_EQ(static_cast<uint32_t>(b.bits >> 15), nan_bits >> 31) << std::hex << nan_bits;
  }
}

TEST(BFloat16, MidpointsAndSweepRoundLikeTheReference) {
  for (uint64_t u = 0; u <= 0xffffffffu; u += 4099) {
    float f = float_from_bits(static_cast<uint32_t>(u));
    if (std::isnan(f)) continue;
    ASSERT_EQ(static_cast<double>(static_cast<float>(BFloat16(f))), bf16_reference(f))
        << std::hex << u;
  }
  // Every midpoint (low 16 bits 0x8000) and its neighbours, for every bf16 value.
  for (uint32_t hi = 0; hi < 0x7f80; ++hi) {
    for (uint32_t sign : {0u, 0x80000000u}) {
      for (uint32_t low : {0x7fffu, 0x8000u, 0x8001u}) {
        float f = float_from_bits(sign | (hi << 16) | low);
        ASSERT_EQ(static_cast<double>(static_cast<float>(BFloat16(f))), bf16_reference(f))
            << std::hex << bits_of(f);
      }
    }
  }
}

TEST(HalfCasts, TensorCastsUseTheSameRounding) {
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<float> v = {1.0f + std::ldexp(1.0f, -11),
                          3 * std::ldexp(1.0f, -25),
                          65520.0f,
                          -inf,
                          std::ldexp(1.0f, -26),
                          -0.0f};
  Tensor t = Tensor::from_vector<float>(v, {6});
  auto h = t.to(DType::f16).to(DType::f32).to_vector<float>();
  auto b = t.to(DType::bf16).to(DType::f32).to_vector<float>();
  for (size_t i = 0; i < v.size(); ++i) {
    EXPECT_EQ(h[i], static_cast<float>(Half(v[i]))) << i;
    EXPECT_EQ(b[i], static_cast<float>(BFloat16(v[i]))) << i;
  }
  EXPECT_EQ(h[1], std::ldexp(1.0f, -23));
  EXPECT_EQ(h[2], inf);
  EXPECT_TRUE(std::signbit(h[4]) == false && h[4] == 0.0f);
  EXPECT_TRUE(std::signbit(h[5]));
  Tensor nan = Tensor::from_vector<float>({std::numeric_limits<float>::quiet_NaN()}, {1});
  EXPECT_TRUE(std::isnan(nan.to(DType::f16).to(DType::f32).item<float>()));
  EXPECT_TRUE(std::isnan(nan.to(DType::bf16).to(DType::f32).item<float>()));
}

}  // namespace
}  // namespace osprey
