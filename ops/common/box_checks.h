// Argument checks shared by the box ops (box_iou, nms, batched_nms, soft_nms, the box coder, ...),
// run once at the op boundary from each op's validate. Errors name the op, the argument and the
// shapes. Value checks (NaN, x2 < x1) read the coordinates on the host: for GPU inputs that is one
// copy and one synchronisation per call, the price of a clear error instead of silent garbage —
// except where the op's CUDA kernel checks the values itself (nms, batched_nms: a device reduction
// to the first bad row, read back with the kept count): their validate passes
// values = !kernel_checks_values(ctx), and the kernel reports through throw_bad_box /
// throw_nan_score, so the messages are the host check's word for word.
#pragma once

#include "ops/common/op_helpers.h"

namespace osprey::ops {

// Input `i` is floating point with shape [N, 4] (x1, y1, x2, y2), no coordinate is NaN and every
// box has x2 >= x1 and y2 >= y1 (degenerate boxes are allowed).
// values = false: shape and dtype only (the kernel checks the values).
void check_boxes(const KernelContext& ctx, int i, bool values = true);
// Input `i` has no NaN (deltas).
void check_no_nan(const KernelContext& ctx, int i);
// Input `i` is 1-d with `n` elements, of input `like`'s dtype, and has no NaN.
void check_box_scores(const KernelContext& ctx, int i, int like, int64_t n, bool values = true);
// True when every defined input is on a CUDA device (so a CUDA kernel runs and, for the ops whose
// CUDA kernels check values on the device, the host value checks are skipped).
bool kernel_checks_values(const KernelContext& ctx);
// The errors of a bad box (row `row` of argument `arg`, its 4 values: the NaN message when one is
// NaN, else the x2 < x1 / y2 < y1 one) and of a NaN score, shared by host and device checks.
[[noreturn]] void throw_bad_box(const std::string& op, const std::string& arg, int64_t row,
                                const double* b);
[[noreturn]] void throw_nan_score(const std::string& op, const std::string& arg, int64_t index);
// The 0/1 offset of the pixel convention selected by the `legacy_plus_one` attribute.
double box_offset(const dispatch::Attrs& attrs);

}  // namespace osprey::ops
