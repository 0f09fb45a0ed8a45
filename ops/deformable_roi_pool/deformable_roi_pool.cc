// Schemas, argument checks, derivative and cases of deformable_roi_pool and
// deformable_roi_pool_backward (math in deformable_roi_pool.h).
#include "ops/deformable_roi_pool/deformable_roi_pool.h"

#include <cmath>

#include "framework/dispatch/registry.h"
#include "ops/common/case_helpers.h"
#include "ops/common/op_helpers.h"
#include "ops/deformable_roi_pool/deformable_roi_pool_geometry.h"

namespace osprey::ops {
namespace {

using Ints = std::vector<int64_t>;

void check_attrs(const KernelContext& ctx, const char* op) {
  const Ints size = ctx.attrs().get_ints("output_size");
  OSPREY_CHECK(size.size() == 1 || size.size() == 2,
               "{}: output_size must have 1 or 2 values, got {}", op, shape_str(size));
  for (int64_t v : size) {
    OSPREY_CHECK(v > 0, "{}: output_size must be positive, got {}", op, shape_str(size));
  }
  const int64_t samples = ctx.attrs().get_int("sample_per_part");
  OSPREY_CHECK(samples > 0, "{}: sample_per_part must be positive, got {}", op, samples);
  const double scale = ctx.attrs().get_float("spatial_scale");
  OSPREY_CHECK(std::isfinite(scale) && scale > 0,
               "{}: spatial_scale must be finite and > 0, got {}", op, scale);
  const double trans_std = ctx.attrs().get_float("trans_std");
  OSPREY_CHECK(std::isfinite(trans_std), "{}: trans_std must be finite, got {}", op, trans_std);
}

// The values of every RoI: an integral batch index in [0, N), finite corners, x1 <= x2, y1 <= y2.
void check_roi_values(const Tensor& rois, int64_t batch, const char* op) {
  const std::vector<double> r = rois.to(Device::cpu()).to(DType::f64).to_vector<double>();
  for (int64_t k = 0; k < rois.size(0); ++k) {
    const double* v = r.data() + 5 * k;
    OSPREY_CHECK(v[0] == std::floor(v[0]) && v[0] >= 0 && v[0] < static_cast<double>(batch),
                 "{}: rois[{}] batch index {} must be an integer in [0, {}) (input batch size)", op,
                 k, v[0], batch);
    OSPREY_CHECK(
        std::isfinite(v[1]) && std::isfinite(v[2]) && std::isfinite(v[3]) && std::isfinite(v[4]),
        "{}: rois[{}] = ({}, {}, {}, {}) has a non-finite coordinate", op, k, v[1], v[2], v[3],
        v[4]);
    OSPREY_CHECK(v[1] <= v[3] && v[2] <= v[4],
                 "{}: rois[{}] = ({}, {}, {}, {}) must have x1 <= x2 and y1 <= y2", op, k, v[1],
                 v[2], v[3], v[4]);
  }
}

// Checks input/rois/offset at `first`, first + 1, first + 2; returns the output shape.
Shape check_common(const KernelContext& ctx, int first) {
  const char* op = ctx.op().schema.name.c_str();
  check_floating(ctx, first);
  check_same_dtype(ctx);
  check_attrs(ctx, op);
  const Tensor& input = ctx.input(first);
  const Tensor& rois = ctx.input(first + 1);
  const Tensor& offset = ctx.input(first + 2);
  OSPREY_CHECK_KIND(shape, input.dim() == 4, "{}: input must be (N, C, H, W), got {}", op,
                    input.describe());
  OSPREY_CHECK_KIND(shape, rois.dim() == 2 && rois.size(1) == 5,
                    "{}: rois must be (K, 5) rows (batch_index, x1, y1, x2, y2), got {}", op,
                    rois.describe());
  const droi::Geometry g = droi::geometry_of(ctx.attrs(), input.shape());
  const int64_t k = rois.size(0);
  if (offset.defined()) {
    const Shape expected{k, 2, g.pooled_h, g.pooled_w};
    OSPREY_CHECK_KIND(shape, offset.shape() == expected,
                      "{}: offset {} must be (K, 2, ph, pw) = {} for rois {} and output_size", op,
                      offset.describe(), shape_str(expected), rois.describe());
  }
  check_roi_values(rois, input.size(0), op);
  return {k, g.channels, g.pooled_h, g.pooled_w};
}

void validate_forward(const KernelContext& ctx) {
  check_common(ctx, 0);
}

void validate_backward(const KernelContext& ctx) {
  const Shape expected = check_common(ctx, 1);
  const char* op = ctx.op().schema.name.c_str();
  OSPREY_CHECK_KIND(shape, ctx.input(0).shape() == expected,
                    "{}: grad_output {} must be the output's shape {}", op, ctx.input(0).describe(),
                    shape_str(expected));
}

DeformableRoiPoolOptions options_of(const Attrs& attrs) {
  return {attrs.get_ints("output_size"), attrs.get_float("spatial_scale"),
          attrs.get_int("sample_per_part"), attrs.get_float("trans_std")};
}

std::vector<Tensor> deformable_roi_pool_grad(const BackwardContext& ctx) {
  std::vector<Tensor> grads(3);
  const bool has_offset = ctx.input_defined[2];
  if (ctx.needs_grad(0) || (has_offset && ctx.needs_grad(2))) {
    const Tensor offset = has_offset ? ctx.input(2) : Tensor{};
    DeformableRoiPoolGrads d = deformable_roi_pool_backward(
        ctx.grad_output(), ctx.input(0), ctx.input(1), offset, options_of(ctx.attrs));
    if (ctx.needs_grad(0)) grads[0] = d.input;
    if (has_offset && ctx.needs_grad(2)) grads[2] = d.offset;
  }
  return grads;
}

Attrs attrs_of(Ints size, double scale, int64_t samples, double trans_std = 0.1) {
  return Attrs{{"output_size", std::move(size)},
               {"spatial_scale", scale},
               {"sample_per_part", samples},
               {"trans_std", trans_std}};
}

// One geometry of the case list. RoIs are drawn in image pixels (feature map / spatial_scale).
struct CaseGeo {
  const char* name;
  Shape input;
  int64_t rois;
  Ints size;
  double scale;
  int64_t samples;
  bool offset = true;
  bool channels_last = false;
  bool non_contiguous = false;
  bool outside = false;  // one RoI partly and one wholly outside the map
  bool large = false;    // values only
};

Tensor random_rois(CaseRandom& rng, const CaseGeo& c, DType dtype) {
  const double image_w = static_cast<double>(c.input[3]) / c.scale;
  const double image_h = static_cast<double>(c.input[2]) / c.scale;
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::vector<double> v;
  for (int64_t k = 0; k < c.rois; ++k) {
    const double x1 = unit(rng.engine()) * 0.6 * image_w, y1 = unit(rng.engine()) * 0.6 * image_h;
    const double w = (0.1 + 0.4 * unit(rng.engine())) * image_w;
    const double h = (0.1 + 0.4 * unit(rng.engine())) * image_h;
    v.insert(v.end(),
             {static_cast<double>(rng.integer(0, c.input[0] - 1)), x1, y1, x1 + w, y1 + h});
  }
  if (c.outside && c.rois >= 2) {
    // RoI 0 hangs over the right and bottom edges; RoI 1 lies wholly past them (every bin 0).
    v[1] = 0.7 * image_w, v[2] = 0.6 * image_h, v[3] = 1.4 * image_w, v[4] = 1.3 * image_h;
    v[6] = 2.0 * image_w, v[7] = 2.0 * image_h, v[8] = 2.5 * image_w, v[9] = 2.4 * image_h;
  }
  return Tensor::from_vector<double>(v, {c.rois, 5}).to(dtype);
}

std::vector<CaseGeo> geometries() {
  return {
      {"basic", {1, 2, 6, 6}, 3, {3, 3}, 1.0, 2},
      {"no-offset", {1, 2, 6, 6}, 3, {3, 3}, 1.0, 2, false},
      {"sniper-head", {2, 3, 8, 8}, 2, {7, 7}, 0.5, 4},
      {"sniper-head-no-offset", {2, 2, 8, 8}, 2, {7, 7}, 0.5, 4, false},
      {"rect-bins", {2, 2, 5, 7}, 3, {2, 3}, 1.0, 3},
      {"outside", {1, 2, 6, 6}, 3, {3, 3}, 1.0, 2, true, false, false, true},
      {"channels-last", {2, 3, 5, 5}, 3, {2, 2}, 1.0, 2, true, true},
      {"non-contiguous", {1, 2, 5, 6}, 3, {2, 2}, 1.0, 2, true, false, true},
      {"one-sample", {1, 1, 4, 4}, 2, {1, 1}, 1.0, 1},
      {"zero-rois", {2, 3, 5, 5}, 0, {3, 3}, 1.0, 2},
      {"large", {2, 16, 24, 24}, 24, {7, 7}, 0.0625, 4, true, false, false, false, true},
  };
}

std::vector<OpCase> forward_cases(DType dtype, uint64_t seed) {
  CaseRandom rng(seed);
  std::vector<OpCase> cases;
  for (const CaseGeo& c : geometries()) {
    Tensor input = rng.uniform(c.input, dtype, -2, 2);
    if (c.channels_last) input = input.contiguous(MemoryFormat::channels_last);
    if (c.non_contiguous) input = non_contiguous(input);
    Tensor rois = random_rois(rng, c, dtype);
    if (c.non_contiguous) rois = non_contiguous(rois);
    const int64_t ph = c.size[0], pw = c.size.size() > 1 ? c.size[1] : c.size[0];
    Tensor offset = c.offset ? rng.uniform({c.rois, 2, ph, pw}, dtype, -1, 1) : Tensor{};
    if (c.offset && c.non_contiguous) offset = non_contiguous(offset);
    cases.push_back({c.name, {input, rois, offset}, attrs_of(c.size, c.scale, c.samples), c.large});
  }
  // A degenerate box (x1 = x2, y1 = y2): one pixel wide after the +1, 0.1 wide at scale 1/16.
  Tensor point = Tensor::from_vector<double>({0, 40, 24, 40, 24}, {1, 5}).to(dtype);
  cases.push_back(
      {"degenerate-box",
       {rng.uniform({1, 2, 4, 5}, dtype, -2, 2), point, rng.uniform({1, 2, 2, 2}, dtype, -1, 1)},
       attrs_of({2, 2}, 0.0625, 2)});
  return cases;
}

std::vector<OpCase> backward_cases(DType dtype, uint64_t seed) {
  CaseRandom rng(seed + 1);
  std::vector<OpCase> cases = forward_cases(dtype, seed);
  for (auto& c : cases) {
    const Ints size = c.attrs.get_ints("output_size");
    const Shape out{c.inputs[1].size(0), c.inputs[0].size(1), size[0], size.back()};
    c.inputs.insert(c.inputs.begin(), rng.uniform(out, dtype));
  }
  return cases;
}

std::vector<AttrSpec> attr_specs() {
  return {
      {"output_size", AttrType::integers, Ints{7, 7}, "pooled (height, width); one int: both"},
      {"spatial_scale", AttrType::real, 1.0 / 16, "feature map size / image size"},
      {"sample_per_part", AttrType::integer, int64_t{4}, "samples per bin along each axis"},
      {"trans_std", AttrType::real, 0.1, "offset scale: shift = offset * trans_std * roi size"}};
}

const bool registered = [] {
  auto& r = dispatch::Registry::instance();
  InputSpec rois{"rois", false};
  InputSpec offset{"offset", true, true};
  OpDef forward;
  forward.schema = {"deformable_roi_pool",
                    {{"input"}, rois, offset},
                    attr_specs(),
                    {{"output"}},
                    "SNIPER's deformable RoI pooling (DeformablePSROIPooling, group_size 1): mean "
                    "of S x S bilinear samples per bin, bins shifted by per-RoI offsets"};
  forward.validate = validate_forward;
  forward.backward = deformable_roi_pool_grad;
  forward.cases = forward_cases;
  r.add_op(std::move(forward));

  OpDef backward;
  backward.schema = {"deformable_roi_pool_backward",
                     {{"grad_output"}, {"input"}, rois, offset},
                     attr_specs(),
                     {{"grad_input"}, {"grad_offset"}},
                     "the input and offset gradients of deformable_roi_pool"};
  backward.validate = validate_backward;
  backward.cases = backward_cases;
  r.add_op(std::move(backward));
  return true;
}();

Attrs call_attrs(const DeformableRoiPoolOptions& o) {
  return attrs_of(o.output_size, o.spatial_scale, o.sample_per_part, o.trans_std);
}

}  // namespace

Tensor deformable_roi_pool(const Tensor& input, const Tensor& rois, const Tensor& offset,
                           const DeformableRoiPoolOptions& options) {
  return dispatch::call1("deformable_roi_pool", {input, rois, offset}, call_attrs(options));
}

DeformableRoiPoolGrads deformable_roi_pool_backward(const Tensor& grad_output, const Tensor& input,
                                                    const Tensor& rois, const Tensor& offset,
                                                    const DeformableRoiPoolOptions& options) {
  auto out = dispatch::call("deformable_roi_pool_backward", {grad_output, input, rois, offset},
                            call_attrs(options));
  return {out[0], out[1]};
}

}  // namespace osprey::ops
