// Shared argument checks of the box ops (see box_checks.h).
#include "ops/common/box_checks.h"

#include <cmath>

#include "framework/autograd/grad_mode.h"
#include "ops/common/box_value_check.h"

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

void throw_bad_box(const std::string& op, const std::string& arg, int64_t row, const double* b) {
  OSPREY_CHECK(!std::isnan(b[0]) && !std::isnan(b[1]) && !std::isnan(b[2]) && !std::isnan(b[3]),
               "{}: '{}' box {} has a NaN coordinate ({}, {}, {}, {})", op, arg, row, b[0], b[1],
               b[2], b[3]);
  OSPREY_THROW(value,
               "{}: '{}' box {} = ({}, {}, {}, {}) has x2 < x1 or y2 < y1 (boxes are x1, y1, x2, "
               "y2)",
               op, arg, row, b[0], b[1], b[2], b[3]);
}

void throw_nan_score(const std::string& op, const std::string& arg, int64_t index) {
  OSPREY_THROW(value, "{}: '{}' has NaN at index {}", op, arg, index);
}

bool kernel_checks_values(const KernelContext& ctx) {
  for (int i = 0; i < ctx.num_inputs(); ++i) {
    if (ctx.input(i).defined() && !ctx.input(i).device().is_cuda()) return false;
  }
  return true;
}

void check_boxes(const KernelContext& ctx, int i, bool values) {
  check_shape_n4(ctx, i);
  if (!values) return;
  const std::vector<double> v = host_values(ctx.input(i));
  for (size_t r = 0; r * 4 < v.size(); ++r) {
    if (bad_box(v.data() + r * 4)) {
      throw_bad_box(ctx.op().schema.name, arg_name(ctx, i), static_cast<int64_t>(r),
                    v.data() + r * 4);
    }
  }
}

void check_box_scores(const KernelContext& ctx, int i, int like, int64_t n, bool values) {
  const Tensor& t = ctx.input(i);
  const std::string& op = ctx.op().schema.name;
  OSPREY_CHECK_KIND(dtype, t.dtype() == ctx.input(like).dtype(),
                    "{}: '{}' {} must have the dtype of '{}' {}", op, arg_name(ctx, i),
                    t.describe(), arg_name(ctx, like), ctx.input(like).describe());
  OSPREY_CHECK_KIND(shape, t.dim() == 1 && t.size(0) == n,
                    "{}: '{}' must have shape [{}] (one per box of '{}' {}), got {}", op,
                    arg_name(ctx, i), n, arg_name(ctx, like), ctx.input(like).describe(),
                    t.describe());
  if (!values) return;
  const std::vector<double> v = host_values(t);
  for (size_t k = 0; k < v.size(); ++k) {
    if (std::isnan(v[k])) throw_nan_score(op, arg_name(ctx, i), static_cast<int64_t>(k));
  }
}

double box_offset(const dispatch::Attrs& attrs) {
  return attrs.get_bool("legacy_plus_one") ? 1.0 : 0.0;
}

}  // namespace osprey::ops
