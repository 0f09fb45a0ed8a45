// Schema, argument checks, cases and CPU reference of box_area (see box_area.h).
#include "ops/box_area/box_area.h"

#include "framework/dispatch/registry.h"
#include "ops/common/box_cases.h"
#include "ops/common/box_checks.h"
#include "ops/common/box_geometry.h"

namespace osprey::ops {
namespace {

std::vector<OpCase> box_area_cases(DType dtype, uint64_t seed) {
  CaseRandom rng(seed);
  return {
      {"random", {random_boxes(rng, 20, dtype)}, {}},
      {"legacy-plus-one",
       {random_boxes(rng, 20, dtype, 50, 0, 10, true)},
       {{"legacy_plus_one", true}}},
      {"empty", {random_boxes(rng, 0, dtype)}, {}},
      {"non-contiguous", {non_contiguous(random_boxes(rng, 9, dtype))}, {}},
  };
}

void box_area_reference(KernelContext& ctx) {
  const Tensor boxes = ctx.input(0).contiguous();
  const int64_t n = boxes.size(0);
  Tensor result = Tensor::empty({n}, boxes.dtype());
  OSPREY_DISPATCH_FLOAT(boxes.dtype(), "box_area", [&]<typename T>() {
    const T offset = static_cast<T>(box_offset(ctx.attrs()));
    for (int64_t i = 0; i < n; ++i) {
      result.data<T>()[i] = box::area(boxes.data<T>() + 4 * i, offset);
    }
  });
  ctx.output(0, {n}, boxes.dtype()).copy_(result);
}

const bool registered = [] {
  OpDef def;
  def.schema = {"box_area",
                {{"boxes", false}},
                {{"legacy_plus_one", AttrType::boolean, false,
                  "+1 pixel convention (width = x2 - x1 + 1) of py-faster-rcnn / SNIPER"}},
                {{"output", false}},
                "area of each box"};
  def.validate = [](const KernelContext& ctx) { check_boxes(ctx, 0); };
  def.save_inputs = false;
  def.cases = box_area_cases;
  dispatch::Registry::instance().add_op(std::move(def));
  register_kernel("box_area", DeviceType::cpu, "reference", 0, box_area_reference, inputs_are_float,
                  "box::area per box; f32/f64");
  return true;
}();

}  // namespace

Tensor box_area(const Tensor& boxes, bool legacy_plus_one) {
  return dispatch::call1("box_area", {boxes}, Attrs{{"legacy_plus_one", legacy_plus_one}});
}

}  // namespace osprey::ops
