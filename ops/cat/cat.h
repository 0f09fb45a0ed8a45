// Joining and splitting along a dim.
//
//   cat(tensors...; dim=0)    joins tensors of equal rank whose sizes agree except in `dim`.
//                             As in PyTorch, 1-d empty tensors ([0]) are skipped whatever the
//                             others' rank. d/dtensors[i] = narrow(g, dim, offset_i, size_i).
//   stack(tensors...; dim=0)  joins tensors of one shape along a new dim (-rank-1 <= dim <= rank).
//                             d/dtensors[i] = select(g, dim, i).
//   split(input, split_size | sizes; dim=0)  views of consecutive pieces of `dim` (narrow, so
//                             gradients flow through slice); the last piece of a split_size split
//                             may be smaller. chunk(input, chunks; dim=0) makes `chunks` pieces
//                             of ceil(size / chunks) (fewer when the size runs out).
//   unbind(input; dim=0)      the size(dim) views select(input, dim, i), the inverse of stack.
// Inputs of cat and stack must share a dtype (any dtype) and a device.
#pragma once

#include <vector>

#include "framework/core/tensor.h"
#include "ops/common/op_helpers.h"

namespace osprey::ops {

Tensor cat(const std::vector<Tensor>& tensors, int64_t dim = 0);
Tensor stack(const std::vector<Tensor>& tensors, int64_t dim = 0);
std::vector<Tensor> split(const Tensor& input, int64_t split_size, int64_t dim = 0);
std::vector<Tensor> split(const Tensor& input, const std::vector<int64_t>& sizes, int64_t dim = 0);
std::vector<Tensor> chunk(const Tensor& input, int64_t chunks, int64_t dim = 0);
std::vector<Tensor> unbind(const Tensor& input, int64_t dim = 0);

// Shape rules shared by the ops' validation and their kernels (errors name the op, the tensor's
// position and both shapes). `dim` comes back wrapped.
Shape cat_shape(const std::vector<Tensor>& tensors, int64_t& dim);
Shape stack_shape(const std::vector<Tensor>& tensors, int64_t& dim);
// True for the 1-d empty tensors that cat skips.
inline bool cat_skips(const Tensor& t) {
  return t.dim() == 1 && t.size(0) == 0;
}

// The body every device's cat and stack kernel shares: allocates the output, then calls
// copy(slot, input) for each non-empty input with its slot of the output. Slots are strided views
// made here, not through the dispatcher, so the call's kernel key stays the calling kernel's.
using SlotCopyFn = void (*)(const Tensor& dst, const Tensor& src);
void cat_into_slots(KernelContext& ctx, SlotCopyFn copy);
void stack_into_slots(KernelContext& ctx, SlotCopyFn copy);

}  // namespace osprey::ops
