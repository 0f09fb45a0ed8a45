// Schema, argument checks, cases and CPU reference of anchors_inside (see the header).
#include "ops/anchors_inside/anchors_inside.h"

#include "framework/dispatch/registry.h"
#include "ops/anchor_grid/anchor_grid.h"
#include "ops/common/box_cases.h"
#include "ops/common/box_checks.h"

namespace osprey::ops {
namespace {

void validate_anchors_inside(const KernelContext& ctx) {
  check_boxes(ctx, 0);
  const std::vector<int64_t> size = ctx.attrs().get_ints("image_size");
  OSPREY_CHECK(size.size() == 2 && size[0] > 0 && size[1] > 0,
               "anchors_inside: 'image_size' must be [height, width], both positive, got {}",
               shape_str(size));
}

std::vector<OpCase> anchors_inside_cases(DType dtype, uint64_t seed) {
  CaseRandom rng(seed);
  AnchorGridOptions sniper;
  sniper.height = 8, sniper.width = 8, sniper.legacy_plus_one = true;
  Tensor grid = anchor_grid(sniper, dtype);
  const std::vector<int64_t> chip{128, 128};
  return {
      {"sniper-border", {grid}, {{"image_size", chip}, {"allowed_border", 32.0}}},
      {"no-border", {grid}, {{"image_size", chip}, {"allowed_border", 0.0}}},
      {"random",
       {random_boxes(rng, 50, dtype, 70.0)},
       {{"image_size", std::vector<int64_t>{60, 80}}}},
      {"empty", {random_boxes(rng, 0, dtype)}, {{"image_size", chip}}},
      {"non-contiguous",
       {non_contiguous(random_boxes(rng, 20, dtype, 70.0))},
       {{"image_size", std::vector<int64_t>{60, 80}}, {"allowed_border", 5.0}}},
  };
}

void anchors_inside_reference(KernelContext& ctx) {
  const Tensor anchors = ctx.input(0).contiguous();
  const std::vector<int64_t> size = ctx.attrs().get_ints("image_size");
  const double border = ctx.attrs().get_float("allowed_border");
  std::vector<int64_t> keep;
  OSPREY_DISPATCH_FLOAT(anchors.dtype(), "anchors_inside", [&]<typename T>() {
    const T lo = static_cast<T>(-border);
    const T max_x = static_cast<T>(static_cast<double>(size[1]) + border);
    const T max_y = static_cast<T>(static_cast<double>(size[0]) + border);
    for (int64_t i = 0; i < anchors.size(0); ++i) {
      const T* b = anchors.data<T>() + 4 * i;
      if (b[0] >= lo && b[1] >= lo && b[2] < max_x && b[3] < max_y) keep.push_back(i);
    }
  });
  const int64_t k = static_cast<int64_t>(keep.size());
  ctx.output(0, {k}, DType::i64).copy_(Tensor::from_vector<int64_t>(keep, {k}));
}

const bool registered = [] {
  OpDef def;
  def.schema = {"anchors_inside",
                {{"anchors", false}},
                {{"image_size", AttrType::integers, std::nullopt, "image [height, width]"},
                 {"allowed_border", AttrType::real, 0.0, "pixels anchors may reach outside"}},
                {{"keep", false}},
                "indices of the anchors inside the image grown by allowed_border"};
  def.validate = validate_anchors_inside;
  def.save_inputs = false;
  def.cases = anchors_inside_cases;
  dispatch::Registry::instance().add_op(std::move(def));
  register_kernel("anchors_inside", DeviceType::cpu, "reference", 0, anchors_inside_reference,
                  inputs_are_float, "one pass over the anchors; f32/f64");
  return true;
}();

}  // namespace

Tensor anchors_inside(const Tensor& anchors, int64_t height, int64_t width, double allowed_border) {
  return dispatch::call1("anchors_inside", {anchors},
                         Attrs{{"image_size", std::vector<int64_t>{height, width}},
                               {"allowed_border", allowed_border}});
}

}  // namespace osprey::ops
