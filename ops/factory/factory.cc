// zeros/ones/full and their _like forms: no op of their own, an empty tensor filled in place.
#include "ops/factory/factory.h"

#include "framework/autograd/grad_mode.h"

namespace osprey::ops {

Tensor full(const Shape& shape, double value, DType dtype, Device device) {
  autograd::NoGradGuard no_grad;
  Tensor out = Tensor::empty(shape, dtype, device);
  out.fill_(value);
  return out;
}

Tensor zeros(const Shape& shape, DType dtype, Device device) {
  return full(shape, 0.0, dtype, device);
}
Tensor ones(const Shape& shape, DType dtype, Device device) {
  return full(shape, 1.0, dtype, device);
}

Tensor full_like(const Tensor& like, double value) {
  return full(like.shape(), value, like.dtype(), like.device());
}
Tensor zeros_like(const Tensor& like) {
  return full_like(like, 0.0);
}
Tensor ones_like(const Tensor& like) {
  return full_like(like, 1.0);
}

}  // namespace osprey::ops
