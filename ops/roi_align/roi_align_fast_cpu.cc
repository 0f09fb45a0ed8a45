// cpu/fast kernels of roi_align and roi_align_backward, for detection heads (hundreds of RoIs,
// hundreds of channels). The interpolation weights are separable (roi_align_geometry.h): per RoI
// the kernel builds each bin's row and column taps once, merged over the bin's samples (a pixel
// two samples share is read once), and reuses them for every channel. The map is read
// channels-last (an NCHW input is copied to NHWC first, a small cost next to the output), so the
// innermost loop runs over a block of contiguous channels and vectorises.
//   forward: OpenMP over (RoI, channel block); each block's bins go to a small buffer and then to
//     the output in its layout (NCHW or channels-last).
//   backward: OpenMP over (image, channel block); the one thread that owns a block of an image's
//     gradient adds that image's RoIs in RoI order, bin by bin. No two threads touch one element
//     and the order of the sums never depends on the thread count or schedule: the result is
//     bitwise the same for any number of threads.
// f32 and f64, accumulating in the input's dtype.
#include <omp.h>

#include <algorithm>
#include <vector>

#include "framework/autograd/grad_mode.h"
#include "ops/common/op_helpers.h"
#include "ops/common/roi_check.h"
#include "ops/roi_align/roi_align_geometry.h"

namespace osprey::ops {
namespace {

constexpr int64_t kBlock = 64;  // channels per task: one bin's accumulators stay in registers

template <typename T>
struct RoiTaps {
  AxisTaps<T> rows, cols;
  int64_t n = 0;
  void build(const T* roi, const RoiAlignParams& p, int64_t H, int64_t W) {
    const RoiGrid<T> g =
        roi_grid(roi, static_cast<T>(p.spatial_scale), p.aligned, static_cast<int>(p.pooled_h),
                 static_cast<int>(p.pooled_w), static_cast<int>(p.sampling_ratio));
    rows.build(g.start_h, g.bin_h, static_cast<int>(p.pooled_h), g.grid_h, static_cast<int>(H));
    cols.build(g.start_w, g.bin_w, static_cast<int>(p.pooled_w), g.grid_w, static_cast<int>(W));
    n = static_cast<int64_t>(roi[0]);
  }
};

// The hot loops, compiled twice: for the baseline ISA and for AVX-512 (picked at run time), so
// the channel loops run 16 floats wide where the CPU allows without -march flags.
#define OSPREY_ROI_INLINE inline __attribute__((always_inline))

// buf[bin][c] = Σ over the bin's taps of weight · image[row][col][c], c < cn. A full block
// (Full: cn = kBlock, a compile-time count) keeps its accumulators in registers.
template <bool Full, typename T>
OSPREY_ROI_INLINE void pool_bins_of(const T* image, const RoiTaps<T>& taps, int64_t PH, int64_t PW,
                                    int64_t W, int64_t C, int64_t cn, T* buf) {
  const int64_t n = Full ? kBlock : cn;
  for (int64_t i = 0; i < PH; ++i) {
    for (int64_t j = 0; j < PW; ++j) {
      alignas(64) T acc[kBlock];
      for (int64_t c = 0; c < n; ++c) acc[c] = T(0);
      for (int32_t a = taps.rows.start[i]; a < taps.rows.start[i + 1]; ++a) {
        const T wr = taps.rows.weight[a];
        const T* row = image + taps.rows.index[a] * W * C;
        for (int32_t b = taps.cols.start[j]; b < taps.cols.start[j + 1]; ++b) {
          const T w = wr * taps.cols.weight[b];
          const T* src = row + taps.cols.index[b] * C;
#pragma omp simd
          for (int64_t c = 0; c < n; ++c) acc[c] += w * src[c];
        }
      }
      std::copy(acc, acc + n, buf + (i * PW + j) * kBlock);
    }
  }
}

template <typename T>
OSPREY_ROI_INLINE void pool_bins(const T* image, const RoiTaps<T>& taps, int64_t PH, int64_t PW,
                                 int64_t W, int64_t C, int64_t cn, T* buf) {
  if (cn == kBlock) {
    pool_bins_of<true>(image, taps, PH, PW, W, C, cn, buf);
  } else {
    pool_bins_of<false>(image, taps, PH, PW, W, C, cn, buf);
  }
}

// image[row][col][c] += weight · gbuf[bin][c] over every bin's taps, bins in order; a full
// block keeps the bin's gradient in registers.
template <bool Full, typename T>
OSPREY_ROI_INLINE void scatter_bins_of(T* image, const RoiTaps<T>& taps, int64_t PH, int64_t PW,
                                       int64_t W, int64_t C, int64_t cn, const T* gbuf) {
  const int64_t n = Full ? kBlock : cn;
  for (int64_t i = 0; i < PH; ++i) {
    for (int64_t j = 0; j < PW; ++j) {
      alignas(64) T gv[kBlock];
      std::copy(gbuf + (i * PW + j) * kBlock, gbuf + (i * PW + j) * kBlock + n, gv);
      for (int32_t a = taps.rows.start[i]; a < taps.rows.start[i + 1]; ++a) {
        const T wr = taps.rows.weight[a];
        T* row = image + taps.rows.index[a] * W * C;
        for (int32_t b = taps.cols.start[j]; b < taps.cols.start[j + 1]; ++b) {
          const T w = wr * taps.cols.weight[b];
          T* d = row + taps.cols.index[b] * C;
#pragma omp simd
          for (int64_t c = 0; c < n; ++c) d[c] += w * gv[c];
        }
      }
    }
  }
}

template <typename T>
OSPREY_ROI_INLINE void scatter_bins(T* image, const RoiTaps<T>& taps, int64_t PH, int64_t PW,
                                    int64_t W, int64_t C, int64_t cn, const T* gbuf) {
  if (cn == kBlock) {
    scatter_bins_of<true>(image, taps, PH, PW, W, C, cn, gbuf);
  } else {
    scatter_bins_of<false>(image, taps, PH, PW, W, C, cn, gbuf);
  }
}

template <typename T>
__attribute__((target("avx512f"))) void pool_bins_avx512(const T* image, const RoiTaps<T>& taps,
                                                         int64_t PH, int64_t PW, int64_t W,
                                                         int64_t C, int64_t cn, T* buf) {
  pool_bins(image, taps, PH, PW, W, C, cn, buf);
}
template <typename T>
void pool_bins_baseline(const T* image, const RoiTaps<T>& taps, int64_t PH, int64_t PW, int64_t W,
                        int64_t C, int64_t cn, T* buf) {
  pool_bins(image, taps, PH, PW, W, C, cn, buf);
}
template <typename T>
__attribute__((target("avx512f"))) void scatter_bins_avx512(T* image, const RoiTaps<T>& taps,
                                                            int64_t PH, int64_t PW, int64_t W,
                                                            int64_t C, int64_t cn, const T* gbuf) {
  scatter_bins(image, taps, PH, PW, W, C, cn, gbuf);
}
template <typename T>
void scatter_bins_baseline(T* image, const RoiTaps<T>& taps, int64_t PH, int64_t PW, int64_t W,
                           int64_t C, int64_t cn, const T* gbuf) {
  scatter_bins(image, taps, PH, PW, W, C, cn, gbuf);
}

bool has_avx512() {
  static const bool has = __builtin_cpu_supports("avx512f");
  return has;
}

// dst (dense NHWC) = src (N × C × H × W, any strides), in parallel over (image, row).
template <typename T>
void to_nhwc(const Tensor& src, T* dst) {
  const int64_t N = src.size(0), C = src.size(1), H = src.size(2), W = src.size(3);
  const T* s = src.data<T>();
  const int64_t s0 = src.stride(0), s1 = src.stride(1), s2 = src.stride(2), s3 = src.stride(3);
#pragma omp parallel for collapse(2) schedule(static) if (N * C * H * W >= (1 << 16))
  for (int64_t n = 0; n < N; ++n)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t c = 0; c < C; ++c)
        for (int64_t w = 0; w < W; ++w)
          dst[((n * H + h) * W + w) * C + c] = s[n * s0 + c * s1 + h * s2 + w * s3];
}

// dst (N × C × H × W, any strides) = src (dense NHWC), in parallel over (image, channel).
template <typename T>
void from_nhwc(const T* src, const Tensor& dst) {
  const int64_t N = dst.size(0), C = dst.size(1), H = dst.size(2), W = dst.size(3);
  T* d = dst.data<T>();
  const int64_t s0 = dst.stride(0), s1 = dst.stride(1), s2 = dst.stride(2), s3 = dst.stride(3);
#pragma omp parallel for collapse(2) schedule(static) if (N * C * H * W >= (1 << 16))
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t h = 0; h < H; ++h)
        for (int64_t w = 0; w < W; ++w)
          d[n * s0 + c * s1 + h * s2 + w * s3] = src[((n * H + h) * W + w) * C + c];
}

MemoryFormat format_of(const Tensor& t) {
  return t.is_contiguous(MemoryFormat::channels_last) && !t.is_contiguous()
             ? MemoryFormat::channels_last
             : MemoryFormat::contiguous;
}

template <typename T>
void forward_fast(KernelContext& ctx) {
  const Tensor& input = ctx.input(0);
  const Tensor& rois = ctx.input(1);
  const RoiAlignParams p = RoiAlignParams::from(ctx.attrs(), "roi_align");
  const int64_t C = input.size(1), H = input.size(2), W = input.size(3), K = rois.size(0);
  const Tensor& out = ctx.output(0, p.output_shape(K, C), input.dtype(), format_of(input));
  if (out.numel() == 0) return;
  autograd::NoGradGuard no_grad;
  // The map channels-last: the input itself when it is, else a copy.
  const bool nhwc_input = input.is_contiguous(MemoryFormat::channels_last);
  std::vector<T> copy(nhwc_input ? 0 : static_cast<size_t>(input.numel()));
  if (!nhwc_input) to_nhwc<T>(input, copy.data());
  const T* x = nhwc_input ? input.data<T>() : copy.data();
  const std::vector<T> r = rois.to_vector<T>();
  const auto pool = has_avx512() ? pool_bins_avx512<T> : pool_bins_baseline<T>;
  T* dst = out.data<T>();
  const int64_t s0 = out.stride(0), s1 = out.stride(1), s2 = out.stride(2), s3 = out.stride(3);
  const int64_t PH = p.pooled_h, PW = p.pooled_w, bins = PH * PW;
  const int64_t blocks = (C + kBlock - 1) / kBlock;
  const bool channels_inner = s1 == 1;
#pragma omp parallel
  {
    RoiTaps<T> taps;
    std::vector<T> buf(static_cast<size_t>(bins * kBlock));
    int64_t built = -1;
#pragma omp for schedule(static)
    for (int64_t task = 0; task < K * blocks; ++task) {
      const int64_t k = task / blocks, c0 = (task % blocks) * kBlock;
      const int64_t cn = std::min(kBlock, C - c0);
      if (k != built) {
        taps.build(r.data() + 5 * k, p, H, W);
        built = k;
      }
      pool(x + taps.n * H * W * C + c0, taps, PH, PW, W, C, cn, buf.data());
      T* base = dst + k * s0 + c0 * s1;
      if (channels_inner) {
        for (int64_t i = 0; i < PH; ++i)
          for (int64_t j = 0; j < PW; ++j)
            std::copy(buf.data() + (i * PW + j) * kBlock, buf.data() + (i * PW + j) * kBlock + cn,
                      base + i * s2 + j * s3);
      } else {
        for (int64_t c = 0; c < cn; ++c)
          for (int64_t i = 0; i < PH; ++i)
            for (int64_t j = 0; j < PW; ++j)
              base[c * s1 + i * s2 + j * s3] = buf[(i * PW + j) * kBlock + c];
      }
    }
  }
}

template <typename T>
void backward_fast(KernelContext& ctx) {
  const Tensor& grad = ctx.input(0);
  const Tensor& rois = ctx.input(1);
  const RoiAlignParams p = RoiAlignParams::from(ctx.attrs(), "roi_align_backward");
  const Shape size = ctx.attrs().get_ints("input_size");
  const int64_t N = size[0], C = size[1], H = size[2], W = size[3];
  Tensor& out = ctx.output(0, size, grad.dtype(), format_of(grad));
  if (out.numel() == 0) return;
  autograd::NoGradGuard no_grad;
  // The NHWC accumulator: the output itself when it is channels-last and dense.
  const bool direct = out.is_contiguous(MemoryFormat::channels_last);
  const Tensor sums =
      direct ? out : Tensor::empty(size, grad.dtype(), Device::cpu(), MemoryFormat::channels_last);
  T* acc = sums.data<T>();
  const auto scatter = has_avx512() ? scatter_bins_avx512<T> : scatter_bins_baseline<T>;
  const std::vector<T> r = rois.to_vector<T>();
  const RoisByImage groups = rois_by_image(rois.to_vector<double>(), N);
  const T* g = grad.data<T>();
  const int64_t g0 = grad.stride(0), g1 = grad.stride(1), g2 = grad.stride(2), g3 = grad.stride(3);
  const int64_t PH = p.pooled_h, PW = p.pooled_w, bins = PH * PW;
  const int64_t blocks = (C + kBlock - 1) / kBlock;
#pragma omp parallel
  {
    RoiTaps<T> taps;
    std::vector<T> gbuf(static_cast<size_t>(bins * kBlock));
#pragma omp for schedule(dynamic, 1)
    for (int64_t task = 0; task < N * blocks; ++task) {
      const int64_t n = task / blocks, c0 = (task % blocks) * kBlock;
      const int64_t cn = std::min(kBlock, C - c0);
      T* image = acc + n * H * W * C + c0;
      for (int64_t pixel = 0; pixel < H * W; ++pixel)
        std::fill(image + pixel * C, image + pixel * C + cn, T(0));
      for (int64_t e = groups.start[n]; e < groups.start[n + 1]; ++e) {
        const int64_t k = groups.ids[e];
        taps.build(r.data() + 5 * k, p, H, W);
        for (int64_t c = 0; c < cn; ++c)
          for (int64_t i = 0; i < PH; ++i)
            for (int64_t j = 0; j < PW; ++j)
              gbuf[(i * PW + j) * kBlock + c] = g[k * g0 + (c0 + c) * g1 + i * g2 + j * g3];
        scatter(image, taps, PH, PW, W, C, cn, gbuf.data());
      }
    }
  }
  if (!direct) from_nhwc<T>(acc, out);
}

const bool registered = [] {
  auto fp = [](const KernelContext& ctx) { return inputs_are_float(ctx); };
  register_kernel("roi_align", DeviceType::cpu, "fast", 10,
                  by_float_dtype<forward_fast<float>, forward_fast<double>>, fp,
                  "per-RoI separable weight tables reused over channel blocks, NHWC inner loop, "
                  "OpenMP over (RoI, channel block)");
  register_kernel("roi_align_backward", DeviceType::cpu, "fast", 10,
                  by_float_dtype<backward_fast<float>, backward_fast<double>>, fp,
                  "per-image channel blocks owned by one thread, RoIs added in order: "
                  "deterministic for any thread count");
  return true;
}();

}  // namespace
}  // namespace osprey::ops
