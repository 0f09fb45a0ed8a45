// pad's shape rule (see pad.h and pad_geometry.h).
#include "ops/pad/pad_geometry.h"

#include "framework/core/error.h"

namespace osprey::ops::pad_detail {

PadGeometry pad_geometry(const Shape& input_shape, const std::vector<int64_t>& pad,
                         const std::string& mode, const char* op) {
  PadGeometry g;
  if (mode == "constant") {
    g.mode = PadMode::constant;
  } else if (mode == "reflect") {
    g.mode = PadMode::reflect;
  } else if (mode == "replicate") {
    g.mode = PadMode::replicate;
  } else {
    OSPREY_THROW(value, "{}: mode must be constant, reflect or replicate, got '{}'", op, mode);
  }
  const auto ndim = static_cast<int64_t>(input_shape.size());
  const auto pairs = static_cast<int64_t>(pad.size()) / 2;
  OSPREY_CHECK(pad.size() % 2 == 0, "{}: pad {} must have an even length (left, right pairs)", op,
               shape_str(pad));
  OSPREY_CHECK_KIND(shape, pairs <= ndim,
                    "{}: pad {} has {} pairs but the input {} has only {} dims", op, shape_str(pad),
                    pairs, shape_str(input_shape), ndim);
  g.input_shape = input_shape;
  g.output_shape = input_shape;
  g.left.assign(input_shape.size(), 0);
  for (int64_t k = 0; k < pairs; ++k) {
    const int64_t d = ndim - 1 - k;
    const int64_t left = pad[2 * k], right = pad[2 * k + 1], size = input_shape[d];
    if (g.mode == PadMode::constant) {
      OSPREY_CHECK_KIND(shape, size + left + right >= 0,
                        "{}: pad ({}, {}) of dim {} (size {}) of input {} leaves a negative size",
                        op, left, right, d, size, shape_str(input_shape));
    } else {
      OSPREY_CHECK(left >= 0 && right >= 0,
                   "{}: {} mode needs non-negative pad, got ({}, {}) for dim {}", op, mode, left,
                   right, d);
      if (g.mode == PadMode::reflect) {
        OSPREY_CHECK_KIND(shape, left < size && right < size,
                          "{}: reflect pad ({}, {}) of dim {} must be less than its size {} "
                          "(input {})",
                          op, left, right, d, size, shape_str(input_shape));
      } else if (left + right > 0) {
        OSPREY_CHECK_KIND(shape, size > 0,
                          "{}: replicate pad of dim {} needs a non-empty dim (input {})", op, d,
                          shape_str(input_shape));
      }
    }
    g.left[d] = left;
    g.output_shape[d] = size + left + right;
  }
  return g;
}

}  // namespace osprey::ops::pad_detail
