// Element types of tensors, their sizes and names, and the macros that turn a runtime DType into a
// compile-time C++ type inside kernels.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "framework/core/half.h"

namespace osprey {

enum class DType : uint8_t { f32, f64, f16, bf16, i32, i64, u8, boolean };

size_t dtype_size(DType dtype);
const char* dtype_name(DType dtype);           // "f32", "f64", ... as used in specs and errors
DType dtype_from_name(std::string_view name);  // throws listing the known names
bool is_floating(DType dtype);
bool is_integral(DType dtype);  // bool counts as integral
// The type of a binary arithmetic result (PyTorch-like promotion: float beats int, wider beats
// narrower; f16 with bf16 gives f32).
DType promote_types(DType a, DType b);

template <typename T>
struct DTypeOf;
template <>
struct DTypeOf<float> {
  static constexpr DType value = DType::f32;
};
template <>
struct DTypeOf<double> {
  static constexpr DType value = DType::f64;
};
template <>
struct DTypeOf<Half> {
  static constexpr DType value = DType::f16;
};
template <>
struct DTypeOf<BFloat16> {
  static constexpr DType value = DType::bf16;
};
template <>
struct DTypeOf<int32_t> {
  static constexpr DType value = DType::i32;
};
template <>
struct DTypeOf<int64_t> {
  static constexpr DType value = DType::i64;
};
template <>
struct DTypeOf<uint8_t> {
  static constexpr DType value = DType::u8;
};
template <>
struct DTypeOf<bool> {
  static constexpr DType value = DType::boolean;
};
template <typename T>
inline constexpr DType dtype_of = DTypeOf<T>::value;

[[noreturn]] void throw_unsupported_dtype(DType dtype, const char* where);

}  // namespace osprey

// OSPREY_DISPATCH_*(dtype, "where", [&]<typename scalar_t>() { ... }) calls the lambda with the C++
// type of dtype; other dtypes raise an error naming `where`.
#define OSPREY_DTYPE_CASE(ENUM, TYPE, FN) \
  case ::osprey::DType::ENUM:             \
    return (FN).template operator()<TYPE>();

#define OSPREY_DISPATCH_FLOAT(DTYPE, WHERE, ...)         \
  [&] {                                                  \
    switch (DTYPE) {                                     \
      OSPREY_DTYPE_CASE(f32, float, (__VA_ARGS__))       \
      OSPREY_DTYPE_CASE(f64, double, (__VA_ARGS__))      \
      default:                                           \
        ::osprey::throw_unsupported_dtype(DTYPE, WHERE); \
    }                                                    \
  }()

#define OSPREY_DISPATCH_FLOAT_AND_HALF(DTYPE, WHERE, ...)        \
  [&] {                                                          \
    switch (DTYPE) {                                             \
      OSPREY_DTYPE_CASE(f32, float, (__VA_ARGS__))               \
      OSPREY_DTYPE_CASE(f64, double, (__VA_ARGS__))              \
      OSPREY_DTYPE_CASE(f16, ::osprey::Half, (__VA_ARGS__))      \
      OSPREY_DTYPE_CASE(bf16, ::osprey::BFloat16, (__VA_ARGS__)) \
      default:                                                   \
        ::osprey::throw_unsupported_dtype(DTYPE, WHERE);         \
    }                                                            \
  }()

#define OSPREY_DISPATCH_NUMERIC(DTYPE, WHERE, ...)       \
  [&] {                                                  \
    switch (DTYPE) {                                     \
      OSPREY_DTYPE_CASE(f32, float, (__VA_ARGS__))       \
      OSPREY_DTYPE_CASE(f64, double, (__VA_ARGS__))      \
      OSPREY_DTYPE_CASE(i32, int32_t, (__VA_ARGS__))     \
      OSPREY_DTYPE_CASE(i64, int64_t, (__VA_ARGS__))     \
      OSPREY_DTYPE_CASE(u8, uint8_t, (__VA_ARGS__))      \
      default:                                           \
        ::osprey::throw_unsupported_dtype(DTYPE, WHERE); \
    }                                                    \
  }()

#define OSPREY_DISPATCH_ALL(DTYPE, WHERE, ...)                   \
  [&] {                                                          \
    switch (DTYPE) {                                             \
      OSPREY_DTYPE_CASE(f32, float, (__VA_ARGS__))               \
      OSPREY_DTYPE_CASE(f64, double, (__VA_ARGS__))              \
      OSPREY_DTYPE_CASE(f16, ::osprey::Half, (__VA_ARGS__))      \
      OSPREY_DTYPE_CASE(bf16, ::osprey::BFloat16, (__VA_ARGS__)) \
      OSPREY_DTYPE_CASE(i32, int32_t, (__VA_ARGS__))             \
      OSPREY_DTYPE_CASE(i64, int64_t, (__VA_ARGS__))             \
      OSPREY_DTYPE_CASE(u8, uint8_t, (__VA_ARGS__))              \
      OSPREY_DTYPE_CASE(boolean, bool, (__VA_ARGS__))            \
      default:                                                   \
        ::osprey::throw_unsupported_dtype(DTYPE, WHERE);         \
    }                                                            \
  }()
