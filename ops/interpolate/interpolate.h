// 2-d resizing of N x C x H x W images with PyTorch's interpolate semantics and argument names.
// Inputs may be in any layout (contiguous NCHW, channels-last, other strides); outputs are
// contiguous NCHW.
//
//   interpolate(input; size=[], scale_factor=[], mode="nearest", align_corners=false) -> output
//       Exactly one of size (OH, OW) and scale_factor (sH, sW) is given; one value is used for both
//       dims. With scale_factor the output size is floor(in * s), and, as PyTorch does by default
//       (recompute_scale_factor=None), the coordinate scale is 1/s, not in/out; with size it is
//       in/out. For align_corners=true the scale is (in-1)/(out-1) (0 when out is 1) either way.
//     "nearest": PyTorch's legacy nearest, src = min(floor(dst * scale), in - 1), computed in float
//       as PyTorch does for every dtype (it decides ties like 3 * (1/3)); an output twice the
//       input's size reads dst / 2 exactly.
//     "bilinear": src = scale * (dst + 0.5) - 0.5 clamped below at 0 (align_corners=false) or
//       src = scale * dst (align_corners=true); the output mixes rows floor(src) and the next one
//       (the same one at the last row) with weights 1 - frac and frac, and the columns alike.
//       align_corners=true with "nearest" is an error, as in PyTorch. Bilinear coordinates and
//       weights are computed in double (PyTorch: in the input's dtype), so f32 results may differ
//       from PyTorch's in the last bits. Equal input and output sizes copy, as in PyTorch.
//   interpolate_backward(grad_output; input_size, size, scale_factor, mode, align_corners)
//       the gradient of the input (shape input_size) from the output's: every output's gradient
//       scattered back with the weights the forward used. It is linear, and its own gradient is
//       the forward interpolate with the same arguments (the two are adjoint).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "framework/core/tensor.h"
#include "framework/dispatch/attributes.h"

namespace osprey::ops {

Tensor interpolate(const Tensor& input, const std::vector<int64_t>& size = {},
                   const std::vector<double>& scale_factor = {},
                   const std::string& mode = "nearest", bool align_corners = false);
Tensor interpolate_backward(const Tensor& grad_output, const std::vector<int64_t>& input_size,
                            const std::vector<int64_t>& size = {},
                            const std::vector<double>& scale_factor = {},
                            const std::string& mode = "nearest", bool align_corners = false);

// One output row (or column) reads source rows i0 and i1 with weights w0 and w1 (nearest: i1 = i0,
// w1 = 0).
struct InterpolateTap {
  int64_t i0 = 0, i1 = 0;
  double w0 = 1.0, w1 = 0.0;
};

// The resize of one input shape, parsed and checked from interpolate's attributes.
struct Interpolate2d {
  Shape input;  // [N, C, H, W]
  int64_t out_h = 0, out_w = 0;
  std::vector<InterpolateTap> rows, cols;  // one per output row / column
  Shape output_shape() const { return {input[0], input[1], out_h, out_w}; }
};

// Checks the attributes against `input_shape` (errors name `op` and the argument) and computes the
// output size and every row's and column's taps.
Interpolate2d interpolate_geometry(const dispatch::Attrs& attrs, const Shape& input_shape,
                                   const char* op);

}  // namespace osprey::ops
