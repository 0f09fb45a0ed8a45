// Readable printing: nested brackets, values in a common format, long dims elided with "...".
#include <fmt/format.h>

#include <cmath>

#include "framework/core/tensor.h"

namespace osprey {
namespace {

std::string format_value(double v, bool integral) {
  if (integral) return fmt::format("{}", static_cast<int64_t>(v));
  if (std::isnan(v) || std::isinf(v)) return fmt::format("{}", v);
  return fmt::format("{:.4g}", v);
}

void print_dim(std::string& out, const std::vector<double>& values, const Shape& shape,
               const Shape& strides, int64_t dim, int64_t base, int64_t max_per_dim, bool integral,
               int indent) {
  if (dim == static_cast<int64_t>(shape.size())) {
    out += format_value(values[base], integral);
    return;
  }
  out += "[";
  int64_t n = shape[dim];
  bool elide = n > max_per_dim;
  int64_t head = elide ? max_per_dim / 2 : n;
  for (int64_t i = 0; i < n; ++i) {
    if (elide && i == head) {
      out += dim + 1 == static_cast<int64_t>(shape.size())
                 ? "..., "
                 : "...,\n" + std::string(indent + 1, ' ');
      i = n - max_per_dim / 2;
    }
    print_dim(out, values, shape, strides, dim + 1, base + i * strides[dim], max_per_dim, integral,
              indent + 1);
    if (i + 1 < n) {
      out += dim + 1 == static_cast<int64_t>(shape.size()) ? ", "
                                                           : ",\n" + std::string(indent + 1, ' ');
    }
  }
  out += "]";
}

}  // namespace

std::string Tensor::str(int64_t max_per_dim) const {
  if (!defined()) return "tensor(undefined)";
  std::vector<double> values = to_vector<double>();
  std::string out = "tensor(" + describe() + (requires_grad() ? ", requires_grad" : "") + ",\n ";
  print_dim(out, values, shape(), contiguous_strides(shape()), 0, 0,
            std::max<int64_t>(max_per_dim, 2), !is_floating(dtype()), 1);
  return out + ")";
}

}  // namespace osprey
