// What both CPU kernels of deformable_roi_pool (cpu/reference and cpu/parallel) do around their
// loops: contiguous copies of the operands, the geometry, contiguous result buffers (zeroed for
// the backward's scatter) and the store into the caller's outputs; and the bilinear scatter of
// one sample's gradient.
#pragma once

#include "ops/common/op_helpers.h"
#include "ops/deformable_roi_pool/deformable_roi_pool_geometry.h"
#include "ops/reduce/reduce_util.h"

namespace osprey::ops::droi {

// The operands of a forward (input, rois, offset) or backward (grad_output first) call.
struct CpuOperands {
  Tensor grad;                 // backward only
  Tensor input, rois, offset;  // offset undefined when absent
  Geometry g;
  int64_t k_count = 0, bins = 0, plane = 0;

  CpuOperands(const KernelContext& ctx, bool backward) {
    const int first = backward ? 1 : 0;
    if (backward) grad = ctx.input(0).contiguous();
    input = ctx.input(first).contiguous();
    rois = ctx.input(first + 1).contiguous();
    offset = ctx.input(first + 2).defined() ? ctx.input(first + 2).contiguous() : Tensor{};
    g = geometry_of(ctx.attrs(), input.shape());
    k_count = rois.size(0);
    bins = g.bins();
    plane = g.height * g.width;
  }
  template <typename T>
  const T* offset_data() const {
    return offset.defined() ? offset.data<T>() : nullptr;
  }
};

// The forward's output (K, C, pooled_h, pooled_w) and the contiguous buffer the loops fill.
struct CpuForwardResult {
  const Tensor& out;
  Tensor result;
  explicit CpuForwardResult(KernelContext& ctx, const CpuOperands& o)
      : out(ctx.output(0, {o.k_count, o.g.channels, o.g.pooled_h, o.g.pooled_w}, o.input.dtype())),
        result(Tensor::empty(out.shape(), o.input.dtype())) {}
  template <typename T>
  void store() const {
    cpu_store<T>(out, result);
  }
};

// The backward's outputs (grad_input, grad_offset) and zeroed contiguous buffers to scatter into.
struct CpuBackwardResult {
  const Tensor& grad_input;
  const Tensor& grad_offset;
  Tensor gi, go;
  explicit CpuBackwardResult(KernelContext& ctx, const CpuOperands& o)
      : grad_input(ctx.output(0, o.input.shape(), o.input.dtype())),
        grad_offset(ctx.output(1, {o.k_count, 2, o.g.pooled_h, o.g.pooled_w}, o.input.dtype())),
        gi(Tensor::empty(o.input.shape(), o.input.dtype()).fill_(0.0)),
        go(Tensor::empty(grad_offset.shape(), o.input.dtype()).fill_(0.0)) {}
  template <typename T>
  void store() const {
    cpu_store<T>(grad_input, gi);
    cpu_store<T>(grad_offset, go);
  }
};

// Adds diff times each corner's bilinear weight into plane (H x W, contiguous): the input
// gradient of bilinear() at the sample.
template <typename T>
inline void scatter_bilinear(T* plane, int64_t width, const Sample<T>& s, T diff) {
  plane[s.y0 * width + s.x0] += (T(1) - s.ly) * (T(1) - s.lx) * diff;
  plane[s.y0 * width + s.x1] += (T(1) - s.ly) * s.lx * diff;
  plane[s.y1 * width + s.x0] += s.ly * (T(1) - s.lx) * diff;
  plane[s.y1 * width + s.x1] += s.ly * s.lx * diff;
}

}  // namespace osprey::ops::droi
