// The CUDA core of greedy NMS, shared by the nms and batched_nms CUDA kernels (nms_cuda.cu).
#pragma once

#include "framework/core/tensor.h"
#include "framework/dispatch/kernel.h"
#include "ops/nms/segmented_nms.h"

namespace osprey::ops {

// Kept indices (i64 [K], on the boxes' device) of greedy NMS over the kernel's inputs boxes [N, 4]
// and scores [N] (any strides, f32/f64, N > 0) with its iou_threshold / legacy_plus_one
// attributes; `groups` (i64 [N]) undefined for nms, else boxes of different groups never
// suppress each other. Same order and decisions as the CPU reference. Also checks the box and
// score values on the device (the op's validate skips them for CUDA inputs) and throws the host
// check's error naming the op, argument and first offending row.
Tensor nms_cuda_keep(const dispatch::KernelContext& ctx, const Tensor& groups);

// The most boxes nms_cuda_keep takes: the segmented scan's limit (one removed bit per box in
// shared memory).
inline constexpr int64_t kNmsCudaMaxBoxes = segmented_nms::kMaxSegmentBoxes;

}  // namespace osprey::ops
