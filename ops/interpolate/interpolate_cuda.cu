// cuda/native kernels of interpolate and interpolate_backward. The taps of every output row and
// column (interpolate_geometry, computed on the host exactly as for the CPU kernels) are copied to
// the device once per call; then
//   interpolate: one thread per output element mixing its (up to) four taps in double, inputs
//     read through their strides (any layout), output contiguous NCHW;
//   interpolate_backward: one thread per grad_output element adding weight * grad to each of its
//     taps with atomic adds. Bilinear taps of neighbouring outputs overlap and nearest upsampling
//     sends several outputs to one source, so plain stores would race (a gather would need the
//     inverse of the tap map per input element); float atomics add in arrival order, so the last
//     bits may differ from the CPU's sum and from run to run.
#include <vector>

#include "framework/autograd/grad_mode.h"
#include "framework/dispatch/registry.h"
#include "ops/common/cuda_index.cuh"
#include "ops/common/cuda_loops.cuh"
#include "ops/interpolate/interpolate.h"
#include "ops/pool/pool_cuda.cuh"

namespace osprey::ops {
namespace {

// Device copies of the taps: rows first, then columns; index[2k], index[2k+1] and weight[2k],
// weight[2k+1] are tap k's (i0, i1) and (w0, w1).
struct Taps {
  Tensor index;   // i64
  Tensor weight;  // f64
};

Taps upload_taps(const Interpolate2d& g, Device device) {
  std::vector<int64_t> index;
  std::vector<double> weight;
  for (const auto* list : {&g.rows, &g.cols}) {
    for (const InterpolateTap& t : *list) {
      index.push_back(t.i0);
      index.push_back(t.i1);
      weight.push_back(t.w0);
      weight.push_back(t.w1);
    }
  }
  const int64_t count = static_cast<int64_t>(index.size());
  return {Tensor::from_vector<int64_t>(index, {count}, device),
          Tensor::from_vector<double>(weight, {count}, device)};
}

struct Sizes {
  int64_t channels, out_h, out_w;
};

template <typename T>
__global__ void interpolate_forward(int64_t total, Sizes s, Strides4 st, const int64_t* index,
                                    const double* weight, const T* in, T* out) {
  for (int64_t o = grid_first(); o < total; o += grid_step()) {
    const auto [n, c, i, j] = nchw_index(o, s.channels, s.out_h, s.out_w);
    const int64_t col = s.out_h + j;
    double sum = 0;
    for (int a = 0; a < 2; ++a) {
      for (int b = 0; b < 2; ++b) {
        const double w = weight[2 * i + a] * weight[2 * col + b];
        if (w != 0.0) sum += w * double(in[st.at(n, c, index[2 * i + a], index[2 * col + b])]);
      }
    }
    out[o] = static_cast<T>(sum);
  }
}

template <typename T>
__global__ void interpolate_backward(int64_t total, Sizes s, int64_t in_h, int64_t in_w,
                                     Strides4 gs, const int64_t* index, const double* weight,
                                     const T* grad, T* out) {
  for (int64_t o = grid_first(); o < total; o += grid_step()) {
    const auto [n, c, i, j] = nchw_index(o, s.channels, s.out_h, s.out_w);
    const int64_t col = s.out_h + j;
    const double go = double(grad[gs.at(n, c, i, j)]);
    T* plane = out + (n * s.channels + c) * in_h * in_w;
    for (int a = 0; a < 2; ++a) {
      for (int b = 0; b < 2; ++b) {
        const double w = weight[2 * i + a] * weight[2 * col + b];
        if (w != 0.0) {
          cuda_atomic_add(plane + index[2 * i + a] * in_w + index[2 * col + b],
                          static_cast<T>(w * go));
        }
      }
    }
  }
}

void forward_kernel(KernelContext& ctx) {
  check_cuda_operands(ctx);
  autograd::NoGradGuard no_grad;
  const Tensor& input = ctx.input(0);
  const Interpolate2d g = interpolate_geometry(ctx.attrs(), input.shape(), "interpolate");
  with_pool_output(ctx.output(0, g.output_shape(), input.dtype()), input.device(), false,
                   [&](const Tensor& out, cudaStream_t stream) {
                     const Taps taps = upload_taps(g, input.device());
                     const Sizes s{g.input[1], g.out_h, g.out_w};
                     OSPREY_DISPATCH_FLOAT(input.dtype(), "interpolate", [&]<typename T>() {
                       launch_per_element(interpolate_forward<T>, out.numel(), stream, s,
                                          Strides4(input),
                                          static_cast<const int64_t*>(taps.index.raw_data()),
                                          static_cast<const double*>(taps.weight.raw_data()),
                                          static_cast<const T*>(input.raw_data()),
                                          static_cast<T*>(out.raw_data()));
                     });
                   });
}

void backward_kernel(KernelContext& ctx) {
  check_cuda_operands(ctx);
  autograd::NoGradGuard no_grad;
  const Tensor& grad = ctx.input(0);
  const Shape input_size = ctx.attrs().get_ints("input_size");
  const Interpolate2d g = interpolate_geometry(ctx.attrs(), input_size, "interpolate_backward");
  with_pool_output(ctx.output(0, input_size, grad.dtype()), grad.device(), true,
                   [&](const Tensor& out, cudaStream_t stream) {
                     if (grad.numel() == 0) return;
                     const Taps taps = upload_taps(g, grad.device());
                     const Sizes s{input_size[1], g.out_h, g.out_w};
                     OSPREY_DISPATCH_FLOAT(grad.dtype(), "interpolate_backward", [&]<typename T>() {
                       launch_per_element(interpolate_backward<T>, grad.numel(), stream, s,
                                          input_size[2], input_size[3], Strides4(grad),
                                          static_cast<const int64_t*>(taps.index.raw_data()),
                                          static_cast<const double*>(taps.weight.raw_data()),
                                          static_cast<const T*>(grad.raw_data()),
                                          static_cast<T*>(out.raw_data()));
                     });
                   });
}

const bool registered = [] {
  register_kernel("interpolate", DeviceType::cuda, "native", 0, forward_kernel, inputs_are_float,
                  "thread per output mixing its four taps (uploaded per call), any input layout");
  register_kernel("interpolate_backward", DeviceType::cuda, "native", 0, backward_kernel,
                  inputs_are_float, "thread per grad_output element, atomic adds into its taps");
  return true;
}();

}  // namespace
}  // namespace osprey::ops
