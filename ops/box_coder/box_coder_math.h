// The per-box math of the box coder kernels (CPU and CUDA share it): the weights from the
// attributes, and the gradient of decode with respect to one box's deltas (see box_coder.h).
#pragma once

#include "framework/dispatch/attributes.h"
#include "ops/common/box_geometry.h"

namespace osprey::ops::box {

template <typename T>
OSPREY_INLINE void decode_backward(const T* reference, const T* delta, const T* grad,
                                   const DeltaWeights<T>& w, T offset, T* grad_delta) {
  const T rw = width(reference, offset), rh = height(reference, offset);
  const T sw = delta[2] / w.ww, sh = delta[3] / w.wh;
  const T pw = sw <= w.clip ? std::exp(sw) * rw : T(0);
  const T ph = sh <= w.clip ? std::exp(sh) * rh : T(0);
  grad_delta[0] = (grad[0] + grad[2]) * rw / w.wx;
  grad_delta[1] = (grad[1] + grad[3]) * rh / w.wy;
  grad_delta[2] = (grad[2] - grad[0]) * T(0.5) * pw / w.ww;
  grad_delta[3] = (grad[3] - grad[1]) * T(0.5) * ph / w.wh;
}

// (wx, wy, ww, wh) from the `weights` attribute, and `clip` where the op has it (decode).
template <typename T>
DeltaWeights<T> delta_weights(const dispatch::Attrs& attrs) {
  const std::vector<double> w = attrs.get_floats("weights");
  DeltaWeights<T> d;
  d.wx = static_cast<T>(w[0]), d.wy = static_cast<T>(w[1]);
  d.ww = static_cast<T>(w[2]), d.wh = static_cast<T>(w[3]);
  if (attrs.has("clip")) d.clip = static_cast<T>(attrs.get_float("clip"));
  return d;
}

}  // namespace osprey::ops::box
