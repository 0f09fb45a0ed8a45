// Schema, argument checks, cases and CPU reference of clip_boxes_to_image (see the header).
#include "ops/clip_boxes_to_image/clip_boxes_to_image.h"

#include "framework/dispatch/registry.h"
#include "ops/common/box_cases.h"
#include "ops/common/box_checks.h"
#include "ops/common/box_geometry.h"

namespace osprey::ops {
namespace {

void validate_clip(const KernelContext& ctx) {
  check_boxes(ctx, 0);
  const std::vector<int64_t> size = ctx.attrs().get_ints("size");
  OSPREY_CHECK(size.size() == 2 && size[0] > 0 && size[1] > 0,
               "clip_boxes_to_image: 'size' must be [height, width] with both positive, got {}",
               shape_str(size));
}

std::vector<OpCase> clip_cases(DType dtype, uint64_t seed) {
  CaseRandom rng(seed);
  // Corners in [0, 100) with sides up to 40 spill over a 60 x 80 image on both axes.
  Tensor shifted = Tensor::from_vector<double>({-5, -3, 20, 90, 70, 10, 90, 30}, {2, 4}).to(dtype);
  const std::vector<int64_t> size{60, 80};
  return {
      {"random", {random_boxes(rng, 30, dtype, 100.0)}, {{"size", size}}},
      {"negative-and-beyond", {shifted}, {{"size", size}}},
      {"legacy-plus-one", {shifted}, {{"size", size}, {"legacy_plus_one", true}}},
      {"empty", {random_boxes(rng, 0, dtype)}, {{"size", size}}},
      {"non-contiguous", {non_contiguous(random_boxes(rng, 10, dtype))}, {{"size", size}}},
  };
}

void clip_reference(KernelContext& ctx) {
  Tensor boxes = ctx.input(0).contiguous().clone();
  const std::vector<int64_t> size = ctx.attrs().get_ints("size");
  OSPREY_DISPATCH_FLOAT(boxes.dtype(), "clip_boxes_to_image", [&]<typename T>() {
    const T offset = static_cast<T>(box_offset(ctx.attrs()));
    for (int64_t i = 0; i < boxes.size(0); ++i) {
      box::clip(boxes.data<T>() + 4 * i, static_cast<T>(size[1]), static_cast<T>(size[0]), offset);
    }
  });
  ctx.output(0, boxes.shape(), boxes.dtype()).copy_(boxes);
}

const bool registered = [] {
  OpDef def;
  def.schema = {"clip_boxes_to_image",
                {{"boxes", false}},
                {{"size", AttrType::integers, std::nullopt, "image [height, width] in pixels"},
                 {"legacy_plus_one", AttrType::boolean, false,
                  "+1 pixel convention: coordinates end at width - 1 (py-faster-rcnn / SNIPER)"}},
                {{"output", false}},
                "boxes clamped into the image"};
  def.validate = validate_clip;
  def.save_inputs = false;
  def.cases = clip_cases;
  dispatch::Registry::instance().add_op(std::move(def));
  register_kernel("clip_boxes_to_image", DeviceType::cpu, "reference", 0, clip_reference,
                  inputs_are_float, "box::clip per box; f32/f64");
  return true;
}();

}  // namespace

Tensor clip_boxes_to_image(const Tensor& boxes, int64_t height, int64_t width,
                           bool legacy_plus_one) {
  return dispatch::call1(
      "clip_boxes_to_image", {boxes},
      Attrs{{"size", std::vector<int64_t>{height, width}}, {"legacy_plus_one", legacy_plus_one}});
}

}  // namespace osprey::ops
