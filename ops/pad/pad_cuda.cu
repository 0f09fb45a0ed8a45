// cuda/native kernels of pad and pad_backward (rules in pad.h, index map in pad_geometry.h).
//   pad: one thread per output element, mapped dim by dim to its source element and read through
//     the input's strides (any layout), written contiguous.
//   pad_backward: one thread per grad_output element adding it to its source element. Constant
//     mode maps outputs to sources one to one, so plain stores suffice; reflect and replicate send
//     several outputs to one source and use atomic adds (float sums then add in arrival order:
//     the last bits may differ from the CPU's and from run to run).
#include "framework/autograd/grad_mode.h"
#include "framework/core/offset_calculator.h"
#include "framework/dispatch/registry.h"
#include "ops/common/cuda_index.cuh"
#include "ops/common/cuda_loops.cuh"
#include "ops/pad/pad_geometry.h"

namespace osprey::ops {
namespace {

using pad_detail::PadGeometry;
using pad_detail::PadMode;

// The geometry in fixed arrays for the device.
struct DevicePad {
  int ndim = 0;
  PadMode mode = PadMode::constant;
  int64_t out_shape[kMaxDims] = {};
  int64_t in_shape[kMaxDims] = {};
  int64_t left[kMaxDims] = {};
  int64_t in_strides[kMaxDims] = {};

  // Offset (along in_strides) of output element o's source, or -1 in constant padding.
  __device__ int64_t source(int64_t o) const {
    int64_t offset = 0;
    for (int d = ndim - 1; d >= 0; --d) {
      const int64_t index = o % out_shape[d];
      o /= out_shape[d];
      const int64_t j = index - left[d];
      int64_t src = j;
      if (j < 0 || j >= in_shape[d]) {
        if (mode == PadMode::constant) return -1;
        src = mode == PadMode::reflect ? (j < 0 ? -j : 2 * (in_shape[d] - 1) - j)
                                       : (j < 0 ? 0 : in_shape[d] - 1);
      }
      offset += src * in_strides[d];
    }
    return offset;
  }
};

DevicePad device_pad(const PadGeometry& g, const Shape& in_strides) {
  DevicePad p;
  p.ndim = static_cast<int>(g.output_shape.size());
  OSPREY_CHECK(p.ndim <= kMaxDims, "pad/cuda/native: {} dims exceed the kernel's {}", p.ndim,
               kMaxDims);
  p.mode = g.mode;
  for (int d = 0; d < p.ndim; ++d) {
    p.out_shape[d] = g.output_shape[d];
    p.in_shape[d] = g.input_shape[d];
    p.left[d] = g.left[d];
    p.in_strides[d] = in_strides[d];
  }
  return p;
}

template <typename T>
__global__ void pad_forward(int64_t n, DevicePad p, T value, const T* in, T* out) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t o = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; o < n;
       o += stride) {
    const int64_t s = p.source(o);
    out[o] = s < 0 ? value : in[s];
  }
}

template <typename T>
__global__ void pad_backward(int64_t n, DevicePad p, const T* grad, T* out) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t o = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; o < n;
       o += stride) {
    const int64_t s = p.source(o);
    if (s < 0) continue;
    if (p.mode == PadMode::constant) {
      out[s] = grad[o];
    } else {
      cuda_atomic_add(out + s, grad[o]);
    }
  }
}

Tensor contiguous_scratch(const Tensor& given) {
  return given.is_contiguous() ? given
                               : Tensor::empty(given.shape(), given.dtype(), given.device());
}

void store(const Tensor& given, const Tensor& result) {
  if (!result.is_same(given) && given.numel() > 0) dispatch::call_out("copy", given, {result});
}

void forward_kernel(KernelContext& ctx) {
  check_cuda_operands(ctx);
  autograd::NoGradGuard no_grad;
  const Tensor& input = ctx.input(0);
  const PadGeometry g = pad_detail::pad_geometry(input.shape(), ctx.attrs().get_ints("pad"),
                                                 ctx.attrs().get_string("mode"), "pad");
  const double value = ctx.attrs().get_float("value");
  const Tensor& given = ctx.output(0, g.output_shape, input.dtype());
  Tensor out = contiguous_scratch(given);
  const int64_t n = out.numel();
  if (n > 0) {
    const DevicePad p = device_pad(g, input.strides());
    cuda::DeviceGuard guard(input.device().index);
    cudaStream_t stream = cuda::current_stream();
    OSPREY_DISPATCH_FLOAT(input.dtype(), "pad", [&]<typename T>() {
      pad_forward<T><<<cuda_detail::blocks_for(n), cuda_detail::kThreads, 0, stream>>>(
          n, p, T(value), static_cast<const T*>(input.raw_data()), static_cast<T*>(out.raw_data()));
      OSPREY_CUDA_LAUNCH_CHECK();
    });
  }
  store(given, out);
}

void backward_kernel(KernelContext& ctx) {
  check_cuda_operands(ctx);
  autograd::NoGradGuard no_grad;
  Tensor grad = ctx.input(0).contiguous();
  const Shape input_size = ctx.attrs().get_ints("input_size");
  const PadGeometry g = pad_detail::pad_geometry(input_size, ctx.attrs().get_ints("pad"),
                                                 ctx.attrs().get_string("mode"), "pad_backward");
  const Tensor& given = ctx.output(0, input_size, grad.dtype());
  Tensor out = contiguous_scratch(given);
  if (out.numel() > 0) {
    cuda::DeviceGuard guard(grad.device().index);
    cudaStream_t stream = cuda::current_stream();
    OSPREY_CUDA_CHECK(cudaMemsetAsync(out.raw_data(), 0, out.nbytes(), stream));
    const int64_t n = grad.numel();
    if (n > 0) {
      const DevicePad p = device_pad(g, contiguous_strides(input_size));
      OSPREY_DISPATCH_FLOAT(grad.dtype(), "pad_backward", [&]<typename T>() {
        pad_backward<T><<<cuda_detail::blocks_for(n), cuda_detail::kThreads, 0, stream>>>(
            n, p, static_cast<const T*>(grad.raw_data()), static_cast<T*>(out.raw_data()));
        OSPREY_CUDA_LAUNCH_CHECK();
      });
    }
  }
  store(given, out);
}

const bool registered = [] {
  register_kernel("pad", DeviceType::cuda, "native", 0, forward_kernel, inputs_are_float,
                  "thread per output element, strided reads");
  register_kernel("pad_backward", DeviceType::cuda, "native", 0, backward_kernel, inputs_are_float,
                  "thread per grad_output element; atomic adds for reflect/replicate");
  return true;
}();

}  // namespace
}  // namespace osprey::ops
