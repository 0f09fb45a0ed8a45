// cuda/block kernel of proposal_targets: one thread block per image, walking the CPU reference's
// steps with the same per-candidate arithmetic (proposal_targets_math.h). Threads stride over the
// candidates to label them; sampling finds the reference's key thresholds with a block-wide
// bitwise search (target_sampling.cuh), so the same (seed, offset) keeps the same RoIs; thread 0
// builds the short serial lists (the inserted gts, the kept candidates in order: a few hundred
// entries per image). f32 and f64.
#include <cuda_runtime.h>

#include "framework/autograd/grad_mode.h"
#include "framework/dispatch/registry.h"
#include "ops/common/cuda_loops.cuh"
#include "ops/common/target_sampling.cuh"
#include "ops/common/target_sampling.h"
#include "ops/proposal_targets/proposal_targets_sizes.h"
#include "ops/random/random_elements.h"

namespace osprey::ops {
namespace {

namespace math = proposal_target_math;
using proposal_target_sizes::Sizes;

constexpr int kBlock = 256;

struct Settings {
  int mode;
  int64_t batch_size, fg_quota;
  bool class_agnostic;
  uint64_t seed, offset;
};

struct Inputs {
  const int64_t *roi_count, *classes, *gt_count;
  const bool* group_of;  // nullptr: none
};

// Per-image scratch: candidate boxes (C, 4), labels, matched gts, best IoUs (C each), the
// inserted gts (G) and the output order (S).
template <typename T>
struct Scratch {
  T* boxes;
  int64_t *labels, *matched;
  T* best;
  int64_t *inserted, *order;
};

template <typename T>
struct Outputs {
  T *rois, *label_weights, *targets, *weights;
  int64_t *labels, *count;
};

template <typename T>
__global__ void __launch_bounds__(kBlock)
    proposal_targets_kernel(Sizes z, Settings s, Inputs in, const T* rois_all, const T* gts_all,
                            const T* insert_ranges, math::Params<T> p, box::DeltaWeights<T> dw,
                            Scratch<T> w, Outputs<T> out) {
  const int64_t b = blockIdx.x;
  p = math::for_image(p, insert_ranges, b);
  const T* rois = rois_all + 4 * z.slots * b;
  const T* gts = gts_all + 4 * z.gts * b;
  const int64_t* classes = in.classes + z.gts * b;
  const bool* group_of = in.group_of ? in.group_of + z.gts * b : nullptr;
  const int64_t gt_count = in.gt_count[b];
  T* boxes = w.boxes + 4 * z.candidates * b;
  int64_t* labels = w.labels + z.candidates * b;
  int64_t* matched = w.matched + z.candidates * b;
  T* best = w.best + z.candidates * b;
  int64_t* inserted = w.inserted + z.gts * b;
  int64_t* order = w.order + z.out_slots * b;

  __shared__ int64_t shared_rois, shared_count, shared_kept;
  if (threadIdx.x == 0) {
    int64_t n = 0;
    for (int64_t j = 0; j < gt_count; ++j) {
      if (math::inserted_gt(gts, group_of, j, p)) inserted[n++] = j;
    }
    const math::Split split = math::split(s.mode, in.roi_count[b], z.slots, n);
    shared_rois = split.rois;
    shared_count = split.rois + split.gts;
  }
  __syncthreads();
  const int64_t n_rois = shared_rois, count = shared_count;
  for (int64_t c = threadIdx.x; c < count; c += blockDim.x) {
    const T* src = c < n_rois ? rois + 4 * c : gts + 4 * inserted[c - n_rois];
    for (int k = 0; k < 4; ++k) boxes[4 * c + k] = src[k];
    labels[c] =
        math::label_of(boxes + 4 * c, gts, classes, group_of, gt_count, p, matched + c, best + c);
  }
  __syncthreads();
  if (s.batch_size > 0) {
    const uint64_t first = static_cast<uint64_t>(b * z.candidates);
    auto key = [&](int64_t c) {
      return sampling::sample_key(s.seed, s.offset, first + static_cast<uint64_t>(c),
                                  static_cast<uint32_t>(c));
    };
    auto fg = [&](int64_t c) { return labels[c] > 0; };
    auto bg = [&](int64_t c) { return labels[c] == 0; };
    const uint64_t fg_limit = sampling::block_keep_threshold(count, s.fg_quota, fg, key);
    int64_t kept_fg = 0;
    for (int64_t start = 0; start < count; start += blockDim.x) {
      const int64_t c = start + threadIdx.x;
      kept_fg += __syncthreads_count(c < count && fg(c) && key(c) < fg_limit);
    }
    const uint64_t bg_limit =
        sampling::block_keep_threshold(count, s.batch_size - kept_fg, bg, key);
    if (threadIdx.x == 0) {
      int64_t k = 0;
      for (int64_t c = 0; c < count; ++c) {
        if (fg(c) && key(c) < fg_limit) order[k++] = c;
      }
      for (int64_t c = 0; c < count; ++c) {
        if (bg(c) && key(c) < bg_limit) order[k++] = c;
      }
      shared_kept = k;
    }
  } else if (threadIdx.x == 0) {
    for (int64_t c = 0; c < count; ++c) order[c] = c;
    shared_kept = count;
  }
  __syncthreads();
  const int64_t kept = shared_kept;
  if (threadIdx.x == 0) out.count[b] = kept;
  for (int64_t slot = threadIdx.x; slot < z.out_slots; slot += blockDim.x) {
    const int64_t i = b * z.out_slots + slot;
    T* targets = out.targets + i * z.target_columns;
    T* weights = out.weights + i * z.target_columns;
    for (int64_t k = 0; k < z.target_columns; ++k) targets[k] = weights[k] = T(0);
    if (slot >= kept) {
      for (int k = 0; k < 4; ++k) out.rois[4 * i + k] = T(0);
      out.labels[i] = -1;
      out.label_weights[i] = T(0);
      continue;
    }
    const int64_t c = order[slot];
    for (int k = 0; k < 4; ++k) out.rois[4 * i + k] = boxes[4 * c + k];
    out.labels[i] = labels[c];
    out.label_weights[i] = math::label_weight(labels[c], best[c], p.soft_sampling);
    if (labels[c] > 0) {
      const int64_t column = s.class_agnostic ? 0 : 4 * labels[c];
      box::encode(boxes + 4 * c, gts + 4 * matched[c], dw, p.offset, targets + column);
      for (int k = 0; k < 4; ++k) weights[column + k] = T(1);
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

template <typename T>
T* ptr(const Tensor& t) {
  return static_cast<T*>(t.raw_data());
}

void proposal_targets_cuda(KernelContext& ctx) {
  check_cuda_operands(ctx);
  autograd::NoGradGuard no_grad;
  Tensor rois = ctx.input(0).contiguous();
  Tensor roi_count = ctx.input(1).to(DType::i64).contiguous();
  Tensor gts = ctx.input(2).contiguous();
  Tensor classes = ctx.input(3).to(DType::i64).contiguous();
  Tensor gt_count = ctx.input(4).to(DType::i64).contiguous();
  Tensor group_of = ctx.input(5).defined() ? ctx.input(5).contiguous() : Tensor();
  Tensor ranges = ctx.input(6).defined() ? ctx.input(6).contiguous() : Tensor();
  const Attrs& a = ctx.attrs();
  const Sizes z = proposal_target_sizes::sizes(rois.size(0), rois.size(1), gts.size(1), a);
  const DType dtype = rois.dtype();
  const Device device = rois.device();
  const Tensor& rois_given = ctx.output(0, {z.images, z.out_slots, 4}, dtype);
  const Tensor& labels_given = ctx.output(1, {z.images, z.out_slots}, DType::i64);
  const Tensor& label_weights_given = ctx.output(2, {z.images, z.out_slots}, dtype);
  const Tensor& targets_given = ctx.output(3, {z.images, z.out_slots, z.target_columns}, dtype);
  const Tensor& weights_given = ctx.output(4, {z.images, z.out_slots, z.target_columns}, dtype);
  const Tensor& count_given = ctx.output(5, {z.images}, DType::i64);
  Tensor rois_out = contiguous_scratch(rois_given), labels_out = contiguous_scratch(labels_given);
  Tensor label_weights_out = contiguous_scratch(label_weights_given);
  Tensor targets_out = contiguous_scratch(targets_given);
  Tensor weights_out = contiguous_scratch(weights_given);
  Tensor count_out = contiguous_scratch(count_given);
  if (z.images > 0) {
    const random_detail::PhiloxPosition position = random_detail::philox_position(ctx);
    const Settings s{proposal_target_sizes::gt_mode(a),
                     a.get_int("batch_size"),
                     proposal_target_sizes::fg_quota(a),
                     a.get_bool("class_agnostic"),
                     position.seed,
                     position.offset};
    const Inputs in{ptr<const int64_t>(roi_count), ptr<const int64_t>(classes),
                    ptr<const int64_t>(gt_count),
                    group_of.defined() ? ptr<const bool>(group_of) : nullptr};
    const std::vector<double> dwv = a.get_floats("delta_weights");
    const int64_t candidates = std::max<int64_t>(z.candidates, 1);
    Tensor boxes = Tensor::empty({z.images, candidates, 4}, dtype, device);
    Tensor best = Tensor::empty({z.images, candidates}, dtype, device);
    Tensor cand_labels = Tensor::empty({z.images, candidates}, DType::i64, device);
    Tensor matched = Tensor::empty({z.images, candidates}, DType::i64, device);
    Tensor inserted = Tensor::empty({z.images, std::max<int64_t>(z.gts, 1)}, DType::i64, device);
    Tensor order = Tensor::empty({z.images, std::max<int64_t>(z.out_slots, 1)}, DType::i64, device);
    cuda::DeviceGuard guard(device.index);
    cudaStream_t stream = cuda::current_stream();
    OSPREY_DISPATCH_FLOAT(dtype, "proposal_targets", [&]<typename T>() {
      const math::Params<T> p = proposal_target_sizes::params<T>(a);
      box::DeltaWeights<T> dw;
      dw.wx = T(dwv[0]), dw.wy = T(dwv[1]), dw.ww = T(dwv[2]), dw.wh = T(dwv[3]);
      const Scratch<T> w{ptr<T>(boxes), ptr<int64_t>(cand_labels), ptr<int64_t>(matched),
                         ptr<T>(best),  ptr<int64_t>(inserted),    ptr<int64_t>(order)};
      const Outputs<T> out{ptr<T>(rois_out),    ptr<T>(label_weights_out), ptr<T>(targets_out),
                           ptr<T>(weights_out), ptr<int64_t>(labels_out),  ptr<int64_t>(count_out)};
      proposal_targets_kernel<T><<<static_cast<unsigned>(z.images), kBlock, 0, stream>>>(
          z, s, in, ptr<const T>(rois), ptr<const T>(gts),
          ranges.defined() ? ptr<const T>(ranges) : nullptr, p, dw, w, out);
      OSPREY_CUDA_LAUNCH_CHECK();
    });
  }
  store(rois_given, rois_out);
  store(labels_given, labels_out);
  store(label_weights_given, label_weights_out);
  store(targets_given, targets_out);
  store(weights_given, weights_out);
  store(count_given, count_out);
}

bool float_rois(const KernelContext& ctx) {
  const DType d = ctx.input(0).dtype();
  return d == DType::f32 || d == DType::f64;
}

const bool registered = [] {
  register_kernel("proposal_targets", DeviceType::cuda, "block", 0, proposal_targets_cuda,
                  float_rois,
                  "one thread block per image; same labels and samples as cpu/reference");
  return true;
}();

}  // namespace
}  // namespace osprey::ops
