// Validation and helpers shared by the optimiser update ops (see optim_update_util.h).
#include "ops/optim_update/optim_update_util.h"

#include <fmt/ranges.h>

#include <algorithm>

#include "framework/dispatch/op_def.h"

namespace osprey::ops {

void check_per_tensor_attr(const dispatch::KernelContext& ctx, const char* name, size_t size,
                           int64_t n) {
  OSPREY_CHECK(static_cast<int64_t>(size) == n,
               "{}: attribute '{}' has {} values for {} parameters; it needs one per parameter",
               ctx.op().schema.name, name, size, n);
}

void validate_update_groups(const dispatch::KernelContext& ctx,
                            const std::vector<const char*>& role_names, int64_t n) {
  const std::string& op = ctx.op().schema.name;
  const auto roles = static_cast<int64_t>(role_names.size());
  OSPREY_CHECK(n > 0 && ctx.num_inputs() == roles * n,
               "{}: expected {} groups ({}) of {} tensors, one per parameter, got {} tensors", op,
               roles, fmt::format("{}", fmt::join(role_names, ", ")), n, ctx.num_inputs());
  for (int64_t i = 0; i < n; ++i) {
    const Tensor& param = ctx.input(static_cast<int>(i));
    OSPREY_CHECK_KIND(dtype, param.dtype() == DType::f32 || param.dtype() == DType::f64,
                      "{}: {} #{} is {}; updates are defined for f32 and f64", op, role_names[0], i,
                      param.describe());
    for (int64_t r = 0; r < roles; ++r) {
      const Tensor& t = ctx.input(static_cast<int>(r * n + i));
      OSPREY_CHECK_KIND(shape, t.shape() == param.shape() && t.dtype() == param.dtype(),
                        "{}: {} #{} is {} but its {} is {}; they must match", op, role_names[r], i,
                        t.describe(), role_names[0], param.describe());
    }
  }
}

std::vector<Tensor> parameter_tensors(const dispatch::KernelContext& ctx, int64_t i, int roles) {
  const int64_t n = ctx.num_inputs() / roles;
  std::vector<Tensor> out;
  for (int r = 0; r < roles; ++r) out.push_back(ctx.input(static_cast<int>(r * n + i)));
  return out;
}

namespace {

// True when the tensor's elements fill [raw_data, raw_data + numel) exactly once.
bool is_dense(const Tensor& t) {
  std::vector<std::pair<int64_t, int64_t>> dims;  // (stride, size) of the dims that move
  for (int64_t d = 0; d < t.dim(); ++d) {
    if (t.size(d) == 0) return true;
    if (t.size(d) > 1) dims.emplace_back(t.stride(d), t.size(d));
  }
  std::sort(dims.begin(), dims.end());
  int64_t expected = 1;
  for (const auto& [stride, size] : dims) {
    if (stride != expected) return false;
    expected *= size;
  }
  return true;
}

}  // namespace

std::vector<Tensor> flat_operands(const std::vector<Tensor>& tensors) {
  bool shared = is_dense(tensors.front());
  for (const auto& t : tensors) shared = shared && t.strides() == tensors.front().strides();
  if (shared) return tensors;
  std::vector<Tensor> out;
  for (const auto& t : tensors) out.push_back(t.is_contiguous() ? t : t.contiguous());
  return out;
}

void write_back(const std::vector<Tensor>& tensors, const std::vector<Tensor>& operands,
                int skip_role) {
  for (size_t r = 0; r < tensors.size(); ++r) {
    if (static_cast<int>(r) != skip_role && !operands[r].is_same(tensors[r])) {
      Tensor target = tensors[r];
      target.copy_(operands[r]);
    }
  }
}

void bump_updated_versions(const dispatch::KernelContext& ctx, int roles, int skip_role) {
  const int n = ctx.num_inputs() / roles;
  for (int r = 0; r < roles; ++r) {
    if (r == skip_role) continue;
    for (int i = 0; i < n; ++i) ctx.input(r * n + i).bump_version();
  }
}

std::vector<Tensor> case_tensors(CaseRandom& rng, const std::vector<Shape>& shapes, DType dtype,
                                 double lo, double hi) {
  std::vector<Tensor> out;
  for (const auto& s : shapes) out.push_back(rng.uniform(s, dtype, lo, hi));
  return out;
}

}  // namespace osprey::ops
