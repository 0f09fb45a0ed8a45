// CPU reference kernels of max_pool2d and max_pool2d_backward: direct loops over every output
// element and its window, reading inputs through their strides (any layout), writing contiguous
// NCHW. The backward scatter is serial, so overlapping windows accumulate without races.
#include <cmath>
#include <limits>

#include "ops/common/op_helpers.h"
#include "ops/pool/pool_geometry.h"
#include "ops/reduce/reduce_util.h"

namespace osprey::ops {
namespace {

void max_pool_reference(KernelContext& ctx) {
  const Tensor& input = ctx.input(0);
  const Pool2d g = pool2d_geometry(ctx.attrs(), input.shape(), "max_pool2d");
  const Tensor& out = ctx.output(0, g.output_shape(), input.dtype());
  const Tensor& out_indices = ctx.output(1, g.output_shape(), DType::i64);
  OSPREY_DISPATCH_FLOAT(input.dtype(), "max_pool2d", [&]<typename T>() {
    Tensor values = cpu_scratch_for(out);
    Tensor indices = cpu_scratch_for(out_indices);
    T* dst = values.data<T>();
    int64_t* idx = indices.data<int64_t>();
    const T* src = input.data<T>();
    const Shape& st = input.strides();
    int64_t o = 0;
    for (int64_t n = 0; n < g.batch; ++n) {
      for (int64_t c = 0; c < g.channels; ++c) {
        for (int64_t i = 0; i < g.out_h; ++i) {
          for (int64_t j = 0; j < g.out_w; ++j, ++o) {
            T best = -std::numeric_limits<T>::infinity();
            int64_t best_index = -1;  // stays -1 only if the window misses the input entirely
            for (int64_t a = 0; a < g.kernel_h; ++a) {
              const int64_t h = i * g.stride_h - g.pad_h + a * g.dilation_h;
              if (h < 0 || h >= g.in_h) continue;
              for (int64_t b = 0; b < g.kernel_w; ++b) {
                const int64_t w = j * g.stride_w - g.pad_w + b * g.dilation_w;
                if (w < 0 || w >= g.in_w) continue;
                const T v = src[offset4(st, n, c, h, w)];
                // The first element seeds the search; NaN wins over numbers, as in PyTorch.
                if (best_index < 0 || v > best || std::isnan(v)) {
                  best = v;
                  best_index = h * g.in_w + w;
                }
              }
            }
            dst[o] = best;
            idx[o] = best_index;
          }
        }
      }
    }
    cpu_store<T>(out, values);
    cpu_store<int64_t>(out_indices, indices);
  });
}

void max_pool_backward_reference(KernelContext& ctx) {
  const Tensor& grad = ctx.input(0);
  const Tensor& indices = ctx.input(1);
  const Shape input_size = ctx.attrs().get_ints("input_size");
  const Tensor& out = ctx.output(0, input_size, grad.dtype());
  const int64_t plane = input_size[2] * input_size[3];
  OSPREY_DISPATCH_FLOAT(grad.dtype(), "max_pool2d_backward", [&]<typename T>() {
    Tensor result = cpu_scratch_for(out);
    T* dst = result.data<T>();
    std::fill(dst, dst + result.numel(), T(0));
    const T* src = grad.data<T>();
    const int64_t* idx = indices.data<int64_t>();
    const Shape& gs = grad.strides();
    const Shape& is = indices.strides();
    for (int64_t n = 0; n < grad.size(0); ++n) {
      for (int64_t c = 0; c < grad.size(1); ++c) {
        T* dst_plane = dst + (n * input_size[1] + c) * plane;
        for (int64_t i = 0; i < grad.size(2); ++i) {
          for (int64_t j = 0; j < grad.size(3); ++j) {
            const int64_t k = idx[offset4(is, n, c, i, j)];
            if (k < 0) continue;  // a window that held no input element
            OSPREY_CHECK(k < plane, "max_pool2d_backward: index {} is out of range [0, {})", k,
                         plane);
            dst_plane[k] += src[offset4(gs, n, c, i, j)];
          }
        }
      }
    }
    cpu_store<T>(out, result);
  });
}

const bool registered = [] {
  register_kernel("max_pool2d", DeviceType::cpu, "reference", 0, max_pool_reference, {},
                  "direct loops over each window");
  register_kernel("max_pool2d_backward", DeviceType::cpu, "reference", 0,
                  max_pool_backward_reference, {}, "serial scatter-add into each plane");
  return true;
}();

}  // namespace
}  // namespace osprey::ops
