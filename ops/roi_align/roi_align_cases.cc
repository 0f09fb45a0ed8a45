// Case list of roi_align and roi_align_backward: both attribute rules (aligned or legacy), fixed
// and adaptive sampling, boxes over the map's edges and smaller than a pixel, several images with
// unsorted RoIs, zero RoIs, an empty batch, a 1 × 1 map, channels-last and non-contiguous inputs,
// and larger cases (values only) that take the fast kernels' parallel paths.
#include "ops/roi_align/roi_align_cases.h"

#include "framework/autograd/grad_mode.h"
#include "ops/common/case_helpers.h"
#include "ops/common/roi_cases.h"

namespace osprey::ops {
namespace {

using dispatch::Attrs;
using dispatch::OpCase;

struct AlignCase {
  const char* name;
  Shape input;
  int64_t rois;
  Attrs attrs;
  enum Layout { plain, strided, channels_last } layout = plain;
  bool large = false;  // values only: too big for the full-Jacobian gradient check
  double outside = 1.5;
};

Attrs align_attrs(std::vector<int64_t> size, double scale, int64_t sampling, bool aligned) {
  return {{"output_size", size},
          {"spatial_scale", scale},
          {"sampling_ratio", sampling},
          {"aligned", aligned}};
}

std::vector<AlignCase> align_cases() {
  return {
      {"aligned-sampling-2", {2, 3, 6, 7}, 5, align_attrs({3}, 1.0, 2, true)},
      {"legacy-adaptive", {2, 2, 6, 5}, 4, align_attrs({2, 3}, 0.5, -1, false)},
      {"aligned-adaptive", {1, 2, 7, 6}, 4, align_attrs({3, 2}, 0.25, 0, true)},
      {"sampling-3", {1, 2, 5, 5}, 3, align_attrs({2}, 1.0, 3, false)},
      {"far-outside",
       {1, 2, 4, 4},
       4,
       align_attrs({2}, 1.0, 2, true),
       AlignCase::plain,
       false,
       4.0},
      {"map-1x1", {2, 2, 1, 1}, 3, align_attrs({2}, 1.0, 2, true)},
      {"zero-rois", {2, 3, 4, 4}, 0, align_attrs({2}, 1.0, 2, true)},
      {"empty-batch", {0, 2, 4, 4}, 0, align_attrs({2}, 1.0, 2, true)},
      {"channels-last",
       {2, 4, 5, 6},
       4,
       align_attrs({2, 3}, 0.5, 2, true),
       AlignCase::channels_last},
      {"non-contiguous", {1, 3, 5, 4}, 3, align_attrs({2}, 1.0, -1, false), AlignCase::strided},
      {"large", {2, 70, 12, 11}, 24, align_attrs({7}, 0.25, 2, true), AlignCase::plain, true},
      {"large-channels-last",
       {3, 40, 9, 10},
       17,
       align_attrs({5, 4}, 1.0, -1, false),
       AlignCase::channels_last,
       true},
  };
}

Tensor laid_out(const Tensor& t, AlignCase::Layout layout) {
  if (layout == AlignCase::strided) return non_contiguous(t);
  if (layout == AlignCase::channels_last) return t.contiguous(MemoryFormat::channels_last);
  return t;
}

Tensor rois_for(CaseRandom& rng, const AlignCase& c, DType dtype) {
  Tensor rois = case_rois(rng, c.rois, c.input[0], c.input[2], c.input[3],
                          c.attrs.get_float("spatial_scale"), dtype, c.outside);
  return c.layout == AlignCase::strided ? non_contiguous(rois) : rois;
}

}  // namespace

std::vector<OpCase> roi_align_cases(DType dtype, uint64_t seed) {
  CaseRandom rng(seed);
  autograd::NoGradGuard no_grad;
  std::vector<OpCase> cases;
  for (const AlignCase& c : align_cases()) {
    Tensor input = laid_out(rng.uniform(c.input, dtype), c.layout);
    cases.push_back({c.name, {input, rois_for(rng, c, dtype)}, c.attrs, c.large});
  }
  return cases;
}

std::vector<OpCase> roi_align_backward_cases(DType dtype, uint64_t seed) {
  CaseRandom rng(seed);
  autograd::NoGradGuard no_grad;
  std::vector<OpCase> cases;
  for (const AlignCase& c : align_cases()) {
    Tensor rois = rois_for(rng, c, dtype);
    const std::vector<int64_t> size = c.attrs.get_ints("output_size");
    const Shape grad_shape{c.rois, c.input[1], size[0], size.back()};
    Attrs attrs = c.attrs;
    attrs.set("input_size", c.input);
    cases.push_back(
        {c.name, {laid_out(rng.uniform(grad_shape, dtype), c.layout), rois}, attrs, c.large});
  }
  return cases;
}

}  // namespace osprey::ops
