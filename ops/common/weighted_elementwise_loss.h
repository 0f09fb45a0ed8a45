// The scaffolding shared by the weighted element-wise losses (smooth_l1_loss, sigmoid_focal_loss):
// operands input, target and an optional weight of input's shape, a "none"/"sum"/"mean" reduction,
// and a backward op that takes grad_output first. Here: the op pair's registration, argument
// checks and backward cases. Each op keeps its own per-element formulas (a Loss and a Grad
// functor), attributes and derivative; the kernels that run those formulas over the tensors are
// in weighted_elementwise_loss_cpu.h and weighted_elementwise_loss_cuda.cuh.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ops/common/op_helpers.h"

namespace osprey::ops::weighted_loss {

// What differs between the weighted losses' op pairs: forward (input, target, weight) -> output,
// and name + "_backward" (grad_output, input, target, weight) -> grad_input.
struct OpPair {
  std::string name;
  bool target_differentiable = true;
  std::vector<AttrSpec> attrs;  // the op's own attributes and "reduction"
  void (*check_attrs)(const KernelContext&) = nullptr;
  dispatch::BackwardFn derivative;
  dispatch::CaseFn forward_cases;  // the backward op's cases: with_grad_output of these
  std::string doc, backward_doc;
};

// Registers both ops, validated by `validate` with the pair's check_attrs.
void register_op_pair(OpPair pair);

// Validates a weighted loss call: `first` is 0 for the forward op (input, target, weight) and 1
// for the backward op (grad_output, input, target, weight). Checks a floating input, equal dtypes,
// target and weight (when given) shaped like input, then `check_attrs` (the op's own attributes),
// then the reduction, then (backward) a grad_output shaped like the loss.
void validate(const KernelContext& ctx, int first, void (*check_attrs)(const KernelContext&));

// The backward op's cases: each forward case with a random grad_output shaped like its loss
// prepended (drawn from seed + 1).
std::vector<OpCase> with_grad_output(std::vector<OpCase> forward_cases, DType dtype, uint64_t seed);

// The factor the backward formula multiplies by: 1 / numel(input) for "mean", else 1.
double grad_scale(const KernelContext& ctx, const Tensor& input);

// `weight`, or (when absent) a scalar 1 on like's dtype and device, which broadcasts.
Tensor weight_or_one(const Tensor& weight, const Tensor& like);

}  // namespace osprey::ops::weighted_loss
