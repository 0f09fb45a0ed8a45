// CPU references of box_encode, box_decode and box_decode_backward: inputs made contiguous, the
// per-box math of ops/common/box_geometry.h (and box_coder_math.h) one box at a time. f32/f64.
#include "ops/box_coder/box_coder_math.h"
#include "ops/common/box_checks.h"

namespace osprey::ops {
namespace {

void encode_reference(KernelContext& ctx) {
  const Tensor ref = ctx.input(0).contiguous();
  const Tensor boxes = ctx.input(1).contiguous();
  const int64_t n = ref.size(0);
  Tensor result = Tensor::empty({n, 4}, ref.dtype());
  OSPREY_DISPATCH_FLOAT(ref.dtype(), "box_encode", [&]<typename T>() {
    const box::DeltaWeights<T> w = box::delta_weights<T>(ctx.attrs());
    const T offset = static_cast<T>(box_offset(ctx.attrs()));
    for (int64_t i = 0; i < n; ++i) {
      box::encode(ref.data<T>() + 4 * i, boxes.data<T>() + 4 * i, w, offset,
                  result.data<T>() + 4 * i);
    }
  });
  ctx.output(0, {n, 4}, ref.dtype()).copy_(result);
}

// decode (Backward = false) or its gradient (true; input 2 is the output gradient).
template <bool Backward>
void decode_reference(KernelContext& ctx) {
  const Tensor ref = ctx.input(0).contiguous();
  const Tensor deltas = ctx.input(1).contiguous();
  const Tensor grad = Backward ? ctx.input(2).contiguous() : Tensor();
  const int64_t n = deltas.size(0), groups = deltas.size(1) / 4;
  Tensor result = Tensor::empty(deltas.shape(), ref.dtype());
  OSPREY_DISPATCH_FLOAT(ref.dtype(), ctx.op().schema.name.c_str(), [&]<typename T>() {
    const box::DeltaWeights<T> w = box::delta_weights<T>(ctx.attrs());
    const T offset = static_cast<T>(box_offset(ctx.attrs()));
    for (int64_t i = 0; i < n * groups; ++i) {
      const T* r = ref.data<T>() + 4 * (i / groups);
      const T* d = deltas.data<T>() + 4 * i;
      if constexpr (Backward) {
        box::decode_backward(r, d, grad.data<T>() + 4 * i, w, offset, result.data<T>() + 4 * i);
      } else {
        box::decode(r, d, w, offset, result.data<T>() + 4 * i);
      }
    }
  });
  ctx.output(0, deltas.shape(), ref.dtype()).copy_(result);
}

const bool registered = [] {
  register_kernel("box_encode", DeviceType::cpu, "reference", 0, encode_reference, inputs_are_float,
                  "box::encode per box; f32/f64");
  register_kernel("box_decode", DeviceType::cpu, "reference", 0, decode_reference<false>,
                  inputs_are_float, "box::decode per box and class; f32/f64");
  register_kernel("box_decode_backward", DeviceType::cpu, "reference", 0, decode_reference<true>,
                  inputs_are_float, "box::decode_backward per box and class; f32/f64");
  return true;
}();

}  // namespace
}  // namespace osprey::ops
