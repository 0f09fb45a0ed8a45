// Schema, argument checks, cases and the base anchors of anchor_grid (see anchor_grid.h).
#include "ops/anchor_grid/anchor_grid.h"

#include <cfenv>
#include <cmath>

#include "framework/autograd/grad_mode.h"
#include "framework/dispatch/registry.h"
#include "ops/common/op_helpers.h"

namespace osprey::ops {
namespace {

// numpy / torch round: half to even (nearbyint in the default rounding mode).
double round_half_even(double v) {
  return std::nearbyint(v);
}

void validate_anchor_grid(const KernelContext& ctx) {
  const Attrs& a = ctx.attrs();
  OSPREY_CHECK(a.get_int("base_size") > 0, "anchor_grid: 'base_size' must be positive, got {}",
               a.get_int("base_size"));
  OSPREY_CHECK(a.get_int("stride") > 0, "anchor_grid: 'stride' must be positive, got {}",
               a.get_int("stride"));
  for (const char* name : {"scales", "ratios"}) {
    const std::vector<double> v = a.get_floats(name);
    OSPREY_CHECK(!v.empty(), "anchor_grid: '{}' must not be empty", name);
    for (double x : v) OSPREY_CHECK(x > 0.0, "anchor_grid: '{}' must be positive, got {}", name, x);
  }
  const std::vector<int64_t> size = a.get_ints("map_size");
  OSPREY_CHECK(size.size() == 2 && size[0] >= 0 && size[1] >= 0,
               "anchor_grid: 'map_size' must be [height, width], both >= 0, got {}",
               shape_str(size));
  const DType dtype = a.get_dtype("dtype");
  OSPREY_CHECK_KIND(dtype, dtype == DType::f32 || dtype == DType::f64,
                    "anchor_grid: 'dtype' must be f32 or f64, got {}", dtype_name(dtype));
}

Attrs grid_attrs(const AnchorGridOptions& o, DType dtype) {
  return {{"base_size", o.base_size},
          {"scales", o.scales},
          {"ratios", o.ratios},
          {"stride", o.stride},
          {"map_size", std::vector<int64_t>{o.height, o.width}},
          {"legacy_plus_one", o.legacy_plus_one},
          {"dtype", dtype}};
}

std::vector<OpCase> anchor_grid_cases(DType dtype, uint64_t) {
  AnchorGridOptions sniper;
  sniper.height = 4, sniper.width = 5, sniper.legacy_plus_one = true;
  AnchorGridOptions torchvision;
  torchvision.base_size = 32, torchvision.scales = {1, 2}, torchvision.stride = 8;
  torchvision.height = 3, torchvision.width = 2;
  AnchorGridOptions empty = torchvision;
  empty.height = 0;
  return {
      {"sniper", {}, grid_attrs(sniper, dtype)},
      {"torchvision", {}, grid_attrs(torchvision, dtype)},
      {"empty-map", {}, grid_attrs(empty, dtype)},
  };
}

const bool registered = [] {
  OpDef def;
  def.schema = {"anchor_grid",
                {},
                {{"base_size", AttrType::integer, int64_t{16}, "side of the base anchor"},
                 {"scales", AttrType::reals, std::nullopt, "anchor sides in base_size units"},
                 {"ratios", AttrType::reals, std::nullopt, "height / width of the anchors"},
                 {"stride", AttrType::integer, int64_t{16}, "feature map stride in pixels"},
                 {"map_size", AttrType::integers, std::nullopt, "feature map [height, width]"},
                 {"legacy_plus_one", AttrType::boolean, false,
                  "py-faster-rcnn generate_anchors (+1 pixels, centre (base - 1) / 2)"},
                 {"dtype", AttrType::dtype, DType::f32, "f32 or f64"}},
                {{"anchors", false}},
                "[H * W * A, 4] anchors, position-major, ratio then scale within a position"};
  def.validate = validate_anchor_grid;
  def.save_inputs = false;
  def.cases = anchor_grid_cases;
  dispatch::Registry::instance().add_op(std::move(def));
  return true;
}();

}  // namespace

std::vector<double> base_anchors(int64_t base_size, const std::vector<double>& scales,
                                 const std::vector<double>& ratios, bool legacy_plus_one) {
  std::vector<double> out;
  const double base = static_cast<double>(base_size);
  for (double r : ratios) {
    for (double s : scales) {
      if (legacy_plus_one) {
        const double c = (base - 1.0) / 2.0;
        const double ws = round_half_even(std::sqrt(base * base / r));
        const double hs = round_half_even(ws * r);
        const double w = ws * s, h = hs * s;
        out.insert(out.end(), {c - 0.5 * (w - 1.0), c - 0.5 * (h - 1.0), c + 0.5 * (w - 1.0),
                               c + 0.5 * (h - 1.0)});
      } else {
        const double h_ratio = std::sqrt(r), w = base * s / h_ratio, h = base * s * h_ratio;
        out.insert(out.end(), {round_half_even(-w / 2), round_half_even(-h / 2),
                               round_half_even(w / 2), round_half_even(h / 2)});
      }
    }
  }
  return out;
}

Tensor anchor_grid(const AnchorGridOptions& o, DType dtype, Device device) {
  const int64_t count =
      o.height * o.width * static_cast<int64_t>(o.scales.size() * o.ratios.size());
  autograd::NoGradGuard no_grad;
  Tensor out = Tensor::empty({count, 4}, dtype, device);
  dispatch::call("anchor_grid", {}, grid_attrs(o, dtype), {out});
  return out;
}

}  // namespace osprey::ops
