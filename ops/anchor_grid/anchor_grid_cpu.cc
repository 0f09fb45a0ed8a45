// CPU reference of anchor_grid: the base anchors (anchor_grid.cc), shifted to every position,
// computed in double and converted once.
#include "ops/anchor_grid/anchor_grid.h"
#include "ops/common/op_helpers.h"

namespace osprey::ops {
namespace {

void anchor_grid_reference(KernelContext& ctx) {
  const Attrs& a = ctx.attrs();
  const std::vector<double> base =
      base_anchors(a.get_int("base_size"), a.get_floats("scales"), a.get_floats("ratios"),
                   a.get_bool("legacy_plus_one"));
  const std::vector<int64_t> size = a.get_ints("map_size");
  const int64_t count = static_cast<int64_t>(base.size()) / 4;
  const double stride = static_cast<double>(a.get_int("stride"));
  std::vector<double> v;
  v.reserve(static_cast<size_t>(size[0] * size[1] * count * 4));
  for (int64_t y = 0; y < size[0]; ++y) {
    for (int64_t x = 0; x < size[1]; ++x) {
      const double sx = static_cast<double>(x) * stride, sy = static_cast<double>(y) * stride;
      for (int64_t k = 0; k < count; ++k) {
        const double* b = base.data() + 4 * k;
        v.insert(v.end(), {b[0] + sx, b[1] + sy, b[2] + sx, b[3] + sy});
      }
    }
  }
  const int64_t n = size[0] * size[1] * count;
  const DType dtype = a.get_dtype("dtype");
  ctx.output(0, {n, 4}, dtype).copy_(Tensor::from_vector<double>(v, {n, 4}).to(dtype));
}

const bool registered = [] {
  register_kernel("anchor_grid", DeviceType::cpu, "reference", 0, anchor_grid_reference, {},
                  "base anchors shifted to every position, in double");
  return true;
}();

}  // namespace
}  // namespace osprey::ops
