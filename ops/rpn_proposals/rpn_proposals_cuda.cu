// cuda/device kernel of rpn_proposals: the CPU reference's steps on the GPU. One kernel decodes and
// filters every (image, anchor) with the shared arithmetic (rpn_proposals_math.h) and ranks dropped
// boxes at −inf; the `sort` op orders each image's row (stable, descending: the reference's tie
// order); then per image a gather kernel takes the pre-NMS top N, the `nms` op (dispatched: the
// CUDA nms) suppresses, and a write kernel copies the first post_nms_top_n survivors. The only
// host round trips are the per-image count of surviving boxes (one copy, which also carries the
// NaN-input flags) and nms's own. f32, f64.
#include <cuda_runtime.h>

#include <limits>
#include <vector>

#include "framework/autograd/grad_mode.h"
#include "framework/dispatch/registry.h"
#include "ops/common/cuda_loops.cuh"
#include "ops/nms/nms.h"
#include "ops/rpn_proposals/rpn_proposals_sizes.h"
#include "ops/sort/sort.h"

namespace osprey::ops {
namespace {

namespace math = rpn_proposal_math;

template <typename T>
__global__ void decode_kernel(int64_t n, int64_t a, const T* anchors, const T* deltas,
                              const T* scores, const T* image_sizes, const T* valid_ranges,
                              math::Params<T> p, T* boxes, T* ranked,
                              unsigned long long* survivors) {
  // survivors[b]: boxes image b keeps; survivors[n]: the nan_flags of every input, or-ed.
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n * a;
       i += stride) {
    const int64_t b = i / a;
    const unsigned flags = math::nan_flags(scores[i], deltas + 4 * i);
    if (flags != 0) atomicOr(survivors + n, static_cast<unsigned long long>(flags));
    T rank;
    const bool keep = math::proposal(anchors + 4 * (i % a), deltas + 4 * i, scores[i],
                                     image_sizes[2 * b], image_sizes[2 * b + 1],
                                     math::for_image(p, valid_ranges, b), boxes + 4 * i, &rank);
    ranked[i] = keep ? rank : -std::numeric_limits<T>::infinity();
    if (keep) atomicAdd(survivors + b, 1ull);
  }
}

// candidates[r] = boxes[order[r]], candidate_scores[r] = ranked[order[r]] for r < k.
template <typename T>
__global__ void gather_kernel(int64_t k, const int64_t* order, const T* boxes, const T* ranked,
                              T* candidates, T* candidate_scores) {
  const int64_t r = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (r >= k) return;
  const int64_t i = order[r];
  for (int c = 0; c < 4; ++c) candidates[4 * r + c] = boxes[4 * i + c];
  candidate_scores[r] = ranked[i];
}

// rois[r] = candidates[keep[r]], scores[r] = candidate_scores[keep[r]] for r < m.
template <typename T>
__global__ void write_kernel(int64_t m, const int64_t* keep, const T* candidates,
                             const T* candidate_scores, T* rois, T* scores) {
  const int64_t r = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (r >= m) return;
  const int64_t i = keep[r];
  for (int c = 0; c < 4; ++c) rois[4 * r + c] = candidates[4 * i + c];
  scores[r] = candidate_scores[i];
}

Tensor contiguous_scratch(const Tensor& given) {
  return given.is_contiguous() ? given
                               : Tensor::empty(given.shape(), given.dtype(), given.device());
}

void store(const Tensor& given, const Tensor& result) {
  if (!result.is_same(given) && given.numel() > 0) dispatch::call_out("copy", given, {result});
}

void zero(const Tensor& t, cudaStream_t stream) {
  if (t.numel() > 0) OSPREY_CUDA_CHECK(cudaMemsetAsync(t.raw_data(), 0, t.nbytes(), stream));
}

template <typename T>
T* ptr(const Tensor& t) {
  return static_cast<T*>(t.raw_data());
}

void rpn_proposals_cuda(KernelContext& ctx) {
  check_cuda_operands(ctx);
  autograd::NoGradGuard no_grad;
  Tensor scores = ctx.input(0).contiguous();
  Tensor deltas = ctx.input(1).contiguous();
  Tensor anchors = ctx.input(2).contiguous();
  Tensor image_sizes = ctx.input(3).contiguous();
  Tensor ranges = ctx.input(4).defined() ? ctx.input(4).contiguous() : Tensor();
  const Attrs& at = ctx.attrs();
  const int64_t n = scores.size(0), a = anchors.size(0);
  const int64_t pre = at.get_int("pre_nms_top_n"), post = at.get_int("post_nms_top_n");
  const double iou = at.get_float("nms_iou");
  const bool legacy = at.get_bool("legacy_plus_one");
  const DType dtype = anchors.dtype();
  const Device device = anchors.device();
  const Tensor& rois_given = ctx.output(0, {n, post, 4}, dtype);
  const Tensor& scores_given = ctx.output(1, {n, post}, dtype);
  const Tensor& count_given = ctx.output(2, {n}, DType::i64);
  Tensor rois = contiguous_scratch(rois_given), kept_scores = contiguous_scratch(scores_given);
  cuda::DeviceGuard guard(device.index);
  cudaStream_t stream = cuda::current_stream();
  zero(rois, stream);
  zero(kept_scores, stream);
  std::vector<int64_t> counts(static_cast<size_t>(n), 0);
  if (n > 0 && a > 0) {
    Tensor boxes = Tensor::empty({n, a, 4}, dtype, device);
    Tensor ranked = Tensor::empty({n, a}, dtype, device);
    Tensor survivors = Tensor::empty({n + 1}, DType::i64, device);
    zero(survivors, stream);
    OSPREY_DISPATCH_FLOAT(dtype, "rpn_proposals", [&]<typename T>() {
      decode_kernel<T><<<cuda_detail::blocks_for(n * a), cuda_detail::kThreads, 0, stream>>>(
          n, a, ptr<const T>(anchors), ptr<const T>(deltas), ptr<const T>(scores),
          ptr<const T>(image_sizes), ranges.defined() ? ptr<const T>(ranges) : nullptr,
          math::params<T>(at), ptr<T>(boxes), ptr<T>(ranked), ptr<unsigned long long>(survivors));
      OSPREY_CUDA_LAUNCH_CHECK();
    });
    const Tensor order = sort(ranked, 1, /*descending=*/true, /*stable=*/true).second.contiguous();
    const std::vector<int64_t> kept = survivors.cpu().to_vector<int64_t>();
    math::check_nan_flags(static_cast<unsigned>(kept[n]), "");
    for (int64_t b = 0; b < n; ++b) {
      const int64_t k = pre > 0 ? std::min(kept[b], pre) : kept[b];
      if (k == 0 || post == 0) continue;
      Tensor candidates = Tensor::empty({k, 4}, dtype, device);
      Tensor candidate_scores = Tensor::empty({k}, dtype, device);
      OSPREY_DISPATCH_FLOAT(dtype, "rpn_proposals", [&]<typename T>() {
        gather_kernel<T><<<cuda_detail::blocks_for(k), cuda_detail::kThreads, 0, stream>>>(
            k, ptr<const int64_t>(order) + b * a, ptr<const T>(boxes) + 4 * b * a,
            ptr<const T>(ranked) + b * a, ptr<T>(candidates), ptr<T>(candidate_scores));
        OSPREY_CUDA_LAUNCH_CHECK();
      });
      Tensor keep = nms(candidates, candidate_scores, iou, legacy).contiguous();
      const int64_t m = std::min(post, keep.numel());
      counts[b] = m;
      if (m == 0) continue;
      OSPREY_DISPATCH_FLOAT(dtype, "rpn_proposals", [&]<typename T>() {
        write_kernel<T><<<cuda_detail::blocks_for(m), cuda_detail::kThreads, 0, stream>>>(
            m, ptr<const int64_t>(keep), ptr<const T>(candidates), ptr<const T>(candidate_scores),
            ptr<T>(rois) + 4 * b * post, ptr<T>(kept_scores) + b * post);
        OSPREY_CUDA_LAUNCH_CHECK();
      });
    }
  }
  store(rois_given, rois);
  store(scores_given, kept_scores);
  store(count_given, Tensor::from_vector<int64_t>(counts, {n}, device));
}

bool float_scores(const KernelContext& ctx) {
  const DType d = ctx.input(0).dtype();
  return d == DType::f32 || d == DType::f64;
}

const bool registered = [] {
  register_kernel("rpn_proposals", DeviceType::cuda, "device", 0, rpn_proposals_cuda, float_scores,
                  "decode kernel, sort op, per-image gather + nms op + write");
  return true;
}();

}  // namespace
}  // namespace osprey::ops
