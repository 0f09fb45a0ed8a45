// Padding of the trailing dims, as torch.nn.functional.pad.
//
//   pad(input; pad, mode="constant", value=0)
//       `pad` lists (left, right) pairs starting from the LAST dim: {l_last, r_last, l_prev, ...},
//       at most one pair per dim. Output size of a padded dim = size + left + right.
//       constant: new elements are `value`; negative amounts crop (the result must be >= 0).
//       reflect: element -j mirrors element j (the edge is not repeated); each amount must be in
//                [0, size - 1].
//       replicate: new elements copy the nearest edge element; the dim must be non-empty and the
//                amounts non-negative.
//       Any number of trailing dims may be padded in every mode (PyTorch limits reflect and
//       replicate to the last 1-3 dims; the rule here is the same per dim).
//       d output / d input: each output element's source gets its gradient (pad_backward).
//   pad_backward(grad_output; pad, mode, input_size) -> grad_input of shape input_size
//       sums the gradient of every output element into its source element (reflect and replicate
//       map several outputs to one source); constant-mode padding gets none. The adjoint of pad
//       with value 0, so pad is its derivative.
#pragma once

#include <string>

#include "framework/core/tensor.h"

namespace osprey::ops {

Tensor pad(const Tensor& input, const std::vector<int64_t>& pad,
           const std::string& mode = "constant", double value = 0.0);
Tensor pad_backward(const Tensor& grad_output, const std::vector<int64_t>& pad,
                    const std::string& mode, const std::vector<int64_t>& input_size);

}  // namespace osprey::ops
