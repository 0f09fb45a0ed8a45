// Schema, argument checks, cases and CPU reference of remove_small_boxes (see the header).
#include "ops/remove_small_boxes/remove_small_boxes.h"

#include "framework/dispatch/registry.h"
#include "ops/common/box_cases.h"
#include "ops/common/box_checks.h"
#include "ops/common/box_geometry.h"

namespace osprey::ops {
namespace {

std::vector<OpCase> remove_small_cases(DType dtype, uint64_t seed) {
  CaseRandom rng(seed);
  // Sides 0..19 on an integer grid: exact ties with min_size on both conventions.
  auto boxes = [&](int64_t n) { return random_boxes(rng, n, dtype, 50, 0, 20, true); };
  return {
      {"random", {boxes(40)}, {{"min_size", 10.0}}},
      {"legacy-plus-one", {boxes(40)}, {{"min_size", 10.0}, {"legacy_plus_one", true}}},
      {"keep-all", {boxes(10)}, {{"min_size", 0.0}}},
      {"keep-none", {boxes(10)}, {{"min_size", 100.0}}},
      {"empty", {boxes(0)}, {{"min_size", 1.0}}},
      {"non-contiguous", {non_contiguous(boxes(12))}, {{"min_size", 8.0}}},
  };
}

void remove_small_reference(KernelContext& ctx) {
  const Tensor boxes = ctx.input(0).contiguous();
  std::vector<int64_t> keep;
  OSPREY_DISPATCH_FLOAT(boxes.dtype(), "remove_small_boxes", [&]<typename T>() {
    const T offset = static_cast<T>(box_offset(ctx.attrs()));
    const T min_size = static_cast<T>(ctx.attrs().get_float("min_size"));
    for (int64_t i = 0; i < boxes.size(0); ++i) {
      const T* b = boxes.data<T>() + 4 * i;
      if (box::width(b, offset) >= min_size && box::height(b, offset) >= min_size) {
        keep.push_back(i);
      }
    }
  });
  const int64_t k = static_cast<int64_t>(keep.size());
  ctx.output(0, {k}, DType::i64).copy_(Tensor::from_vector<int64_t>(keep, {k}));
}

const bool registered = [] {
  OpDef def;
  def.schema = {"remove_small_boxes",
                {{"boxes", false}},
                {{"min_size", AttrType::real, std::nullopt, "smallest width and height kept"},
                 {"legacy_plus_one", AttrType::boolean, false,
                  "+1 pixel convention (width = x2 - x1 + 1) of py-faster-rcnn / SNIPER"}},
                {{"keep", false}},
                "indices of the boxes whose width and height are at least min_size"};
  def.validate = [](const KernelContext& ctx) { check_boxes(ctx, 0); };
  def.save_inputs = false;
  def.cases = remove_small_cases;
  dispatch::Registry::instance().add_op(std::move(def));
  register_kernel("remove_small_boxes", DeviceType::cpu, "reference", 0, remove_small_reference,
                  inputs_are_float, "one pass over the boxes; f32/f64");
  return true;
}();

}  // namespace

Tensor remove_small_boxes(const Tensor& boxes, double min_size, bool legacy_plus_one) {
  return dispatch::call1("remove_small_boxes", {boxes},
                         Attrs{{"min_size", min_size}, {"legacy_plus_one", legacy_plus_one}});
}

}  // namespace osprey::ops
