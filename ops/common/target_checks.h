// Argument checks shared by the detection target ops (anchor_targets, proposal_targets,
// rpn_proposals). Every error names the op and the argument, with the offending shape or value.
// Value checks copy the (small) box tensors to the host, so they also guard CUDA calls.
#pragma once

#include <cstdint>
#include <vector>

#include "framework/core/tensor.h"

namespace osprey::ops::target_checks {

// `t` is defined and has exactly `shape` (-1 = any size for that dim).
void check_shape(const char* op, const char* arg, const Tensor& t, const Shape& shape);
// `t` has the same floating dtype as `like` (f32 or f64).
void check_float_like(const char* op, const char* arg, const Tensor& t, const Tensor& like);
// Per-image counts: an integer tensor of shape (N), every value in [0, capacity]; returns them.
std::vector<int64_t> check_counts(const char* op, const char* arg, const Tensor& counts, int64_t n,
                                  int64_t capacity);
// Boxes (..., 4): finite, x2 >= x1 and y2 >= y1. With `counts` (one per image), `boxes` is
// (N, M, 4) and only the first counts[b] rows of image b are checked (the rest is padding).
void check_box_values(const char* op, const char* arg, const Tensor& boxes,
                      const std::vector<int64_t>* counts = nullptr);
// Every value finite.
void check_finite(const char* op, const char* arg, const Tensor& t);
// Image sizes (N, 2) as (height, width): finite and > 0.
void check_image_sizes(const char* op, const char* arg, const Tensor& sizes);

}  // namespace osprey::ops::target_checks
