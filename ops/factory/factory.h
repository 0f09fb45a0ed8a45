// Tensor factories. zeros/ones/full(_like) are Tensor::empty + fill_ (the `fill` op, so they work
// on every device that has a fill kernel); arange is an op of its own (no inputs; its output is
// allocated here on the requested device and written through out=, so each device needs only an
// `arange` kernel). None of them records autograd: the results are leaves without requires_grad.
//
//   arange(start, end; step=1, dtype=f32)  values start + i*step for i in [0, n),
//                                          n = ceil((end - start) / step); step must be non-zero
//                                          and point from start towards end (or start == end).
//                                          Values are computed in double and cast to dtype.
#pragma once

#include "framework/core/tensor.h"

namespace osprey::ops {

Tensor zeros(const Shape& shape, DType dtype = DType::f32, Device device = Device::cpu());
Tensor ones(const Shape& shape, DType dtype = DType::f32, Device device = Device::cpu());
Tensor full(const Shape& shape, double value, DType dtype = DType::f32,
            Device device = Device::cpu());
// Same shape, dtype and device as `like` (contiguous; `like`'s values and autograd are ignored).
Tensor zeros_like(const Tensor& like);
Tensor ones_like(const Tensor& like);
Tensor full_like(const Tensor& like, double value);

Tensor arange(double start, double end, double step = 1.0, DType dtype = DType::f32,
              Device device = Device::cpu());
Tensor arange(double end, DType dtype = DType::f32, Device device = Device::cpu());  // from 0

// The number of values arange(start, end, step) produces; throws value errors for step == 0 or a
// step pointing away from end.
int64_t arange_length(double start, double end, double step);

}  // namespace osprey::ops
