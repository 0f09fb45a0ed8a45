// Shared by sgd_update and adamw_update: the grouped variadic input list (n tensors per role) and
// the checks on it, the version bump after an in-place update, and the case-list tensors.
#pragma once

#include <cstdint>
#include <vector>

#include "framework/dispatch/kernel.h"
#include "ops/common/case_helpers.h"

namespace osprey::ops {

// Checks that the per-tensor attribute `name` has n values (one per parameter).
void check_per_tensor_attr(const dispatch::KernelContext& ctx, const char* name, size_t size,
                           int64_t n);

// Checks that the call holds `role_names.size()` groups of n tensors (n > 0, the number of
// per-parameter values) and that every tensor of a parameter matches the parameter's shape and
// dtype (f32 or f64). Layouts may differ (see flat_operands).
void validate_update_groups(const dispatch::KernelContext& ctx,
                            const std::vector<const char*>& role_names, int64_t n);

// The tensors of parameter i (one per role, in role order).
std::vector<Tensor> parameter_tensors(const dispatch::KernelContext& ctx, int64_t i, int roles);

// What an element-wise update of one parameter works on, so that element k of every operand is
// the same element: the tensors themselves when they share one layout that covers its storage
// span without gaps (contiguous, channels-last, ...; the usual case), else contiguous copies.
std::vector<Tensor> flat_operands(const std::vector<Tensor>& tensors);
// Copies the operands that flat_operands had to copy back into the given tensors, except role
// `skip_role` (the gradient, which is only read).
void write_back(const std::vector<Tensor>& tensors, const std::vector<Tensor>& operands,
                int skip_role);

// Bumps the version of every tensor of the groups that the update writes (all but `skip_role`),
// so that a backward that saved one of them notices the change.
void bump_updated_versions(const dispatch::KernelContext& ctx, int roles, int skip_role);

// A parameter-shaped list of tensors for case lists: one per shape, uniform in [lo, hi).
std::vector<Tensor> case_tensors(CaseRandom& rng, const std::vector<Shape>& shapes, DType dtype,
                                 double lo, double hi);

}  // namespace osprey::ops
