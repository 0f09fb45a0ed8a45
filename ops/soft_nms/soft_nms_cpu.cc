// CPU reference of soft_nms: SNIPER's cpu_soft_nms loop, positions swapped exactly as there
// (see soft_nms.h), carrying each position's input index along. O(N^2), serial: the swaps make
// every step depend on the previous one. f32/f64, arithmetic in the input dtype.
#include <cmath>
#include <utility>

#include "ops/common/box_checks.h"
#include "ops/common/box_geometry.h"

namespace osprey::ops {
namespace {

enum class Decay { gaussian, linear, hard };

template <typename T>
T decay_weight(Decay decay, T iou, T sigma, T iou_threshold) {
  switch (decay) {
    case Decay::gaussian:
      return std::exp(-(iou * iou) / sigma);
    case Decay::linear:
      return iou > iou_threshold ? T(1) - iou : T(1);
    case Decay::hard:
      break;
  }
  return iou > iou_threshold ? T(0) : T(1);
}

template <typename T>
void soft_nms_loop(std::vector<T>& box, std::vector<T>& score, std::vector<int64_t>& index,
                   int64_t& n, Decay decay, T sigma, T iou_threshold, T score_threshold, T offset) {
  auto swap_positions = [&](int64_t p, int64_t q) {
    for (int c = 0; c < 4; ++c) std::swap(box[4 * p + c], box[4 * q + c]);
    std::swap(score[p], score[q]);
    std::swap(index[p], index[q]);
  };
  auto move_position = [&](int64_t to, int64_t from) {
    for (int c = 0; c < 4; ++c) box[4 * to + c] = box[4 * from + c];
    score[to] = score[from];
    index[to] = index[from];
  };
  for (int64_t i = 0; i < n; ++i) {
    int64_t best = i;
    for (int64_t p = i + 1; p < n; ++p) {
      if (score[best] < score[p]) best = p;
    }
    swap_positions(i, best);
    const T* selected = box.data() + 4 * i;
    for (int64_t p = i + 1; p < n; ++p) {
      const T* other = box.data() + 4 * p;
      if (!(box::intersection(selected, other, offset) > T(0))) continue;
      score[p] *= decay_weight(decay, box::iou(selected, other, offset), sigma, iou_threshold);
      if (score[p] < score_threshold) {
        move_position(p, n - 1);
        --n;
        --p;
      }
    }
  }
}

void soft_nms_reference(KernelContext& ctx) {
  const Tensor boxes = ctx.input(0).contiguous();
  const Tensor scores = ctx.input(1).contiguous();
  const Attrs& a = ctx.attrs();
  const std::string& method = a.get_string("method");
  const Decay decay = method == "gaussian" ? Decay::gaussian
                      : method == "linear" ? Decay::linear
                                           : Decay::hard;
  int64_t n = boxes.size(0);
  OSPREY_DISPATCH_FLOAT(boxes.dtype(), "soft_nms", [&]<typename T>() {
    std::vector<T> box(boxes.data<T>(), boxes.data<T>() + 4 * n);
    std::vector<T> score(scores.data<T>(), scores.data<T>() + n);
    std::vector<int64_t> index(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) index[i] = i;
    soft_nms_loop<T>(box, score, index, n, decay, static_cast<T>(a.get_float("sigma")),
                     static_cast<T>(a.get_float("iou_threshold")),
                     static_cast<T>(a.get_float("score_threshold")), static_cast<T>(box_offset(a)));
    index.resize(n);
    score.resize(n);
    ctx.output(0, {n}, DType::i64).copy_(Tensor::from_vector<int64_t>(index, {n}));
    ctx.output(1, {n}, boxes.dtype()).copy_(Tensor::from_vector<T>(score, {n}));
  });
}

const bool registered = [] {
  register_kernel("soft_nms", DeviceType::cpu, "reference", 0, soft_nms_reference, inputs_are_float,
                  "SNIPER's cpu_soft_nms loop with its position swaps; f32/f64");
  return true;
}();

}  // namespace
}  // namespace osprey::ops
