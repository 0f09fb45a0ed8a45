// Dropout with a Philox mask that CPU and CUDA can draw identically.
//
//   dropout(input; p=0.5, training=true, seed, offset) -> (output, mask)
//       element i is kept when u_i < 1 - p, u_i in [0, 1) drawn exactly as bernoulli draws it
//       (lane i%4 of Philox block offset + i/4, see ops/random/random.h), so the mask equals
//       bernoulli(full(1 - p)) at the same (seed, offset). output_i = input_i * mask_i / (1 - p);
//       mask is a bool tensor of the input's shape (not differentiable).
//       training=false or p=0: output = input, mask all true. p=1: output and mask all zero.
//       d output / d input = mask / (1 - p), applied by dropout_backward.
//   dropout_backward(grad_output, mask; p) -> grad_input = grad_output * mask / (1 - p)
//       (0 where p = 1). Linear in grad_output, so it is its own derivative.
#pragma once

#include "framework/core/tensor.h"
#include "framework/random/generator.h"

namespace osprey::ops {

// {output, mask}. Draws from `generator` only when it needs random numbers (training, 0 < p < 1).
std::vector<Tensor> dropout_with_mask(const Tensor& input, double p, bool training,
                                      random::Generator& generator = random::default_generator());
Tensor dropout(const Tensor& input, double p = 0.5, bool training = true,
               random::Generator& generator = random::default_generator());
Tensor dropout_backward(const Tensor& grad_output, const Tensor& mask, double p);

}  // namespace osprey::ops
