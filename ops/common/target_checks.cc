// Host-side argument checks of the detection target ops (see target_checks.h).
#include "ops/common/target_checks.h"

#include <cmath>

#include "framework/core/error.h"

namespace osprey::ops::target_checks {

void check_shape(const char* op, const char* arg, const Tensor& t, const Shape& shape) {
  OSPREY_CHECK_KIND(value, t.defined(), "{}: argument '{}' is required", op, arg);
  bool ok = t.dim() == static_cast<int64_t>(shape.size());
  for (size_t d = 0; ok && d < shape.size(); ++d) ok = shape[d] < 0 || t.shape()[d] == shape[d];
  OSPREY_CHECK_KIND(shape, ok, "{}: argument '{}' must have shape {} (-1 = any), got {}", op, arg,
                    shape_str(shape), t.describe());
}

void check_float_like(const char* op, const char* arg, const Tensor& t, const Tensor& like) {
  OSPREY_CHECK_KIND(dtype, t.dtype() == DType::f32 || t.dtype() == DType::f64,
                    "{}: argument '{}' must be f32 or f64, got {}", op, arg, t.describe());
  OSPREY_CHECK_KIND(dtype, t.dtype() == like.dtype(),
                    "{}: argument '{}' must have the boxes' dtype {}, got {}", op, arg,
                    dtype_name(like.dtype()), t.describe());
}

std::vector<int64_t> check_counts(const char* op, const char* arg, const Tensor& counts, int64_t n,
                                  int64_t capacity) {
  check_shape(op, arg, counts, {n});
  OSPREY_CHECK_KIND(dtype, is_integral(counts.dtype()) && counts.dtype() != DType::boolean,
                    "{}: argument '{}' must be an integer tensor, got {}", op, arg,
                    counts.describe());
  std::vector<int64_t> values = counts.to(DType::i64).to_vector<int64_t>();
  for (int64_t b = 0; b < n; ++b) {
    OSPREY_CHECK(values[b] >= 0 && values[b] <= capacity,
                 "{}: argument '{}' [{}] = {} is out of range [0, {}] (image {} of {})", op, arg, b,
                 values[b], capacity, b, n);
  }
  return values;
}

void check_box_values(const char* op, const char* arg, const Tensor& boxes,
                      const std::vector<int64_t>* counts) {
  if (boxes.numel() == 0) return;
  std::vector<double> v = boxes.to(DType::f64).to_vector<double>();
  const int64_t rows = boxes.numel() / 4;
  const int64_t per_image = counts ? boxes.size(1) : rows;
  for (int64_t r = 0; r < rows; ++r) {
    if (counts && r % per_image >= (*counts)[r / per_image]) continue;
    const double* b = v.data() + 4 * r;
    const bool finite =
        std::isfinite(b[0]) && std::isfinite(b[1]) && std::isfinite(b[2]) && std::isfinite(b[3]);
    OSPREY_CHECK(finite, "{}: argument '{}' box {} ({}, {}, {}, {}) is not finite ({})", op, arg, r,
                 b[0], b[1], b[2], b[3], boxes.describe());
    OSPREY_CHECK(b[2] >= b[0] && b[3] >= b[1],
                 "{}: argument '{}' box {} ({}, {}, {}, {}) has x2 < x1 or y2 < y1 ({})", op, arg,
                 r, b[0], b[1], b[2], b[3], boxes.describe());
  }
}

void check_finite(const char* op, const char* arg, const Tensor& t) {
  std::vector<double> v = t.to(DType::f64).to_vector<double>();
  for (size_t i = 0; i < v.size(); ++i) {
    OSPREY_CHECK(std::isfinite(v[i]), "{}: argument '{}' element {} = {} is not finite ({})", op,
                 arg, i, v[i], t.describe());
  }
}

void check_image_sizes(const char* op, const char* arg, const Tensor& sizes) {
  std::vector<double> v = sizes.to(DType::f64).to_vector<double>();
  for (size_t i = 0; i < v.size(); ++i) {
    OSPREY_CHECK(std::isfinite(v[i]) && v[i] > 0,
                 "{}: argument '{}' [{}][{}] = {} must be a finite size > 0 ({})", op, arg, i / 2,
                 i % 2, v[i], sizes.describe());
  }
}

}  // namespace osprey::ops::target_checks
