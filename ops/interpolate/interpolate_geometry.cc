// interpolate's attribute checks, output size and source taps (the rules are in interpolate.h).
#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "framework/core/error.h"
#include "ops/interpolate/interpolate.h"
#include "ops/pool/pool_geometry.h"

namespace osprey::ops {
namespace {

// One value (both dims) or two (H, W).
template <typename V>
std::pair<V, V> pair_of(const std::vector<V>& v, const char* op, const char* name) {
  OSPREY_CHECK(v.size() == 1 || v.size() == 2, "{}: {} must have 1 or 2 values, got {}", op, name,
               v.size());
  return {v[0], v.size() == 2 ? v[1] : v[0]};
}

// The coordinate scale PyTorch uses along one dim; `scale_factor` is the user's, when given.
double coordinate_scale(int64_t in, int64_t out, std::optional<double> scale_factor,
                        bool align_corners) {
  if (align_corners) {
    return out > 1 ? static_cast<double>(in - 1) / static_cast<double>(out - 1) : 0.0;
  }
  return scale_factor ? 1.0 / *scale_factor : static_cast<double>(in) / static_cast<double>(out);
}

std::vector<InterpolateTap> axis_taps(int64_t in, int64_t out, std::optional<double> scale_factor,
                                      bool bilinear, bool align_corners) {
  std::vector<InterpolateTap> taps(static_cast<size_t>(out));
  const double scale = coordinate_scale(in, out, scale_factor, align_corners);
  for (int64_t d = 0; d < out; ++d) {
    InterpolateTap& t = taps[static_cast<size_t>(d)];
    // PyTorch short-cuts equal sizes to a copy, even when a scale_factor other than 1 gave them.
    if (in == out) {
      t.i0 = t.i1 = d;
      continue;
    }
    if (!bilinear) {
      // PyTorch's nearest short-cuts exact doubling, and otherwise computes in float for every
      // dtype; float decides which side of an integer a product like 3 * (1/3) lands on.
      const float fscale = scale_factor ? static_cast<float>(1.0 / *scale_factor)
                                        : static_cast<float>(in) / static_cast<float>(out);
      const int64_t src =
          out == 2 * in ? d / 2 : static_cast<int64_t>(std::floor(static_cast<float>(d) * fscale));
      t.i0 = t.i1 = std::min(src, in - 1);
      continue;
    }
    double src = align_corners ? scale * static_cast<double>(d)
                               : scale * (static_cast<double>(d) + 0.5) - 0.5;
    src = std::max(src, 0.0);
    t.i0 = std::min(static_cast<int64_t>(std::floor(src)), in - 1);
    t.i1 = t.i0 < in - 1 ? t.i0 + 1 : t.i0;
    t.w1 = std::clamp(src - static_cast<double>(t.i0), 0.0, 1.0);
    t.w0 = 1.0 - t.w1;
  }
  return taps;
}

}  // namespace

Interpolate2d interpolate_geometry(const dispatch::Attrs& attrs, const Shape& input_shape,
                                   const char* op) {
  check_image_shape(input_shape, op, "input");
  const std::string& mode = attrs.get_string("mode");
  OSPREY_CHECK(mode == "nearest" || mode == "bilinear",
               "{}: mode must be \"nearest\" or \"bilinear\", got \"{}\"", op, mode);
  const bool bilinear = mode == "bilinear";
  const bool align_corners = attrs.get_bool("align_corners");
  OSPREY_CHECK(bilinear || !align_corners,
               "{}: align_corners can only be set with mode \"bilinear\", not \"{}\"", op, mode);
  const std::vector<int64_t> size = attrs.get_ints("size");
  const std::vector<double> scale = attrs.get_floats("scale_factor");
  OSPREY_CHECK(size.empty() != scale.empty(),
               "{}: exactly one of size and scale_factor must be given, got size {} and "
               "scale_factor with {} values",
               op, shape_str(size), scale.size());

  Interpolate2d g;
  g.input = input_shape;
  const int64_t in_h = input_shape[2], in_w = input_shape[3];
  std::optional<double> scale_h, scale_w;
  if (!size.empty()) {
    std::tie(g.out_h, g.out_w) = pair_of(size, op, "size");
  } else {
    auto [sh, sw] = pair_of(scale, op, "scale_factor");
    OSPREY_CHECK(sh > 0.0 && sw > 0.0 && std::isfinite(sh) && std::isfinite(sw),
                 "{}: scale_factor must be positive and finite, got ({}, {})", op, sh, sw);
    scale_h = sh;
    scale_w = sw;
    g.out_h = static_cast<int64_t>(std::floor(static_cast<double>(in_h) * sh));
    g.out_w = static_cast<int64_t>(std::floor(static_cast<double>(in_w) * sw));
  }
  OSPREY_CHECK_KIND(shape, g.out_h > 0 && g.out_w > 0,
                    "{}: the output size must be positive, got {}x{} for input {}", op, g.out_h,
                    g.out_w, shape_str(input_shape));
  g.rows = axis_taps(in_h, g.out_h, scale_h, bilinear, align_corners);
  g.cols = axis_taps(in_w, g.out_w, scale_w, bilinear, align_corners);
  return g;
}

}  // namespace osprey::ops
