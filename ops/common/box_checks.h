// Argument checks shared by the box ops (box_iou, nms, batched_nms, soft_nms, the box coder, ...),
// run once at the op boundary from each op's validate. Errors name the op, the argument and the
// shapes. Value checks (NaN, x2 < x1) read the coordinates on the host: for GPU inputs that is one
// copy and one synchronisation per call, the price of a clear error instead of silent garbage.
#pragma once

#include "ops/common/op_helpers.h"

namespace osprey::ops {

// Input `i` is floating point with shape [N, 4] (x1, y1, x2, y2), no coordinate is NaN and every
// box has x2 >= x1 and y2 >= y1 (degenerate boxes are allowed).
void check_boxes(const KernelContext& ctx, int i);
// Input `i` has no NaN (deltas).
void check_no_nan(const KernelContext& ctx, int i);
// Input `i` is 1-d with `n` elements, of input `like`'s dtype, and has no NaN.
void check_box_scores(const KernelContext& ctx, int i, int like, int64_t n);
// The 0/1 offset of the pixel convention selected by the `legacy_plus_one` attribute.
double box_offset(const dispatch::Attrs& attrs);

}  // namespace osprey::ops
