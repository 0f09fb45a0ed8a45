// CUDA kernels of deformable_roi_pool and deformable_roi_pool_backward (math in
// deformable_roi_pool.h), placing samples with deformable_roi_pool_geometry.h like the CPU
// reference.
//   forward (cuda/native): one thread per output element (RoI, channel, bin), the bin's samples
//     in the reference's order.
//   backward, deterministic (no floating-point atomics, the same summation order on every run).
//     Every (RoI, bin, sample, corner) is a slot with a bilinear weight; the valid slots are
//     listed per input pixel in slot order — the reference's (RoI, bin, sample, corner) order —
//     and one thread per input-gradient element gathers its pixel's list for its channel. The
//     offset gradient is one thread per (RoI, bin) summing over channels and samples. Two ways to
//     build the lists:
//       cuda/native     on the device: one stable radix sort (CUB) of the slots by pixel, then a
//                       binary search per pixel for where its list starts. No host round trip;
//                       the default.
//       cuda/host_lists on the host: rois and offsets are copied back (K x 5 and K x 2 x ph x pw
//                       values) and a stable counting sort builds the lists. A device
//                       synchronisation and O(K · bins · S²) host work per call; kept as the
//                       simple cross-check of the device-built lists.
//     Both use 32-bit slot and pixel indices (checked).
#include <cub/device/device_radix_sort.cuh>

#include <climits>
#include <vector>

#include "framework/autograd/grad_mode.h"
#include "framework/cuda/check.h"
#include "framework/cuda/context.h"
#include "framework/dispatch/registry.h"
#include "ops/common/cuda_loops.cuh"
#include "ops/deformable_roi_pool/deformable_roi_pool_geometry.h"

namespace osprey::ops {
namespace {

template <typename T>
const T* data_or_null(const Tensor& t) {
  return t.defined() ? static_cast<const T*>(t.raw_data()) : nullptr;
}

template <typename T>
__global__ void forward_bins(droi::Geometry g, int64_t total, const T* x, const T* rois,
                             const T* offset, T* out) {
  const int64_t bins = g.bins(), plane = g.height * g.width;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t pw = i % g.pooled_w, ph = (i / g.pooled_w) % g.pooled_h;
    const int64_t c = (i / bins) % g.channels, k = i / (bins * g.channels);
    const droi::Bin<T> b =
        droi::bin_of(g, rois + 5 * k, offset ? offset + k * 2 * bins : nullptr, ph, pw);
    const int64_t count = droi::valid_samples(g, b);
    const T* src = x + (b.batch * g.channels + c) * plane;
    T sum = 0;
    for (int64_t ih = 0; ih < g.samples; ++ih) {
      for (int64_t iw = 0; iw < g.samples; ++iw) {
        const droi::Sample<T> s = droi::sample_of(g, b, ih, iw);
        if (s.valid) sum += droi::bilinear(src, g.width, s);
      }
    }
    out[i] = count > 0 ? sum / static_cast<T>(count) : T(0);
  }
}

// The slots of one bin: slot ((k · bins + bin) · S² + ih · S + iw) · 4 + corner.
OSPREY_INLINE int64_t slots_per_bin(const droi::Geometry& g) {
  return g.samples * g.samples * 4;
}

// The four corners of a valid sample: pixel (within its image) and bilinear weight.
template <typename T>
OSPREY_INLINE void corners(const droi::Geometry& g, const droi::Sample<T>& s, int64_t* pixel,
                           T* weight) {
  pixel[0] = s.y0 * g.width + s.x0, weight[0] = (T(1) - s.ly) * (T(1) - s.lx);
  pixel[1] = s.y0 * g.width + s.x1, weight[1] = (T(1) - s.ly) * s.lx;
  pixel[2] = s.y1 * g.width + s.x0, weight[2] = s.ly * (T(1) - s.lx);
  pixel[3] = s.y1 * g.width + s.x1, weight[3] = s.ly * s.lx;
}

// The lists the gather reads: weight and count per slot / bin, the listed slots grouped by pixel
// (pixel key = batch · H · W + y · W + x) and where each pixel's group starts.
struct Lists {
  Tensor weight;   // T, one per slot
  Tensor count;    // T, valid samples per (RoI, bin)
  Tensor slots;    // i32, listed slots (at least one element)
  Tensor row_ptr;  // i32, keys + 1
};

// grad_input[n, c, p] = Σ_{slot in pixel (n, p)'s list} weight[slot] · grad[k, c, bin] / count
template <typename T>
__global__ void gather_input_grad(droi::Geometry g, int64_t total, const int* row_ptr,
                                  const int* slots, const T* weight, const T* count, const T* grad,
                                  T* out) {
  const int64_t bins = g.bins(), plane = g.height * g.width, per_bin = slots_per_bin(g);
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t p = i % plane, c = (i / plane) % g.channels, n = i / (plane * g.channels);
    const int64_t key = n * plane + p;
    T sum = 0;
    for (int e = row_ptr[key]; e < row_ptr[key + 1]; ++e) {
      const int64_t slot = slots[e], src = slot / per_bin;
      const int64_t k = src / bins, bin = src % bins;
      const T diff = grad[(k * g.channels + c) * bins + bin] / count[src];
      sum += weight[slot] * diff;
    }
    out[i] = sum;
  }
}

template <typename T>
__global__ void offset_grad(droi::Geometry g, int64_t total, const T* x, const T* rois,
                            const T* offset, const T* grad, T* out) {
  const int64_t bins = g.bins(), plane = g.height * g.width;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t bin = i % bins, k = i / bins;
    const int64_t ph = bin / g.pooled_w, pw = bin % g.pooled_w;
    const droi::Bin<T> b =
        droi::bin_of(g, rois + 5 * k, offset ? offset + k * 2 * bins : nullptr, ph, pw);
    const int64_t count = droi::valid_samples(g, b);
    T dw_sum = 0, dh_sum = 0;
    if (count > 0 && offset) {
      for (int64_t c = 0; c < g.channels; ++c) {
        const T diff = grad[(k * g.channels + c) * bins + bin] / static_cast<T>(count);
        const T* src = x + (b.batch * g.channels + c) * plane;
        for (int64_t ih = 0; ih < g.samples; ++ih) {
          for (int64_t iw = 0; iw < g.samples; ++iw) {
            const droi::Sample<T> s = droi::sample_of(g, b, ih, iw);
            if (!s.valid) continue;
            T dw, dh;
            droi::bilinear_slopes(src, g.width, s, &dw, &dh);
            dw_sum += dw * diff;
            dh_sum += dh * diff;
          }
        }
      }
    }
    const T t_std = static_cast<T>(g.trans_std);
    out[(k * 2) * bins + bin] = dw_sum * t_std * b.roi_w;
    out[(k * 2 + 1) * bins + bin] = dh_sum * t_std * b.roi_h;
  }
}

// cuda/native list building. One thread per (RoI, bin): its count, and every slot's weight and
// sort key (the pixel key, or `unused` for an invalid sample or a zero weight); value = slot.
template <typename T>
__global__ void make_slots(droi::Geometry g, int64_t total, const T* rois, const T* offset,
                           unsigned unused, T* count, T* weight, unsigned* key, int* value) {
  const int64_t bins = g.bins(), plane = g.height * g.width, per_bin = slots_per_bin(g);
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t bin = i % bins, k = i / bins;
    const droi::Bin<T> b = droi::bin_of(g, rois + 5 * k, offset ? offset + k * 2 * bins : nullptr,
                                        bin / g.pooled_w, bin % g.pooled_w);
    count[i] = static_cast<T>(droi::valid_samples(g, b));
    for (int64_t ih = 0; ih < g.samples; ++ih) {
      for (int64_t iw = 0; iw < g.samples; ++iw) {
        const droi::Sample<T> s = droi::sample_of(g, b, ih, iw);
        const int64_t first = i * per_bin + (ih * g.samples + iw) * 4;
        int64_t pixel[4] = {0, 0, 0, 0};
        T w[4] = {0, 0, 0, 0};
        if (s.valid) corners(g, s, pixel, w);
        for (int corner = 0; corner < 4; ++corner) {
          const int64_t slot = first + corner;
          weight[slot] = w[corner];
          key[slot] = s.valid && w[corner] != T(0)
                          ? static_cast<unsigned>(b.batch * plane + pixel[corner])
                          : unused;
          value[slot] = static_cast<int>(slot);
        }
      }
    }
  }
}

// row_ptr[key] = the first position of the sorted keys that is >= key (keys 0 .. unused).
__global__ void row_starts(int64_t keys, const unsigned* sorted, int64_t n, int* row_ptr) {
  for (int64_t key = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; key < keys;
       key += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    int64_t lo = 0, hi = n;
    while (lo < hi) {
      const int64_t mid = (lo + hi) / 2;
      if (static_cast<int64_t>(sorted[mid]) < key) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    row_ptr[key] = static_cast<int>(lo);
  }
}

Tensor bytes(int64_t n, Device device) {
  return Tensor::empty({std::max<int64_t>(n, 1)}, DType::u8, device);
}

// The 32-bit index limits of both list builders.
void check_list_sizes(int64_t slots, int64_t keys) {
  OSPREY_CHECK(slots < INT_MAX && keys < INT_MAX,
               "deformable_roi_pool_backward: {} sample slots or {} input pixels exceed the "
               "32-bit indices of the CUDA backward",
               slots, keys);
}

template <typename T>
Lists device_lists(const droi::Geometry& g, int64_t batch, const Tensor& rois, const Tensor& offset,
                   cudaStream_t stream) {
  const Device device = rois.device();
  const int64_t bins = rois.size(0) * g.bins(), slots = bins * slots_per_bin(g);
  const int64_t keys = batch * g.height * g.width;
  check_list_sizes(slots, keys);
  const DType dtype = rois.dtype();
  Lists l;
  l.weight = Tensor::empty({std::max<int64_t>(slots, 1)}, dtype, device);
  l.count = Tensor::empty({std::max<int64_t>(bins, 1)}, dtype, device);
  l.slots = Tensor::empty({std::max<int64_t>(slots, 1)}, DType::i32, device);
  l.row_ptr = Tensor::empty({keys + 1}, DType::i32, device);
  Tensor keys_in = Tensor::empty({std::max<int64_t>(slots, 1)}, DType::i32, device);
  Tensor keys_out = Tensor::empty({std::max<int64_t>(slots, 1)}, DType::i32, device);
  Tensor values_in = Tensor::empty({std::max<int64_t>(slots, 1)}, DType::i32, device);
  auto* ki = static_cast<unsigned*>(keys_in.raw_data());
  auto* ko = static_cast<unsigned*>(keys_out.raw_data());
  auto* vi = static_cast<int*>(values_in.raw_data());
  auto* vo = static_cast<int*>(l.slots.raw_data());
  const unsigned unused = static_cast<unsigned>(keys);
  if (bins > 0) {
    make_slots<T><<<cuda_detail::blocks_for(bins), cuda_detail::kThreads, 0, stream>>>(
        g, bins, static_cast<const T*>(rois.raw_data()), data_or_null<T>(offset), unused,
        static_cast<T*>(l.count.raw_data()), static_cast<T*>(l.weight.raw_data()), ki, vi);
    OSPREY_CUDA_LAUNCH_CHECK();
    int end_bit = 1;
    while (end_bit < 32 && (static_cast<uint64_t>(unused) >> end_bit) != 0) ++end_bit;
    size_t scratch_bytes = 0;
    OSPREY_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(nullptr, scratch_bytes, ki, ko, vi, vo,
                                                      static_cast<int>(slots), 0, end_bit, stream));
    Tensor scratch = bytes(static_cast<int64_t>(scratch_bytes), device);
    OSPREY_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(scratch.raw_data(), scratch_bytes, ki, ko, vi,
                                                      vo, static_cast<int>(slots), 0, end_bit,
                                                      stream));
  }
  row_starts<<<cuda_detail::blocks_for(keys + 1), cuda_detail::kThreads, 0, stream>>>(
      keys + 1, ko, slots, static_cast<int*>(l.row_ptr.raw_data()));
  OSPREY_CUDA_LAUNCH_CHECK();
  return l;
}

template <typename T>
Tensor upload(const std::vector<T>& v, Device device) {
  std::vector<T> padded = v.empty() ? std::vector<T>(1, T(0)) : v;
  return Tensor::from_vector<T>(padded, {static_cast<int64_t>(padded.size())}).to(device);
}

// cuda/host_lists list building: the same lists from host copies of rois and offsets.
template <typename T>
Lists host_lists(const droi::Geometry& g, int64_t batch, const Tensor& rois, const Tensor& offset) {
  const std::vector<T> r = rois.template to_vector<T>();
  const std::vector<T> off = offset.defined() ? offset.template to_vector<T>() : std::vector<T>{};
  const int64_t bins = rois.size(0) * g.bins(), per_bin = slots_per_bin(g);
  const int64_t slots = bins * per_bin, keys = batch * g.height * g.width;
  check_list_sizes(slots, keys);
  std::vector<T> weight(slots, T(0)), count(bins, T(0));
  std::vector<int> key(slots, -1);
  for (int64_t i = 0; i < bins; ++i) {
    const int64_t k = i / g.bins(), bin = i % g.bins();
    const droi::Bin<T> b =
        droi::bin_of(g, r.data() + 5 * k, off.empty() ? nullptr : off.data() + k * 2 * g.bins(),
                     bin / g.pooled_w, bin % g.pooled_w);
    count[i] = static_cast<T>(droi::valid_samples(g, b));
    for (int64_t ih = 0; ih < g.samples; ++ih) {
      for (int64_t iw = 0; iw < g.samples; ++iw) {
        const droi::Sample<T> s = droi::sample_of(g, b, ih, iw);
        if (!s.valid) continue;
        int64_t pixel[4];
        T w[4];
        corners(g, s, pixel, w);
        for (int corner = 0; corner < 4; ++corner) {
          const int64_t slot = i * per_bin + (ih * g.samples + iw) * 4 + corner;
          weight[slot] = w[corner];
          if (w[corner] != T(0))
            key[slot] = static_cast<int>(b.batch * g.height * g.width + pixel[corner]);
        }
      }
    }
  }
  // Stable counting sort of the listed slots by pixel.
  std::vector<int> row_ptr(keys + 1, 0);
  for (int64_t s = 0; s < slots; ++s) {
    if (key[s] >= 0) ++row_ptr[key[s] + 1];
  }
  for (size_t i = 1; i < row_ptr.size(); ++i) row_ptr[i] += row_ptr[i - 1];
  std::vector<int> next(row_ptr.begin(), row_ptr.end() - 1), listed(row_ptr.back());
  for (int64_t s = 0; s < slots; ++s) {
    if (key[s] >= 0) listed[next[key[s]]++] = static_cast<int>(s);
  }
  const Device device = rois.device();
  return {upload(weight, device), upload(count, device), upload(listed, device),
          upload(row_ptr, device)};
}

// The caller's output when contiguous, else a contiguous buffer copied into it afterwards.
Tensor contiguous_target(const Tensor& given) {
  return given.is_contiguous() ? given
                               : Tensor::empty(given.shape(), given.dtype(), given.device());
}

void finish(const Tensor& given, const Tensor& out) {
  if (!out.is_same(given) && given.numel() > 0) dispatch::call_out("copy", given, {out});
}

void forward_kernel(KernelContext& ctx) {
  check_cuda_operands(ctx);
  autograd::NoGradGuard no_grad;
  const Tensor x = ctx.input(0).contiguous();
  const Tensor rois = ctx.input(1).contiguous();
  const Tensor offset = ctx.input(2).defined() ? ctx.input(2).contiguous() : Tensor{};
  const droi::Geometry g = droi::geometry_of(ctx.attrs(), x.shape());
  const Tensor& given =
      ctx.output(0, {rois.size(0), g.channels, g.pooled_h, g.pooled_w}, x.dtype());
  Tensor out = contiguous_target(given);
  const int64_t total = out.numel();
  if (total > 0) {
    cuda::DeviceGuard guard(x.device().index);
    cudaStream_t stream = cuda::current_stream();
    OSPREY_DISPATCH_FLOAT(x.dtype(), "deformable_roi_pool", [&]<typename T>() {
      forward_bins<T><<<cuda_detail::blocks_for(total), cuda_detail::kThreads, 0, stream>>>(
          g, total, static_cast<const T*>(x.raw_data()), static_cast<const T*>(rois.raw_data()),
          data_or_null<T>(offset), static_cast<T*>(out.raw_data()));
      OSPREY_CUDA_LAUNCH_CHECK();
    });
  }
  finish(given, out);
}

void backward_kernel(KernelContext& ctx, bool on_device) {
  check_cuda_operands(ctx);
  autograd::NoGradGuard no_grad;
  const Tensor grad = ctx.input(0).contiguous();
  const Tensor x = ctx.input(1).contiguous();
  const Tensor rois = ctx.input(2).contiguous();
  const Tensor offset = ctx.input(3).defined() ? ctx.input(3).contiguous() : Tensor{};
  const droi::Geometry g = droi::geometry_of(ctx.attrs(), x.shape());
  const int64_t k_count = rois.size(0);
  const Tensor& given_input = ctx.output(0, x.shape(), x.dtype());
  const Tensor& given_offset = ctx.output(1, {k_count, 2, g.pooled_h, g.pooled_w}, x.dtype());
  Tensor gi = contiguous_target(given_input);
  Tensor go = contiguous_target(given_offset);
  cuda::DeviceGuard guard(x.device().index);
  cudaStream_t stream = cuda::current_stream();
  OSPREY_DISPATCH_FLOAT(x.dtype(), "deformable_roi_pool_backward", [&]<typename T>() {
    const int64_t inputs = gi.numel();
    if (inputs > 0) {
      const Lists l = on_device ? device_lists<T>(g, x.size(0), rois, offset, stream)
                                : host_lists<T>(g, x.size(0), rois, offset);
      gather_input_grad<T><<<cuda_detail::blocks_for(inputs), cuda_detail::kThreads, 0, stream>>>(
          g, inputs, static_cast<const int*>(l.row_ptr.raw_data()),
          static_cast<const int*>(l.slots.raw_data()), static_cast<const T*>(l.weight.raw_data()),
          static_cast<const T*>(l.count.raw_data()), static_cast<const T*>(grad.raw_data()),
          static_cast<T*>(gi.raw_data()));
      OSPREY_CUDA_LAUNCH_CHECK();
    }
    const int64_t bins = k_count * g.bins();
    if (bins > 0) {
      offset_grad<T><<<cuda_detail::blocks_for(bins), cuda_detail::kThreads, 0, stream>>>(
          g, bins, static_cast<const T*>(x.raw_data()), static_cast<const T*>(rois.raw_data()),
          data_or_null<T>(offset), static_cast<const T*>(grad.raw_data()),
          static_cast<T*>(go.raw_data()));
      OSPREY_CUDA_LAUNCH_CHECK();
    }
  });
  finish(given_input, gi);
  finish(given_offset, go);
}

bool float_input(const KernelContext& ctx, int index) {
  const DType d = ctx.input(index).dtype();
  return d == DType::f32 || d == DType::f64;
}

const bool registered = [] {
  register_kernel(
      "deformable_roi_pool", DeviceType::cuda, "native", 0, forward_kernel,
      [](const KernelContext& ctx) { return float_input(ctx, 0); },
      "thread per (RoI, channel, bin)");
  register_kernel(
      "deformable_roi_pool_backward", DeviceType::cuda, "native", 1,
      [](KernelContext& ctx) { backward_kernel(ctx, true); },
      [](const KernelContext& ctx) { return float_input(ctx, 1); },
      "deterministic: per-pixel lists from a device radix sort, gathered per input element; "
      "thread per bin for the offsets");
  register_kernel(
      "deformable_roi_pool_backward", DeviceType::cuda, "host_lists", 0,
      [](KernelContext& ctx) { backward_kernel(ctx, false); },
      [](const KernelContext& ctx) { return float_input(ctx, 1); },
      "deterministic: per-pixel lists built on the host (rois and offsets copied back)");
  return true;
}();

}  // namespace
}  // namespace osprey::ops
