// Schemas, shape rules, derivatives and cases of deform_conv2d, deform_conv2d_backward and
// deform_conv2d_backward_weight (math in deform_conv2d.h).
#include "ops/deform_conv2d/deform_conv2d.h"

#include <random>

#include "framework/autograd/grad_mode.h"
#include "framework/dispatch/registry.h"
#include "ops/common/case_helpers.h"
#include "ops/common/op_helpers.h"
#include "ops/deform_conv2d/deform_conv2d_geometry.h"
#include "ops/reduce/reduce.h"

namespace osprey::ops {

DeformGeometry DeformGeometry::from(const dispatch::Attrs& attrs, const Shape& input,
                                    const Shape& weight, const Shape& offset, const char* op) {
  DeformGeometry d{};
  d.conv = ConvGeometry::from_attrs(attrs, op);
  const std::string boundary = attrs.get_string("boundary");
  OSPREY_CHECK(boundary == "torchvision" || boundary == "mxnet_v1",
               "{}: boundary must be \"torchvision\" or \"mxnet_v1\", got \"{}\"", op, boundary);
  d.boundary = boundary == "mxnet_v1" ? DeformBoundary::mxnet_v1 : DeformBoundary::torchvision;
  OSPREY_CHECK_KIND(shape, input.size() == 4, "{}: input must be 4-d (N, C, H, W), got {}", op,
                    shape_str(input));
  OSPREY_CHECK_KIND(shape, weight.size() == 4,
                    "{}: weight must be 4-d (O, C/groups, kH, kW), got {}", op, shape_str(weight));
  const int64_t groups = d.conv.groups;
  d.N = input[0];
  d.C = input[1];
  d.H = input[2];
  d.W = input[3];
  d.O = weight[0];
  d.Cg = weight[1];
  d.kH = weight[2];
  d.kW = weight[3];
  OSPREY_CHECK_KIND(shape, d.C % groups == 0,
                    "{}: input channels {} (input {}) are not divisible by groups {}", op, d.C,
                    shape_str(input), groups);
  OSPREY_CHECK_KIND(shape, d.O % groups == 0,
                    "{}: output channels {} (weight {}) are not divisible by groups {}", op, d.O,
                    shape_str(weight), groups);
  OSPREY_CHECK_KIND(shape, d.Cg * groups == d.C,
                    "{}: weight {} expects {} input channels (weight dim 1 × groups {}), but input "
                    "{} has {}",
                    op, shape_str(weight), d.Cg * groups, groups, shape_str(input), d.C);
  for (int k = 0; k < 2; ++k) {
    const int64_t padded = input[2 + k] + 2 * d.conv.padding[k];
    const int64_t extent = d.conv.dilation[k] * (weight[2 + k] - 1) + 1;
    OSPREY_CHECK_KIND(shape, weight[2 + k] >= 1 && padded >= extent,
                      "{}: kernel {} (dilated extent {}) is larger than the padded input {} "
                      "(input {}, padding {})",
                      op, shape_str(weight), extent, padded, shape_str(input), d.conv.padding[k]);
  }
  d.Ho = d.conv.output_size(0, d.H, d.kH);
  d.Wo = d.conv.output_size(1, d.W, d.kW);
  d.taps = d.kH * d.kW;
  OSPREY_CHECK_KIND(shape, offset.size() == 4,
                    "{}: offset must be 4-d (N, 2·offset_groups·kH·kW, Ho, Wo), got {}", op,
                    shape_str(offset));
  const int64_t per_group = 2 * d.taps;
  d.offset_groups = offset[1] / per_group;
  OSPREY_CHECK_KIND(
      shape, offset[1] % per_group == 0 && d.offset_groups >= 1 && d.C % d.offset_groups == 0,
      "{}: offset {} must have 2·offset_groups·kH·kW channels (a multiple of {} for "
      "kernel {}×{}) with offset_groups dividing the {} input channels of input {}",
      op, shape_str(offset), per_group, d.kH, d.kW, d.C, shape_str(input));
  d.Coff = d.C / d.offset_groups;
  OSPREY_CHECK_KIND(shape, offset == d.offset_shape(),
                    "{}: offset {} does not match the expected {} (N, 2·{}·{}, Ho, Wo) for input "
                    "{} and weight {}",
                    op, shape_str(offset), shape_str(d.offset_shape()), d.offset_groups, d.taps,
                    shape_str(input), shape_str(weight));
  return d;
}

namespace {

using Ints = std::vector<int64_t>;

void check_mask(const Tensor& mask, const DeformGeometry& d, const char* op) {
  if (!mask.defined()) return;
  OSPREY_CHECK_KIND(shape, mask.shape() == d.mask_shape(),
                    "{}: mask {} does not match the expected {} (N, offset_groups·kH·kW = {}·{}, "
                    "Ho, Wo)",
                    op, mask.describe(), shape_str(d.mask_shape()), d.offset_groups, d.taps);
}

void check_grad_output(const Tensor& grad, const DeformGeometry& d, const char* op) {
  OSPREY_CHECK_KIND(shape, grad.shape() == d.output_shape(),
                    "{}: grad_output {} does not match the convolution's output shape {}", op,
                    grad.describe(), shape_str(d.output_shape()));
}

void validate_forward(const KernelContext& ctx) {
  const char* op = "deform_conv2d";
  for (int i = 0; i < 3; ++i) check_floating(ctx, i);
  check_same_dtype(ctx);
  const DeformGeometry d = DeformGeometry::from(ctx.attrs(), ctx.input(0).shape(),
                                                ctx.input(2).shape(), ctx.input(1).shape(), op);
  const Tensor& bias = ctx.input(3);
  if (bias.defined()) {
    OSPREY_CHECK_KIND(shape, bias.dim() == 1 && bias.size(0) == d.O,
                      "{}: bias {} must be 1-d with {} values (weight {})", op, bias.describe(),
                      d.O, ctx.input(2).describe());
  }
  check_mask(ctx.input(4), d, op);
}

// deform_conv2d_backward(grad_output, input, offset, weight, mask?)
void validate_backward(const KernelContext& ctx) {
  const char* op = "deform_conv2d_backward";
  for (int i = 0; i < 4; ++i) check_floating(ctx, i);
  check_same_dtype(ctx);
  const DeformGeometry d = DeformGeometry::from(ctx.attrs(), ctx.input(1).shape(),
                                                ctx.input(3).shape(), ctx.input(2).shape(), op);
  check_grad_output(ctx.input(0), d, op);
  check_mask(ctx.input(4), d, op);
}

// deform_conv2d_backward_weight(grad_output, input, offset, mask?; weight_size)
void validate_backward_weight(const KernelContext& ctx) {
  const char* op = "deform_conv2d_backward_weight";
  for (int i = 0; i < 3; ++i) check_floating(ctx, i);
  check_same_dtype(ctx);
  const Ints weight = ctx.attrs().get_ints("weight_size");
  OSPREY_CHECK_KIND(shape, weight.size() == 4, "{}: weight_size must have 4 values, got {}", op,
                    shape_str(weight));
  const DeformGeometry d =
      DeformGeometry::from(ctx.attrs(), ctx.input(1).shape(), weight, ctx.input(2).shape(), op);
  check_grad_output(ctx.input(0), d, op);
  check_mask(ctx.input(3), d, op);
}

struct GeoAttrs {
  Ints stride, padding, dilation;
  int64_t groups;
  std::string boundary;
};

GeoAttrs geo_attrs(const Attrs& attrs) {
  return {attrs.get_ints("stride"), attrs.get_ints("padding"), attrs.get_ints("dilation"),
          attrs.get_int("groups"), attrs.get_string("boundary")};
}

// Inputs: input 0, offset 1, weight 2, bias 3, mask 4.
std::vector<Tensor> deform_conv2d_grad(const BackwardContext& ctx) {
  const GeoAttrs a = geo_attrs(ctx.attrs);
  const Tensor& g = ctx.grad_output();
  const Tensor mask = ctx.input_defined[4] ? ctx.input(4) : Tensor{};
  std::vector<Tensor> grads(5);
  if (ctx.needs_grad(0) || ctx.needs_grad(1) || (mask.defined() && ctx.needs_grad(4))) {
    DeformConv2dGrads d =
        deform_conv2d_backward(g, ctx.input(0), ctx.input(1), ctx.input(2), mask, a.stride,
                               a.padding, a.dilation, a.groups, a.boundary);
    if (ctx.needs_grad(0)) grads[0] = d.input;
    if (ctx.needs_grad(1)) grads[1] = d.offset;
    if (mask.defined() && ctx.needs_grad(4)) grads[4] = d.mask;
  }
  if (ctx.needs_grad(2)) {
    grads[2] =
        deform_conv2d_backward_weight(g, ctx.input(0), ctx.input(1), mask, ctx.input_shapes[2],
                                      a.stride, a.padding, a.dilation, a.groups, a.boundary);
  }
  if (ctx.input_defined[3] && ctx.needs_grad(3)) grads[3] = sum(g, {0, 2, 3});
  return grads;
}

// One geometry of the case list.
struct CaseGeo {
  const char* name;
  Shape input;
  Shape weight;
  Attrs attrs;
  int64_t offset_groups = 1;
  bool mask = true;
  bool bias = true;
  bool channels_last = false;
  bool non_contiguous = false;
  double near_integer = 0;  // > 0: fractional parts of the offsets within this of an integer
  bool large = false;       // a fast-kernel comparison case, too big for the gradient check
};

Attrs geo(Ints stride, Ints padding, Ints dilation, int64_t groups,
          const char* boundary = "torchvision") {
  return {{"stride", stride},
          {"padding", padding},
          {"dilation", dilation},
          {"groups", groups},
          {"boundary", std::string(boundary)}};
}

std::vector<CaseGeo> case_geometries() {
  const Attrs pad1 = geo({1}, {1}, {1}, 1);
  const Attrs v1 = geo({1}, {1}, {1}, 1, "mxnet_v1");
  return {
      {"dcnv2", {1, 2, 4, 4}, {3, 2, 3, 3}, pad1},
      {"dcnv1", {1, 2, 4, 4}, {3, 2, 3, 3}, pad1, 1, false},
      {"mxnet-v1", {1, 2, 4, 4}, {2, 2, 3, 3}, v1},
      {"mxnet-v1-no-mask", {2, 1, 4, 3}, {2, 1, 3, 3}, v1, 1, false},
      {"near-integer", {1, 2, 4, 4}, {2, 2, 3, 3}, pad1, 1, true, true, false, false, 0.03},
      {"near-integer-mxnet-v1", {1, 2, 4, 4}, {2, 2, 3, 3}, v1, 1, true, true, false, false, 0.03},
      {"stride-padding-dilation", {2, 2, 6, 5}, {2, 2, 2, 3}, geo({2, 1}, {1, 0}, {1, 2}, 1)},
      {"groups-2-offset-groups-2", {1, 4, 4, 4}, {4, 2, 2, 2}, geo({1}, {0}, {1}, 2), 2},
      {"offset-groups-2", {1, 4, 3, 4}, {2, 4, 2, 2}, geo({1}, {0}, {1}, 1), 2, true, false},
      // Conv groups of 3 channels and offset groups of 2: their boundaries do not nest.
      {"groups-2-offset-groups-3", {1, 6, 3, 3}, {2, 3, 2, 2}, geo({1}, {1}, {1}, 2), 3},
      {"channels-last", {1, 3, 4, 4}, {2, 3, 3, 3}, pad1, 1, true, true, true},
      {"non-contiguous",
       {1, 2, 4, 5},
       {2, 2, 2, 2},
       geo({1}, {0}, {1}, 1),
       1,
       true,
       true,
       false,
       true},
      {"empty-batch", {0, 2, 4, 4}, {2, 2, 3, 3}, pad1},
      // Small planes: cpu/im2col_gemm batches images per thread (5 images on 2 threads: 3 + 2).
      {"batch-5", {5, 2, 4, 4}, {3, 2, 3, 3}, pad1},
      // 5 channels per offset group: cpu/im2col_gemm samples a block of 4, then 1.
      {"channels-5", {1, 5, 4, 3}, {2, 5, 3, 3}, pad1},
      {"large",
       {2, 8, 9, 9},
       {8, 4, 3, 3},
       geo({1}, {1}, {1}, 2),
       2,
       true,
       true,
       false,
       false,
       0,
       true},
      {"large-mxnet-v1",
       {2, 8, 9, 9},
       {8, 8, 3, 3},
       geo({1}, {1}, {1}, 1, "mxnet_v1"),
       4,
       true,
       true,
       false,
       false,
       0,
       true},
  };
}

DeformGeometry geometry_of(const CaseGeo& c) {
  const int64_t taps = c.weight[2] * c.weight[3];
  ConvGeometry conv = ConvGeometry::from_attrs(c.attrs, "case");
  const Shape offset{c.input[0], 2 * c.offset_groups * taps,
                     conv.output_size(0, c.input[2], c.weight[2]),
                     conv.output_size(1, c.input[3], c.weight[3])};
  return DeformGeometry::from(c.attrs, c.input, c.weight, offset, "case");
}

// Offsets: an integer in [-2, 2] plus a fractional part kept away from 0 and 1 (bilinear
// interpolation has kinks on integer coordinates, and mxnet_v1 jumps at 0 and H), so the
// central differences of the gradient check stay on one smooth piece. Many samples land outside
// the map or in its one-pixel border.
Tensor case_offsets(CaseRandom& rng, const Shape& shape, DType dtype, double near_integer) {
  std::vector<double> values(shape_numel(shape));
  std::uniform_real_distribution<double> frac(0.15, 0.85), near(0.005, near_integer);
  std::bernoulli_distribution side(0.5);
  for (auto& v : values) {
    const double f = near_integer > 0
                         ? (side(rng.engine()) ? near(rng.engine()) : 1.0 - near(rng.engine()))
                         : frac(rng.engine());
    v = static_cast<double>(rng.integer(-2, 2)) + f;
  }
  autograd::NoGradGuard no_grad;
  return Tensor::from_vector<double>(values, shape).to(dtype);
}

struct CaseTensors {
  Tensor input, offset, weight, bias, mask, grad_output;
};

CaseTensors make_case(CaseRandom& rng, const CaseGeo& c, DType dtype) {
  const DeformGeometry d = geometry_of(c);
  CaseTensors t;
  t.input = rng.uniform(c.input, dtype);
  t.offset = case_offsets(rng, d.offset_shape(), dtype, c.near_integer);
  t.weight = rng.uniform(c.weight, dtype);
  t.bias = c.bias ? rng.uniform({c.weight[0]}, dtype) : Tensor{};
  t.mask = c.mask ? rng.uniform(d.mask_shape(), dtype, 0.2, 1.2) : Tensor{};
  t.grad_output = rng.uniform(d.output_shape(), dtype);
  if (c.channels_last) {
    t.input = t.input.contiguous(MemoryFormat::channels_last);
    t.grad_output = t.grad_output.contiguous(MemoryFormat::channels_last);
  }
  if (c.non_contiguous) {
    t.input = non_contiguous(t.input);
    t.offset = non_contiguous(t.offset);
    if (t.mask.defined()) t.mask = non_contiguous(t.mask);
    t.grad_output = non_contiguous(t.grad_output);
  }
  return t;
}

std::vector<OpCase> forward_cases(DType dtype, uint64_t seed) {
  CaseRandom rng(seed);
  std::vector<OpCase> cases;
  for (const CaseGeo& c : case_geometries()) {
    CaseTensors t = make_case(rng, c, dtype);
    cases.push_back({c.name, {t.input, t.offset, t.weight, t.bias, t.mask}, c.attrs, c.large});
  }
  return cases;
}

std::vector<OpCase> backward_cases(DType dtype, uint64_t seed) {
  CaseRandom rng(seed);
  std::vector<OpCase> cases;
  for (const CaseGeo& c : case_geometries()) {
    CaseTensors t = make_case(rng, c, dtype);
    cases.push_back(
        {c.name, {t.grad_output, t.input, t.offset, t.weight, t.mask}, c.attrs, c.large});
  }
  return cases;
}

std::vector<OpCase> backward_weight_cases(DType dtype, uint64_t seed) {
  CaseRandom rng(seed);
  std::vector<OpCase> cases;
  for (const CaseGeo& c : case_geometries()) {
    CaseTensors t = make_case(rng, c, dtype);
    Attrs attrs = c.attrs;
    attrs.set("weight_size", c.weight);
    cases.push_back({c.name, {t.grad_output, t.input, t.offset, t.mask}, attrs, c.large});
  }
  return cases;
}

std::vector<AttrSpec> geometry_specs() {
  return {{"stride", AttrType::integers, Ints{1, 1}, "step between windows (one int: both dims)"},
          {"padding", AttrType::integers, Ints{0, 0}, "zeros added on each side"},
          {"dilation", AttrType::integers, Ints{1, 1}, "spacing between kernel taps"},
          {"groups", AttrType::integer, int64_t{1}, "channel groups convolved separately"},
          {"boundary", AttrType::string, std::string("torchvision"),
           "sampling at the map's edge: \"torchvision\" (DCNv2: valid for -1 < y < H, corners "
           "outside read 0) or \"mxnet_v1\" (SNIPER's DCNv1: valid for 0 <= y < H, clamped at "
           "the last row/column)"}};
}

const bool registered = [] {
  auto& r = dispatch::Registry::instance();
  OpDef fwd;
  fwd.schema = {"deform_conv2d",
                {{"input"},
                 {"offset"},
                 {"weight"},
                 InputSpec("bias", true, true),
                 InputSpec("mask", true, true)},
                geometry_specs(),
                {{"output"}},
                "deformable 2-d convolution (DCNv1; DCNv2 with a mask), torchvision's layout"};
  fwd.validate = validate_forward;
  fwd.backward = deform_conv2d_grad;
  fwd.cases = forward_cases;
  r.add_op(fwd);

  OpDef bwd;
  bwd.schema = {"deform_conv2d_backward",
                {{"grad_output"}, {"input"}, {"offset"}, {"weight"}, InputSpec("mask", true, true)},
                geometry_specs(),
                {{"grad_input"}, {"grad_offset"}, {"grad_mask"}},
                "gradients of deform_conv2d with respect to input, offset and mask"};
  bwd.validate = validate_backward;
  bwd.cases = backward_cases;
  r.add_op(bwd);

  OpDef bw;
  std::vector<AttrSpec> bw_attrs = geometry_specs();
  bw_attrs.insert(bw_attrs.begin(), AttrSpec("weight_size", AttrType::integers, std::nullopt,
                                             "O, C/groups, kH, kW of weight"));
  bw.schema = {"deform_conv2d_backward_weight",
               {{"grad_output"}, {"input"}, {"offset"}, InputSpec("mask", true, true)},
               bw_attrs,
               {{"grad_weight"}},
               "gradient of deform_conv2d with respect to its weight"};
  bw.validate = validate_backward_weight;
  bw.cases = backward_weight_cases;
  r.add_op(bw);
  return true;
}();

Attrs call_attrs(const Ints& stride, const Ints& padding, const Ints& dilation, int64_t groups,
                 const std::string& boundary) {
  return {{"stride", stride},
          {"padding", padding},
          {"dilation", dilation},
          {"groups", groups},
          {"boundary", boundary}};
}

}  // namespace

Tensor deform_conv2d(const Tensor& input, const Tensor& offset, const Tensor& weight,
                     const Tensor& bias, const Tensor& mask, const std::vector<int64_t>& stride,
                     const std::vector<int64_t>& padding, const std::vector<int64_t>& dilation,
                     int64_t groups, const std::string& boundary) {
  return dispatch::call1("deform_conv2d", {input, offset, weight, bias, mask},
                         call_attrs(stride, padding, dilation, groups, boundary));
}

DeformConv2dGrads deform_conv2d_backward(const Tensor& grad_output, const Tensor& input,
                                         const Tensor& offset, const Tensor& weight,
                                         const Tensor& mask, const std::vector<int64_t>& stride,
                                         const std::vector<int64_t>& padding,
                                         const std::vector<int64_t>& dilation, int64_t groups,
                                         const std::string& boundary) {
  auto out = dispatch::call("deform_conv2d_backward", {grad_output, input, offset, weight, mask},
                            call_attrs(stride, padding, dilation, groups, boundary));
  return {out[0], out[1], out[2]};
}

Tensor deform_conv2d_backward_weight(const Tensor& grad_output, const Tensor& input,
                                     const Tensor& offset, const Tensor& mask,
                                     const std::vector<int64_t>& weight_size,
                                     const std::vector<int64_t>& stride,
                                     const std::vector<int64_t>& padding,
                                     const std::vector<int64_t>& dilation, int64_t groups,
                                     const std::string& boundary) {
  Attrs attrs = call_attrs(stride, padding, dilation, groups, boundary);
  attrs.set("weight_size", weight_size);
  return dispatch::call1("deform_conv2d_backward_weight", {grad_output, input, offset, mask},
                         attrs);
}

}  // namespace osprey::ops
