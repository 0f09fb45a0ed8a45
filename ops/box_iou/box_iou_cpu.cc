// CPU reference of box_iou and box_iof: inputs made contiguous, one box::iou / box::iof per
// pair, rows of the output split across OpenMP threads (each pair is independent). f32/f64.
#include "ops/common/box_checks.h"
#include "ops/common/box_geometry.h"
#include "ops/common/cpu_loops.h"

namespace osprey::ops {
namespace {

template <bool Iof, typename T>
void pairwise(const T* a, const T* b, int64_t n, int64_t m, T offset, T* out) {
#pragma omp parallel for schedule(static) if (n * m >= kParallelGrain)
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < m; ++j) {
      out[i * m + j] =
          Iof ? box::iof(a + 4 * i, b + 4 * j, offset) : box::iou(a + 4 * i, b + 4 * j, offset);
    }
  }
}

template <bool Iof>
void pairwise_kernel(KernelContext& ctx) {
  const Tensor a = ctx.input(0).contiguous();
  const Tensor b = ctx.input(1).contiguous();
  const int64_t n = a.size(0), m = b.size(0);
  Tensor& out = ctx.output(0, {n, m}, a.dtype());
  Tensor result = out.is_contiguous() ? out : Tensor::empty({n, m}, a.dtype());
  OSPREY_DISPATCH_FLOAT(a.dtype(), ctx.op().schema.name.c_str(), [&]<typename T>() {
    pairwise<Iof>(a.data<T>(), b.data<T>(), n, m, static_cast<T>(box_offset(ctx.attrs())),
                  result.data<T>());
  });
  if (!result.is_same(out)) out.copy_(result);
}

const bool registered = [] {
  register_kernel("box_iou", DeviceType::cpu, "reference", 0, pairwise_kernel<false>,
                  inputs_are_float, "box::iou per pair, OpenMP over rows; f32/f64");
  register_kernel("box_iof", DeviceType::cpu, "reference", 0, pairwise_kernel<true>,
                  inputs_are_float, "box::iof per pair, OpenMP over rows; f32/f64");
  return true;
}();

}  // namespace
}  // namespace osprey::ops
