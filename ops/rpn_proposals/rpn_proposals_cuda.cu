// cuda/device kernel of rpn_proposals: the CPU reference's steps on the GPU, with no host round
// trip between them (cpu/segmented runs the same algorithm on the host; the case list checks it).
//   1. decode kernel: every (image, anchor) decoded and filtered with the shared arithmetic
//      (rpn_proposals_math.h), dropped boxes ranked at −inf; survivors per image counted on the
//      device, NaN-input flags OR-ed into one device word;
//   2. the `sort` op orders each image's row (stable, descending: the reference's tie order);
//   3. gather kernel: image b's first min(survivors[b], cap) boxes into segment b of a (N, cap)
//      layout (cap = pre_nms_top_n, or A), their count into lengths[b];
//   4. segmented bitmask NMS (ops/nms/segmented_nms_cuda.cuh): ONE mask launch for all images'
//      IoU tiles, ONE scan launch (a block per image) writing kept indices and counts (images
//      split into groups only when their masks would pass 256 MiB: pre_nms_top_n = 0);
//   5. write kernel: the first post_nms_top_n kept boxes of each image and count[b], on the device.
// Validate's value checks of anchors, image sizes and valid ranges also run here, on the device
// (a check kernel ORs a flag), instead of host copies. The host reads back one 8-byte flag word
// once, after everything is queued, so a bad value or a NaN score / delta is still an argument
// error of this call; only then are inputs copied to name the argument and row. f32, f64.
#include <cuda_runtime.h>

#include <limits>
#include <vector>

#include <fmt/format.h>

#include "framework/autograd/grad_mode.h"
#include "framework/dispatch/registry.h"
#include "ops/common/cuda_loops.cuh"
#include "ops/nms/segmented_nms_cuda.cuh"
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

// validate's value checks on the device: any bad anchor, image size or valid range sets
// kBadInputValues in the flag word (the host names the row on the error path).
template <typename T>
__global__ void check_values_kernel(int64_t n, int64_t a, const T* anchors, const T* image_sizes,
                                    const T* valid_ranges, unsigned long long* flags) {
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  const int64_t count = n > a ? n : a;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < count;
       i += step) {
    const bool bad = math::bad_input_values(
        i < a ? anchors + 4 * i : nullptr, i < n ? image_sizes + 2 * i : nullptr,
        i < n && valid_ranges != nullptr ? valid_ranges + 2 * i : nullptr);
    if (bad) atomicOr(flags, static_cast<unsigned long long>(math::kBadInputValues));
  }
}

// Segment b of the NMS layout: candidates[b, r] = boxes[b, order[b, r]] for r < lengths[b] =
// min(survivors[b], cap); survivors rank first in each sorted row.
template <typename T>
__global__ void gather_kernel(int64_t n, int64_t a, int64_t cap, const int64_t* survivors,
                              const int64_t* order, const T* boxes, const T* ranked, T* candidates,
                              T* candidate_scores, int64_t* lengths) {
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n * cap;
       i += step) {
    const int64_t b = i / cap, r = i % cap;
    const int64_t len = survivors[b] < cap ? survivors[b] : cap;
    if (r == 0) lengths[b] = len;
    if (r >= len) continue;
    const int64_t j = b * a + order[b * a + r];
    for (int c = 0; c < 4; ++c) candidates[4 * i + c] = boxes[4 * j + c];
    candidate_scores[i] = ranked[j];
  }
}

// rois[b, r] = candidates[b, keep[b, r]] for r < count[b] = min(post, kept[b]); the rest stays 0.
template <typename T>
__global__ void write_kernel(int64_t n, int64_t cap, int64_t post, const int64_t* kept,
                             const int64_t* keep, const T* candidates, const T* candidate_scores,
                             T* rois, T* scores, int64_t* count) {
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n * post;
       i += step) {
    const int64_t b = i / post, r = i % post;
    const int64_t m = kept[b] < post ? kept[b] : post;
    if (r == 0) count[b] = m;
    if (r >= m) continue;
    const int64_t c = b * cap + keep[b * cap + r];
    for (int k = 0; k < 4; ++k) rois[4 * i + k] = candidates[4 * c + k];
    scores[i] = candidate_scores[c];
  }
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

// Error path only (after the flag word said so): the inputs copied to the host to name the first
// NaN's image and anchor, as the CPU kernels do.
[[noreturn]] void throw_first_nan(const Tensor& scores, const Tensor& deltas, int64_t a) {
  OSPREY_DISPATCH_FLOAT(scores.dtype(), "rpn_proposals", [&]<typename T>() {
    const std::vector<T> s = scores.cpu().to_vector<T>(), d = deltas.cpu().to_vector<T>();
    for (size_t i = 0; i < s.size(); ++i) {
      const unsigned flags = math::nan_flags(s[i], d.data() + 4 * i);
      if (flags != 0) {
        const auto k = static_cast<int64_t>(i);
        math::check_nan_flags(flags, fmt::format(" (image {}, anchor {})", k / a, k % a));
      }
    }
  });
  OSPREY_THROW(internal,
               "rpn_proposals: the device flagged a NaN input the host copy does not have");
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
  const int64_t cap = pre > 0 ? std::min(pre, a) : a;
  const DType dtype = anchors.dtype();
  const Device device = anchors.device();
  const Tensor& rois_given = ctx.output(0, {n, post, 4}, dtype);
  const Tensor& scores_given = ctx.output(1, {n, post}, dtype);
  const Tensor& count_given = ctx.output(2, {n}, DType::i64);
  Tensor rois = contiguous_scratch(rois_given), kept_scores = contiguous_scratch(scores_given);
  Tensor count = contiguous_scratch(count_given);
  cuda::DeviceGuard guard(device.index);
  cudaStream_t stream = cuda::current_stream();
  zero(rois, stream);
  zero(kept_scores, stream);
  zero(count, stream);
  // survivors[b]: boxes image b keeps; survivors[n]: the flag word (NaN inputs, bad values).
  Tensor survivors = Tensor::empty({n + 1}, DType::i64, device);
  zero(survivors, stream);
  auto* flag_word = ptr<unsigned long long>(survivors) + n;
  if (n > 0 || a > 0) {
    OSPREY_DISPATCH_FLOAT(dtype, "rpn_proposals", [&]<typename T>() {
      check_values_kernel<T>
          <<<cuda_detail::blocks_for(std::max(n, a)), cuda_detail::kThreads, 0, stream>>>(
              n, a, ptr<const T>(anchors), ptr<const T>(image_sizes),
              ranges.defined() ? ptr<const T>(ranges) : nullptr, flag_word);
      OSPREY_CUDA_LAUNCH_CHECK();
    });
  }
  if (n > 0 && a > 0) {
    Tensor boxes = Tensor::empty({n, a, 4}, dtype, device);
    Tensor ranked = Tensor::empty({n, a}, dtype, device);
    OSPREY_DISPATCH_FLOAT(dtype, "rpn_proposals", [&]<typename T>() {
      decode_kernel<T><<<cuda_detail::blocks_for(n * a), cuda_detail::kThreads, 0, stream>>>(
          n, a, ptr<const T>(anchors), ptr<const T>(deltas), ptr<const T>(scores),
          ptr<const T>(image_sizes), ranges.defined() ? ptr<const T>(ranges) : nullptr,
          math::params<T>(at), ptr<T>(boxes), ptr<T>(ranked), ptr<unsigned long long>(survivors));
      OSPREY_CUDA_LAUNCH_CHECK();
    });
    const Tensor order = sort(ranked, 1, /*descending=*/true, /*stable=*/true).second.contiguous();
    if (post > 0) {
      const int64_t words = segmented_nms::words_for(cap);
      // Images per mask/scan launch pair (all 16 of the issue's batch; fewer for pre_nms_top_n =
      // 0).
      const int64_t group = segmented_nms::segments_per_launch(cap, n);
      Tensor candidates = Tensor::empty({n, cap, 4}, dtype, device);
      Tensor candidate_scores = Tensor::empty({n, cap}, dtype, device);
      Tensor lengths = Tensor::empty({n}, DType::i64, device);
      Tensor mask = Tensor::empty({group * cap * words}, DType::i64, device);
      Tensor keep = Tensor::empty({n, cap}, DType::i64, device);
      Tensor kept = Tensor::empty({n}, DType::i64, device);
      auto* mask_ptr = reinterpret_cast<uint64_t*>(ptr<int64_t>(mask));
      OSPREY_DISPATCH_FLOAT(dtype, "rpn_proposals", [&]<typename T>() {
        gather_kernel<T><<<cuda_detail::blocks_for(n * cap), cuda_detail::kThreads, 0, stream>>>(
            n, a, cap, ptr<const int64_t>(survivors), ptr<const int64_t>(order),
            ptr<const T>(boxes), ptr<const T>(ranked), ptr<T>(candidates), ptr<T>(candidate_scores),
            ptr<int64_t>(lengths));
        OSPREY_CUDA_LAUNCH_CHECK();
      });
      for (int64_t b0 = 0; b0 < n; b0 += group) {
        const int64_t images = std::min(group, n - b0);
        const int64_t* seg_lengths = ptr<const int64_t>(lengths) + b0;
        OSPREY_DISPATCH_FLOAT(dtype, "rpn_proposals", [&]<typename T>() {
          const dim3 grid(static_cast<unsigned>(words), static_cast<unsigned>(words),
                          static_cast<unsigned>(images));
          segmented_nms::segmented_nms_mask<T><<<grid, segmented_nms::kTile, 0, stream>>>(
              cap, seg_lengths, ptr<const T>(candidates) + 4 * b0 * cap, nullptr,
              static_cast<T>(at.get_float("nms_iou")), math::params<T>(at).offset, mask_ptr);
          OSPREY_CUDA_LAUNCH_CHECK();
        });
        segmented_nms::segmented_nms_scan<segmented_nms::kScanThreads>
            <<<static_cast<unsigned>(images), segmented_nms::kScanThreads,
               static_cast<size_t>(words) * sizeof(uint64_t), stream>>>(
                cap, seg_lengths, mask_ptr, nullptr, ptr<int64_t>(keep) + b0 * cap,
                ptr<int64_t>(kept) + b0);
        OSPREY_CUDA_LAUNCH_CHECK();
      }
      OSPREY_DISPATCH_FLOAT(dtype, "rpn_proposals", [&]<typename T>() {
        write_kernel<T><<<cuda_detail::blocks_for(n * post), cuda_detail::kThreads, 0, stream>>>(
            n, cap, post, ptr<const int64_t>(kept), ptr<const int64_t>(keep),
            ptr<const T>(candidates), ptr<const T>(candidate_scores), ptr<T>(rois),
            ptr<T>(kept_scores), ptr<int64_t>(count));
        OSPREY_CUDA_LAUNCH_CHECK();
      });
    }
  }
  if (n > 0 || a > 0) {
    // The one read-back, after every kernel is queued: the flag word (8 bytes). Error path: the
    // host checks name the argument and row, in validate's order, then the first NaN.
    unsigned long long flags = 0;
    OSPREY_CUDA_CHECK(
        cudaMemcpyAsync(&flags, flag_word, sizeof(flags), cudaMemcpyDeviceToHost, stream));
    OSPREY_CUDA_CHECK(cudaStreamSynchronize(stream));
    if (flags & math::kBadInputValues) {
      rpn_proposals_check_values(anchors, image_sizes, ranges);
      OSPREY_THROW(internal,
                   "rpn_proposals: the device flagged a bad anchor, image size or range "
                   "value that the host check does not find");
    }
    if (flags != 0) throw_first_nan(scores, deltas, a);
  }
  store(rois_given, rois);
  store(scores_given, kept_scores);
  store(count_given, count);
}

// The scan keeps a segment's removed bits in shared memory (48 KiB without opting in), and the
// mask grid's z dimension holds the images.
bool rpn_proposals_cuda_supports(const KernelContext& ctx) {
  const DType d = ctx.input(0).dtype();
  const int64_t a = ctx.input(2).size(0), pre = ctx.attrs().get_int("pre_nms_top_n");
  const int64_t cap = pre > 0 ? std::min(pre, a) : a;
  return (d == DType::f32 || d == DType::f64) && cap <= segmented_nms::kMaxSegmentBoxes &&
         ctx.input(0).size(0) <= 65535;
}

const bool registered = [] {
  register_kernel("rpn_proposals", DeviceType::cuda, "device", 0, rpn_proposals_cuda,
                  rpn_proposals_cuda_supports,
                  "decode kernel, sort op, gather, one segmented bitmask NMS for all images, "
                  "write; one 8-byte read-back");
  return true;
}();

}  // namespace
}  // namespace osprey::ops
