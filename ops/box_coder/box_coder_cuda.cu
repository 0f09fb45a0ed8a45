// CUDA kernels of box_encode, box_decode and box_decode_backward: one thread per box (per box
// and class for decode), the per-box math of box_geometry.h / box_coder_math.h as on the CPU.
#include "ops/box_coder/box_coder_math.h"
#include "ops/common/box_checks.h"
#include "ops/common/box_cuda.cuh"

namespace osprey::ops {
namespace {

template <typename T>
struct EncodeOp {
  box::DeltaWeights<T> w;
  T offset;
  __device__ void operator()(int64_t i, T* out, const T* ref, const T* boxes) const {
    box::encode(ref + 4 * i, boxes + 4 * i, w, offset, out + 4 * i);
  }
};

template <typename T>
struct DecodeOp {
  box::DeltaWeights<T> w;
  T offset;
  int64_t groups;
  __device__ void operator()(int64_t i, T* out, const T* ref, const T* deltas) const {
    box::decode(ref + 4 * (i / groups), deltas + 4 * i, w, offset, out + 4 * i);
  }
};

template <typename T>
struct DecodeBackwardOp {
  box::DeltaWeights<T> w;
  T offset;
  int64_t groups;
  __device__ void operator()(int64_t i, T* out, const T* ref, const T* deltas,
                             const T* grad) const {
    box::decode_backward(ref + 4 * (i / groups), deltas + 4 * i, grad + 4 * i, w, offset,
                         out + 4 * i);
  }
};

void encode_kernel(KernelContext& ctx) {
  check_cuda_operands(ctx);
  const Tensor ref = ctx.input(0).contiguous();
  const Tensor boxes = ctx.input(1).contiguous();
  Tensor& out = ctx.output(0, {ref.size(0), 4}, ref.dtype());
  Tensor result = contiguous_target(out);
  OSPREY_DISPATCH_FLOAT(ref.dtype(), "box_encode", [&]<typename T>() {
    EncodeOp<T> op{box::delta_weights<T>(ctx.attrs()), static_cast<T>(box_offset(ctx.attrs()))};
    launch_per_item<EncodeOp<T>, T, T, T>(ref.size(0), op, result, ref, boxes);
  });
  finish_output(out, result);
}

template <bool Backward>
void decode_kernel(KernelContext& ctx) {
  check_cuda_operands(ctx);
  const Tensor ref = ctx.input(0).contiguous();
  const Tensor deltas = ctx.input(1).contiguous();
  const int64_t groups = deltas.size(1) / 4, count = deltas.size(0) * groups;
  Tensor& out = ctx.output(0, deltas.shape(), ref.dtype());
  Tensor result = contiguous_target(out);
  OSPREY_DISPATCH_FLOAT(ref.dtype(), ctx.op().schema.name.c_str(), [&]<typename T>() {
    const box::DeltaWeights<T> w = box::delta_weights<T>(ctx.attrs());
    const T offset = static_cast<T>(box_offset(ctx.attrs()));
    if constexpr (Backward) {
      const Tensor grad = ctx.input(2).contiguous();
      launch_per_item<DecodeBackwardOp<T>, T, T, T, T>(
          count, DecodeBackwardOp<T>{w, offset, groups}, result, ref, deltas, grad);
    } else {
      launch_per_item<DecodeOp<T>, T, T, T>(count, DecodeOp<T>{w, offset, groups}, result, ref,
                                            deltas);
    }
  });
  finish_output(out, result);
}

const bool registered = [] {
  register_kernel("box_encode", DeviceType::cuda, "native", 0, encode_kernel, inputs_are_float,
                  "thread per box; f32/f64");
  register_kernel("box_decode", DeviceType::cuda, "native", 0, decode_kernel<false>,
                  inputs_are_float, "thread per box and class; f32/f64");
  register_kernel("box_decode_backward", DeviceType::cuda, "native", 0, decode_kernel<true>,
                  inputs_are_float, "thread per box and class; f32/f64");
  return true;
}();

}  // namespace
}  // namespace osprey::ops
