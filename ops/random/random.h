// Random tensors from the Philox 4x32-10 stream (framework/random/philox.h). None is
// differentiable. Every op takes the stream position as attributes `seed` and `offset`, so a call
// is a pure function of its attributes and replays exactly; the C++ functions below take them
// from a Generator, which then advances past the blocks the op used.
//
//   uniform(; shape, low=0, high=1, seed, offset, dtype=f32)
//       element i = low + (high - low) * u_i, u_i in [0, 1) from lane i%4 of block offset + i/4
//       (floats take the top 24 bits, doubles all 32); a value that rounds up to `high` is
//       replaced by `low`, so the result stays in [low, high).
//   normal(; shape, mean=0, std=1, seed, offset, dtype=f32)
//       Box-Muller: block offset + i/4 gives two (u1, u2) pairs (lanes 0-1 and 2-3); each pair
//       gives rho*cos(theta) and rho*sin(theta) with rho = sqrt(-2 ln u1), theta = 2 pi u2,
//       u1 in (0, 1]. CPU and CUDA draw the same uniforms; the normals agree up to the rounding
//       of the two math libraries (a few ulp).
//   bernoulli(input; seed, offset)
//       element i = 1 if u_i < input_i else 0 (u_i as for uniform, in the input's precision),
//       same shape and dtype as the probabilities; p outside [0, 1] acts as clamped.
//   randperm(; n, seed, offset) -> i64[n]
//       a uniformly random permutation of 0..n-1 by Fisher-Yates: for k = 0 .. n-2 the position
//       j = n-1-k swaps with position r_k mod (j+1), where r_k is the 64-bit number made of lanes
//       2(k%2) (low word) and 2(k%2)+1 (high word) of block offset + k/2. The bias of the modulo
//       is below n / 2^64. A sequential algorithm: the CUDA kernel (given a CUDA out=) runs the
//       same shuffle on the host and copies it over (randperm_cuda.cu).
#pragma once

#include "framework/core/tensor.h"
#include "framework/random/generator.h"

namespace osprey::ops {

Tensor uniform(const Shape& shape, double low = 0.0, double high = 1.0,
               random::Generator& generator = random::default_generator(), DType dtype = DType::f32,
               Device device = Device::cpu());
Tensor normal(const Shape& shape, double mean = 0.0, double std = 1.0,
              random::Generator& generator = random::default_generator(), DType dtype = DType::f32,
              Device device = Device::cpu());
// On the probabilities' device, in their dtype.
Tensor bernoulli(const Tensor& probabilities,
                 random::Generator& generator = random::default_generator());
Tensor randperm(int64_t n, random::Generator& generator = random::default_generator());

}  // namespace osprey::ops
