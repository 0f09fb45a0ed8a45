// cpu/gather kernel of roi_align_backward: the algorithm of the CUDA backward (cuda/gather in
// roi_align_cuda.cu) on the host, sharing its helpers (roi_align_geometry.h), so the case-list
// comparison with cpu/reference checks that algorithm on every case without a GPU. Each input
// pixel of each image gathers: it walks the image's RoIs in RoI order, skips those whose pixel
// window misses it, and adds, for each bin that can reach it, its weight in the bin times the
// bin's gradient, channel by channel. No pixel is written by two iterations, and the order of
// every sum is fixed: deterministic. Slower than cpu/fast (channel-strided gradient reads), so it
// has a lower priority. f32 and f64; OpenMP over (image, row, column).
#include <array>
#include <vector>

#include "ops/common/op_helpers.h"
#include "ops/common/roi_check.h"
#include "ops/roi_align/roi_align_geometry.h"

namespace osprey::ops {
namespace {

MemoryFormat format_of(const Tensor& t) {
  return t.is_contiguous(MemoryFormat::channels_last) && !t.is_contiguous()
             ? MemoryFormat::channels_last
             : MemoryFormat::contiguous;
}

template <typename T>
void backward_gather(KernelContext& ctx) {
  const Tensor& grad = ctx.input(0);
  const Tensor& rois = ctx.input(1);
  const RoiAlignParams p = RoiAlignParams::from(ctx.attrs(), "roi_align_backward");
  const Shape size = ctx.attrs().get_ints("input_size");
  const int64_t N = size[0], C = size[1], H = size[2], W = size[3], K = rois.size(0);
  const Tensor& out = ctx.output(0, size, grad.dtype(), format_of(grad));
  if (out.numel() == 0) return;
  const int PH = static_cast<int>(p.pooled_h), PW = static_cast<int>(p.pooled_w);
  const std::vector<T> r = rois.to_vector<T>();
  const RoisByImage groups = rois_by_image(rois.to_vector<double>(), N);
  std::vector<RoiGrid<T>> grids(static_cast<size_t>(K));
  std::vector<std::array<int, 4>> windows(static_cast<size_t>(K));
  for (int64_t k = 0; k < K; ++k) {
    grids[k] = roi_grid(r.data() + 5 * k, static_cast<T>(p.spatial_scale), p.aligned, PH, PW,
                        static_cast<int>(p.sampling_ratio));
    axis_window(grids[k].start_h, grids[k].bin_h, PH, grids[k].grid_h, static_cast<int>(H),
                windows[k][0], windows[k][1]);
    axis_window(grids[k].start_w, grids[k].bin_w, PW, grids[k].grid_w, static_cast<int>(W),
                windows[k][2], windows[k][3]);
  }
  const T* g = grad.data<T>();
  const int64_t g0 = grad.stride(0), g1 = grad.stride(1), g2 = grad.stride(2), g3 = grad.stride(3);
  T* dst = out.data<T>();
  const int64_t o0 = out.stride(0), o1 = out.stride(1), o2 = out.stride(2), o3 = out.stride(3);
#pragma omp parallel
  {
    std::vector<T> acc(static_cast<size_t>(C));
#pragma omp for collapse(3) schedule(static)
    for (int64_t n = 0; n < N; ++n)
      for (int64_t h = 0; h < H; ++h)
        for (int64_t w = 0; w < W; ++w) {
          std::fill(acc.begin(), acc.end(), T(0));
          for (int64_t q = groups.start[n]; q < groups.start[n + 1]; ++q) {
            const int64_t k = groups.ids[q];
            const std::array<int, 4>& win = windows[k];
            if (h < win[0] || h > win[1] || w < win[2] || w > win[3]) continue;
            const RoiGrid<T>& rg = grids[k];
            const int count = rg.grid_h * rg.grid_w;
            const T inv = T(1) / static_cast<T>(count > 0 ? count : 1);
            int i0, i1, j0, j1;
            bin_range(rg.start_h, rg.bin_h, PH, static_cast<int>(H), static_cast<int>(h), i0, i1);
            bin_range(rg.start_w, rg.bin_w, PW, static_cast<int>(W), static_cast<int>(w), j0, j1);
            for (int i = i0; i < i1; ++i) {
              const T wy = axis_weight(rg.start_h, rg.bin_h, i, rg.grid_h, static_cast<int>(H),
                                       static_cast<int>(h));
              if (wy == T(0)) continue;
              for (int j = j0; j < j1; ++j) {
                const T wx = axis_weight(rg.start_w, rg.bin_w, j, rg.grid_w, static_cast<int>(W),
                                         static_cast<int>(w));
                if (wx == T(0)) continue;
                const T weight = wy * wx * inv;
                const T* gb = g + k * g0 + i * g2 + j * g3;
                for (int64_t c = 0; c < C; ++c) acc[c] += weight * gb[c * g1];
              }
            }
          }
          for (int64_t c = 0; c < C; ++c) dst[n * o0 + c * o1 + h * o2 + w * o3] = acc[c];
        }
  }
}

const bool registered = [] {
  register_kernel(
      "roi_align_backward", DeviceType::cpu, "gather", 5,
      by_float_dtype<backward_gather<float>, backward_gather<double>>,
      [](const KernelContext& ctx) { return inputs_are_float(ctx); },
      "the CUDA gather backward on the host: per input pixel over its image's RoIs in order "
      "(deterministic); checks that algorithm without a GPU");
  return true;
}();

}  // namespace
}  // namespace osprey::ops
