// cuda/block kernel of anchor_targets: one thread block per image, which walks the CPU reference's
// steps with the same per-anchor arithmetic (anchor_targets_math.h): threads stride over the
// anchors; each gt's best IoU is an atomic max (IoUs are >= 0, so their bit patterns order as
// integers); sampling finds the reference's key threshold with a block-wide bitwise search
// (target_sampling.cuh), so the same (seed, offset) samples the same anchors as on the CPU.
// One block per image fits the SNIPER batch (16 chips × 21504 anchors) in one launch. f32, f64.
#include <cuda_runtime.h>

#include "framework/autograd/grad_mode.h"
#include "framework/dispatch/registry.h"
#include "ops/anchor_targets/anchor_targets_math.h"
#include "ops/common/cuda_loops.cuh"
#include "ops/common/target_sampling.cuh"
#include "ops/common/target_sampling.h"
#include "ops/random/random_elements.h"

namespace osprey::ops {
namespace {

namespace math = anchor_target_math;

constexpr int kBlock = 512;

__device__ void atomic_max_non_negative(float* address, float value) {
  atomicMax(reinterpret_cast<int*>(address), __float_as_int(value));
}
__device__ void atomic_max_non_negative(double* address, double value) {
  atomicMax(reinterpret_cast<unsigned long long*>(address),
            static_cast<unsigned long long>(__double_as_longlong(value)));
}

struct Sampling {
  int64_t batch_size, fg_quota;
  uint64_t seed, offset;
};

struct Inputs {
  int64_t count, gts;  // A, G
  const int64_t* gt_count;
  const bool* ignore;  // nullptr: none
};

template <typename T>
__global__ void __launch_bounds__(kBlock)
    anchor_targets_kernel(Inputs in, const T* anchors, const T* gt_boxes, const T* image_sizes,
                          math::Params<T> p, Sampling s, T* gt_best_all, int64_t* matched_all,
                          int64_t* labels_all, T* targets_all, T* weights_all) {
  const int64_t b = blockIdx.x, count = in.count;
  const T* gts = gt_boxes + 4 * in.gts * b;
  const bool* ignore = in.ignore ? in.ignore + in.gts * b : nullptr;
  const int64_t gt_count = in.gt_count[b];
  const T height = image_sizes[2 * b], width = image_sizes[2 * b + 1];
  T* gt_best = gt_best_all + in.gts * b;
  int64_t* matched = matched_all + count * b;
  int64_t* labels = labels_all + count * b;
  T* targets = targets_all + 4 * count * b;
  T* weights = weights_all + 4 * count * b;

  for (int64_t j = threadIdx.x; j < gt_count; j += blockDim.x) gt_best[j] = T(0);
  __syncthreads();
  for (int64_t a = threadIdx.x; a < count; a += blockDim.x) {
    const T* anchor = anchors + 4 * a;
    if (!math::inside(anchor, height, width, p.allowed_border)) continue;
    for (int64_t j = 0; j < gt_count; ++j) {
      if (math::valid_gt(ignore, j)) {
        atomic_max_non_negative(gt_best + j, box::iou(anchor, gts + 4 * j, p.offset));
      }
    }
  }
  __syncthreads();
  for (int64_t a = threadIdx.x; a < count; a += blockDim.x) {
    const T* anchor = anchors + 4 * a;
    matched[a] = -1;
    labels[a] =
        math::inside(anchor, height, width, p.allowed_border)
            ? math::label_before_sampling(anchor, gts, ignore, gt_count, gt_best, p, matched + a)
            : -1;
  }
  __syncthreads();
  if (s.batch_size > 0) {
    const uint64_t first = static_cast<uint64_t>(b * count);
    auto key = [&](int64_t a) {
      return sampling::sample_key(s.seed, s.offset, first + static_cast<uint64_t>(a),
                                  static_cast<uint32_t>(a));
    };
    const uint64_t fg_limit = sampling::block_keep_threshold(
        count, s.fg_quota, [&](int64_t a) { return labels[a] == 1; }, key);
    for (int64_t a = threadIdx.x; a < count; a += blockDim.x) {
      if (labels[a] == 1 && !(key(a) < fg_limit)) labels[a] = -1;
    }
    __syncthreads();
    int64_t fg = 0;
    for (int64_t start = 0; start < count; start += blockDim.x) {
      const int64_t a = start + threadIdx.x;
      fg += __syncthreads_count(a < count && labels[a] == 1);
    }
    const uint64_t bg_limit = sampling::block_keep_threshold(
        count, s.batch_size - fg, [&](int64_t a) { return labels[a] == 0; }, key);
    for (int64_t a = threadIdx.x; a < count; a += blockDim.x) {
      if (labels[a] == 0 && !(key(a) < bg_limit)) labels[a] = -1;
    }
    __syncthreads();
  }
  const box::DeltaWeights<T> unit{};
  for (int64_t a = threadIdx.x; a < count; a += blockDim.x) {
    const bool fg = labels[a] == 1;
    if (fg) box::encode(anchors + 4 * a, gts + 4 * matched[a], unit, p.offset, targets + 4 * a);
    for (int k = 0; k < 4; ++k) {
      if (!fg) targets[4 * a + k] = T(0);
      weights[4 * a + k] = fg ? T(1) : T(0);
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

void anchor_targets_cuda(KernelContext& ctx) {
  check_cuda_operands(ctx);
  autograd::NoGradGuard no_grad;
  Tensor anchors = ctx.input(0).contiguous();
  Tensor gt_boxes = ctx.input(1).contiguous();
  Tensor gt_count = ctx.input(2).to(DType::i64).contiguous();
  Tensor image_sizes = ctx.input(3).contiguous();
  Tensor ignore = ctx.input(4).defined() ? ctx.input(4).contiguous() : Tensor();
  const int64_t n = gt_boxes.size(0), g = gt_boxes.size(1), count = anchors.size(0);
  const Attrs& attrs = ctx.attrs();
  const Tensor& labels_given = ctx.output(0, {n, count}, DType::i64);
  const Tensor& targets_given = ctx.output(1, {n, count, 4}, anchors.dtype());
  const Tensor& weights_given = ctx.output(2, {n, count, 4}, anchors.dtype());
  Tensor labels = contiguous_scratch(labels_given), targets = contiguous_scratch(targets_given);
  Tensor weights = contiguous_scratch(weights_given);
  if (n > 0 && count > 0) {
    const random_detail::PhiloxPosition position = random_detail::philox_position(ctx);
    const int64_t batch = attrs.get_int("batch_size");
    const Sampling s{
        batch, static_cast<int64_t>(attrs.get_float("fg_fraction") * static_cast<double>(batch)),
        position.seed, position.offset};
    Tensor gt_best = Tensor::empty({n, g}, anchors.dtype(), anchors.device());
    Tensor matched = Tensor::empty({n, count}, DType::i64, anchors.device());
    const Inputs in{count, g, static_cast<const int64_t*>(gt_count.raw_data()),
                    ignore.defined() ? static_cast<const bool*>(ignore.raw_data()) : nullptr};
    cuda::DeviceGuard guard(anchors.device().index);
    cudaStream_t stream = cuda::current_stream();
    OSPREY_DISPATCH_FLOAT(anchors.dtype(), "anchor_targets", [&]<typename T>() {
      const math::Params<T> p{T(attrs.get_float("positive_iou")),
                              T(attrs.get_float("negative_iou")), T(attrs.get_float("ignore_iou")),
                              T(attrs.get_float("allowed_border")),
                              attrs.get_bool("legacy_plus_one") ? T(1) : T(0)};
      anchor_targets_kernel<T><<<static_cast<unsigned>(n), kBlock, 0, stream>>>(
          in, static_cast<const T*>(anchors.raw_data()), static_cast<const T*>(gt_boxes.raw_data()),
          static_cast<const T*>(image_sizes.raw_data()), p, s, static_cast<T*>(gt_best.raw_data()),
          static_cast<int64_t*>(matched.raw_data()), static_cast<int64_t*>(labels.raw_data()),
          static_cast<T*>(targets.raw_data()), static_cast<T*>(weights.raw_data()));
      OSPREY_CUDA_LAUNCH_CHECK();
    });
  }
  store(labels_given, labels);
  store(targets_given, targets);
  store(weights_given, weights);
}

bool float_boxes(const KernelContext& ctx) {
  const DType d = ctx.input(0).dtype();
  return d == DType::f32 || d == DType::f64;
}

const bool registered = [] {
  register_kernel("anchor_targets", DeviceType::cuda, "block", 0, anchor_targets_cuda, float_boxes,
                  "one thread block per image; same labels and samples as cpu/reference");
  return true;
}();

}  // namespace
}  // namespace osprey::ops
