// Shared argument checks of the box ops (see box_checks.h).
#include "ops/common/box_checks.h"

#include <cmath>

#include "framework/autograd/grad_mode.h"

namespace osprey::ops {
namespace {

const std::string& arg_name(const KernelContext& ctx, int i) {
  return ctx.op().schema.input_spec(i).name;
}

// Row-major values on the host, in double (exact for f32/f64/f16 inputs).
std::vector<double> host_values(const Tensor& t) {
  autograd::NoGradGuard no_grad;
  return t.detach().to(Device::cpu(), DType::f64).to_vector<double>();
}

void check_shape_n4(const KernelContext& ctx, int i) {
  const Tensor& t = ctx.input(i);
  const std::string& op = ctx.op().schema.name;
  if (!is_floating(t.dtype())) {
    OSPREY_THROW(dtype, "{}: '{}' must be floating point, got {}", op, arg_name(ctx, i),
                 t.describe());
  }
  OSPREY_CHECK_KIND(shape, t.dim() == 2 && t.size(1) == 4,
                    "{}: '{}' must have shape [N, 4] (x1, y1, x2, y2), got {}", op,
                    arg_name(ctx, i), t.describe());
}

}  // namespace

void check_no_nan(const KernelContext& ctx, int i) {
  const std::vector<double> v = host_values(ctx.input(i));
  for (size_t k = 0; k < v.size(); ++k) {
    OSPREY_CHECK(!std::isnan(v[k]), "{}: '{}' {} has NaN at flat index {}", ctx.op().schema.name,
                 arg_name(ctx, i), ctx.input(i).describe(), k);
  }
}

void check_boxes(const KernelContext& ctx, int i) {
  check_shape_n4(ctx, i);
  const std::vector<double> v = host_values(ctx.input(i));
  const std::string& op = ctx.op().schema.name;
  for (size_t r = 0; r * 4 < v.size(); ++r) {
    const double* b = v.data() + r * 4;
    OSPREY_CHECK(!std::isnan(b[0]) && !std::isnan(b[1]) && !std::isnan(b[2]) && !std::isnan(b[3]),
                 "{}: '{}' box {} has a NaN coordinate ({}, {}, {}, {})", op, arg_name(ctx, i), r,
                 b[0], b[1], b[2], b[3]);
    OSPREY_CHECK(b[2] >= b[0] && b[3] >= b[1],
                 "{}: '{}' box {} = ({}, {}, {}, {}) has x2 < x1 or y2 < y1 (boxes are x1, y1, x2, "
                 "y2)",
                 op, arg_name(ctx, i), r, b[0], b[1], b[2], b[3]);
  }
}

void check_box_scores(const KernelContext& ctx, int i, int like, int64_t n) {
  const Tensor& t = ctx.input(i);
  const std::string& op = ctx.op().schema.name;
  OSPREY_CHECK_KIND(dtype, t.dtype() == ctx.input(like).dtype(),
                    "{}: '{}' {} must have the dtype of '{}' {}", op, arg_name(ctx, i),
                    t.describe(), arg_name(ctx, like), ctx.input(like).describe());
  OSPREY_CHECK_KIND(shape, t.dim() == 1 && t.size(0) == n,
                    "{}: '{}' must have shape [{}] (one per box of '{}' {}), got {}", op,
                    arg_name(ctx, i), n, arg_name(ctx, like), ctx.input(like).describe(),
                    t.describe());
  const std::vector<double> v = host_values(t);
  for (size_t k = 0; k < v.size(); ++k) {
    OSPREY_CHECK(!std::isnan(v[k]), "{}: '{}' has NaN at index {}", op, arg_name(ctx, i), k);
  }
}

double box_offset(const dispatch::Attrs& attrs) {
  return attrs.get_bool("legacy_plus_one") ? 1.0 : 0.0;
}

}  // namespace osprey::ops
