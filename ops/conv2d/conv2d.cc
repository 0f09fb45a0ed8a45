// Schemas, shape rules, derivatives and cases of conv2d, conv2d_backward_input and
// conv2d_backward_weight.
#include "ops/conv2d/conv2d.h"

#include "framework/dispatch/registry.h"
#include "ops/common/case_helpers.h"
#include "ops/common/op_helpers.h"
#include "ops/conv2d/conv2d_geometry.h"
#include "ops/reduce/reduce.h"

namespace osprey::ops {

ConvGeometry ConvGeometry::from_attrs(const dispatch::Attrs& attrs, const char* op) {
  ConvGeometry geo{};
  auto pair = [&](const char* name, int64_t* dst, int64_t min) {
    std::vector<int64_t> v = attrs.get_ints(name);
    OSPREY_CHECK(v.size() == 1 || v.size() == 2, "{}: {} must have 1 or 2 values, got {}", op, name,
                 v.size());
    if (v.size() == 1) v.push_back(v[0]);
    for (int d = 0; d < 2; ++d) {
      OSPREY_CHECK(v[d] >= min, "{}: {} must be >= {}, got {}", op, name, min, v[d]);
      dst[d] = v[d];
    }
  };
  pair("stride", geo.stride, 1);
  pair("padding", geo.padding, 0);
  pair("dilation", geo.dilation, 1);
  geo.groups = attrs.get_int("groups");
  OSPREY_CHECK(geo.groups >= 1, "{}: groups must be >= 1, got {}", op, geo.groups);
  return geo;
}

namespace {

using Ints = std::vector<int64_t>;

// Checks an (input, weight) pair as conv2d sees it and returns the output shape.
Shape conv_output_shape(const Shape& input, const Shape& weight, const ConvGeometry& geo,
                        const char* op) {
  OSPREY_CHECK_KIND(shape, input.size() == 4, "{}: input must be 4-d (N, C, H, W), got {}", op,
                    shape_str(input));
  OSPREY_CHECK_KIND(shape, weight.size() == 4,
                    "{}: weight must be 4-d (O, C/groups, kH, kW), got {}", op, shape_str(weight));
  OSPREY_CHECK_KIND(shape, input[1] % geo.groups == 0,
                    "{}: input channels {} (input {}) are not divisible by groups {}", op, input[1],
                    shape_str(input), geo.groups);
  OSPREY_CHECK_KIND(shape, weight[0] % geo.groups == 0,
                    "{}: output channels {} (weight {}) are not divisible by groups {}", op,
                    weight[0], shape_str(weight), geo.groups);
  OSPREY_CHECK_KIND(shape, weight[1] * geo.groups == input[1],
                    "{}: weight {} expects {} input channels (weight dim 1 × groups {}), but input "
                    "{} has {}",
                    op, shape_str(weight), weight[1] * geo.groups, geo.groups, shape_str(input),
                    input[1]);
  Shape out{input[0], weight[0], 0, 0};
  for (int d = 0; d < 2; ++d) {
    const int64_t padded = input[2 + d] + 2 * geo.padding[d];
    const int64_t extent = geo.dilation[d] * (weight[2 + d] - 1) + 1;
    OSPREY_CHECK_KIND(shape, weight[2 + d] >= 1 && padded >= extent,
                      "{}: kernel {} (dilated extent {}) is larger than the padded input {} "
                      "(input {}, padding {})",
                      op, shape_str(weight), extent, padded, shape_str(input), geo.padding[d]);
    out[2 + d] = geo.output_size(d, input[2 + d], weight[2 + d]);
  }
  return out;
}

void check_grad_output(const Tensor& grad, const Shape& expected, const char* op) {
  OSPREY_CHECK_KIND(shape, grad.shape() == expected,
                    "{}: grad_output {} does not match the convolution's output shape {}", op,
                    grad.describe(), shape_str(expected));
}

Shape size_attr(const KernelContext& ctx, const char* name, const char* op) {
  Ints v = ctx.attrs().get_ints(name);
  OSPREY_CHECK_KIND(shape, v.size() == 4, "{}: {} must have 4 values, got {}", op, name,
                    shape_str(v));
  return v;
}

void validate_forward(const KernelContext& ctx) {
  const char* op = "conv2d";
  check_floating(ctx, 0);
  check_floating(ctx, 1);
  const ConvGeometry geo = ConvGeometry::from_attrs(ctx.attrs(), op);
  conv_output_shape(ctx.input(0).shape(), ctx.input(1).shape(), geo, op);
  check_same_dtype(ctx);
  if (ctx.num_inputs() > 2 && ctx.input(2).defined()) {
    const Tensor& bias = ctx.input(2);
    OSPREY_CHECK_KIND(shape, bias.dim() == 1 && bias.size(0) == ctx.input(1).size(0),
                      "{}: bias {} must be 1-d with {} values (weight {})", op, bias.describe(),
                      ctx.input(1).size(0), ctx.input(1).describe());
  }
}

void validate_backward_input(const KernelContext& ctx) {
  const char* op = "conv2d_backward_input";
  check_floating(ctx, 0);
  check_same_dtype(ctx);
  const ConvGeometry geo = ConvGeometry::from_attrs(ctx.attrs(), op);
  const Shape input = size_attr(ctx, "input_size", op);
  check_grad_output(ctx.input(0), conv_output_shape(input, ctx.input(1).shape(), geo, op), op);
}

void validate_backward_weight(const KernelContext& ctx) {
  const char* op = "conv2d_backward_weight";
  check_floating(ctx, 0);
  check_same_dtype(ctx);
  const ConvGeometry geo = ConvGeometry::from_attrs(ctx.attrs(), op);
  const Shape weight = size_attr(ctx, "weight_size", op);
  check_grad_output(ctx.input(0), conv_output_shape(ctx.input(1).shape(), weight, geo, op), op);
}

struct GeoAttrs {
  Ints stride, padding, dilation;
  int64_t groups;
};

GeoAttrs geo_attrs(const Attrs& attrs) {
  return {attrs.get_ints("stride"), attrs.get_ints("padding"), attrs.get_ints("dilation"),
          attrs.get_int("groups")};
}

std::vector<Tensor> conv2d_grad(const BackwardContext& ctx) {
  const GeoAttrs a = geo_attrs(ctx.attrs);
  const Tensor& g = ctx.grad_output();
  std::vector<Tensor> grads(3);
  if (ctx.needs_grad(0)) {
    grads[0] = conv2d_backward_input(g, ctx.input(1), ctx.input_shapes[0], a.stride, a.padding,
                                     a.dilation, a.groups);
  }
  if (ctx.needs_grad(1)) {
    grads[1] = conv2d_backward_weight(g, ctx.input(0), ctx.input_shapes[1], a.stride, a.padding,
                                      a.dilation, a.groups);
  }
  if (ctx.input_defined.size() > 2 && ctx.input_defined[2] && ctx.needs_grad(2))
    grads[2] = sum(g, {0, 2, 3});
  return grads;
}

std::vector<Tensor> backward_input_grad(const BackwardContext& ctx) {
  const GeoAttrs a = geo_attrs(ctx.attrs);
  const Tensor& h = ctx.grad_output();
  std::vector<Tensor> grads(2);
  if (ctx.needs_grad(0)) {
    grads[0] = conv2d(h, ctx.input(1), {}, a.stride, a.padding, a.dilation, a.groups);
  }
  if (ctx.needs_grad(1)) {
    grads[1] = conv2d_backward_weight(ctx.input(0), h, ctx.input_shapes[1], a.stride, a.padding,
                                      a.dilation, a.groups);
  }
  return grads;
}

std::vector<Tensor> backward_weight_grad(const BackwardContext& ctx) {
  const GeoAttrs a = geo_attrs(ctx.attrs);
  const Tensor& h = ctx.grad_output();
  std::vector<Tensor> grads(2);
  if (ctx.needs_grad(0)) {
    grads[0] = conv2d(ctx.input(1), h, {}, a.stride, a.padding, a.dilation, a.groups);
  }
  if (ctx.needs_grad(1)) {
    grads[1] = conv2d_backward_input(ctx.input(0), h, ctx.input_shapes[1], a.stride, a.padding,
                                     a.dilation, a.groups);
  }
  return grads;
}

// One geometry of the case list: shapes plus attributes.
struct CaseGeo {
  const char* name;
  Shape input;
  Shape weight;
  Attrs attrs;
  bool channels_last = false;
  bool non_contiguous_input = false;
  bool bias = true;
};

Attrs geo(Ints stride, Ints padding, Ints dilation, int64_t groups) {
  return {{"stride", stride}, {"padding", padding}, {"dilation", dilation}, {"groups", groups}};
}

std::vector<CaseGeo> case_geometries() {
  return {
      {"basic", {2, 2, 5, 5}, {3, 2, 3, 3}, geo({1}, {0}, {1}, 1)},
      {"no-bias", {1, 2, 4, 4}, {2, 2, 2, 2}, geo({1}, {0}, {1}, 1), false, false, false},
      {"stride-2", {2, 2, 5, 5}, {2, 2, 3, 3}, geo({2}, {0}, {1}, 1)},
      {"padding", {1, 2, 4, 5}, {2, 2, 3, 3}, geo({1}, {1, 2}, {1}, 1)},
      {"dilation", {1, 2, 5, 5}, {2, 2, 2, 2}, geo({1}, {0}, {2}, 1)},
      {"groups-2", {2, 4, 4, 4}, {4, 2, 2, 2}, geo({1}, {1}, {1}, 2)},
      {"depthwise", {1, 3, 4, 4}, {3, 1, 3, 3}, geo({1}, {1}, {1}, 3)},
      {"mixed", {1, 2, 6, 5}, {2, 1, 2, 3}, geo({2, 1}, {1, 0}, {1, 2}, 2)},
      {"stride-drops-rows", {1, 1, 6, 6}, {1, 1, 2, 2}, geo({3}, {0}, {1}, 1)},
      {"1x1", {2, 3, 3, 3}, {4, 3, 1, 1}, geo({1}, {0}, {1}, 1)},
      {"size-1-spatial", {2, 2, 1, 1}, {3, 2, 1, 1}, geo({1}, {0}, {1}, 1)},
      {"channels-last", {2, 3, 4, 4}, {2, 3, 3, 3}, geo({1}, {1}, {1}, 1), true},
      {"non-contiguous", {1, 2, 4, 5}, {2, 2, 2, 2}, geo({1}, {0}, {1}, 1), false, true},
      {"empty-batch", {0, 2, 4, 4}, {2, 2, 3, 3}, geo({1}, {0}, {1}, 1)},
      // Batches that split into unequal chunks of images (cpu/batched_gemm), also strided and
      // grouped, channels-last and non-contiguous.
      {"batch-5", {5, 8, 4, 4}, {4, 8, 3, 3}, geo({1}, {1}, {1}, 1)},
      {"batch-3-stride-2-groups", {3, 4, 7, 7}, {6, 2, 3, 3}, geo({2}, {1}, {1}, 2), true},
      {"batch-3-1x1-stride-2", {3, 3, 5, 5}, {2, 3, 1, 1}, geo({2}, {0}, {1}, 1), false, true},
      // Rows and channel counts that the register tiles of cpu/direct_avx512 split: a stride-2
      // row of 11, 70 output channels (blocks of 4 + 1 vectors, the last one partial), a row of 33
      // (two tiles); batch-5 (rows of 4) and 70-channels (rows of 6) put images in the tiles.
      {"stride-2-wide", {2, 5, 9, 22}, {5, 5, 3, 3}, geo({2}, {1}, {1}, 1), false, true},
      {"70-channels", {1, 4, 4, 6}, {70, 4, 3, 3}, geo({1}, {1}, {1}, 1)},
      {"wide-row", {1, 8, 3, 33}, {4, 8, 3, 3}, geo({1}, {1}, {1}, 1), true},
      // Strided input gradients as phases (cpu/direct_avx512): dropped trailing rows, one tap per
      // phase, mixed strides.
      {"stride-2-odd", {2, 8, 8, 9}, {6, 8, 3, 3}, geo({2}, {0}, {1}, 1)},
      {"stride-2-k2", {1, 8, 5, 6}, {4, 8, 2, 2}, geo({2}, {1}, {1}, 1)},
      {"stride-2x1", {1, 8, 6, 7}, {3, 8, 3, 3}, geo({2, 1}, {1, 0}, {1}, 1), true},
      // 1x1, stride 1 (cpu/pointwise): channels-last (one GEMM over all pixels), a batch split
      // unevenly over threads without bias, and a non-contiguous input that it hands on to
      // cpu/direct_avx512.
      {"1x1-channels-last", {3, 5, 4, 3}, {6, 5, 1, 1}, geo({1}, {0}, {1}, 1), true},
      {"1x1-batch-5", {5, 8, 3, 4}, {7, 8, 1, 1}, geo({1}, {0}, {1}, 1), false, false, false},
      {"1x1-non-contiguous", {2, 4, 3, 5}, {3, 4, 1, 1}, geo({1}, {0}, {1}, 1), false, true},
      // A 7x7 stride-2 stem on 3 channels: cpu/direct_avx512 takes its weight gradient (runs of
      // 21 (q, c) pairs) although it has fewer than 4 channels.
      {"stem-7x7-3-channels", {2, 3, 9, 10}, {4, 3, 7, 7}, geo({2}, {3}, {1}, 1)},
  };
}

Tensor layout(Tensor t, const CaseGeo& c) {
  if (c.channels_last) return t.contiguous(MemoryFormat::channels_last);
  if (c.non_contiguous_input) return non_contiguous(t);
  return t;
}

std::vector<OpCase> forward_cases(DType dtype, uint64_t seed) {
  CaseRandom rng(seed);
  std::vector<OpCase> cases;
  for (const CaseGeo& c : case_geometries()) {
    Tensor bias = c.bias ? rng.uniform({c.weight[0]}, dtype) : Tensor{};
    cases.push_back({c.name,
                     {layout(rng.uniform(c.input, dtype), c), rng.uniform(c.weight, dtype), bias},
                     c.attrs});
  }
  cases.push_back({"large",
                   {rng.uniform({4, 16, 20, 20}, dtype), rng.uniform({32, 16, 3, 3}, dtype),
                    rng.uniform({32}, dtype)},
                   geo({1}, {1}, {1}, 1),
                   true});
  return cases;
}

Shape out_shape(const CaseGeo& c) {
  return conv_output_shape(c.input, c.weight, ConvGeometry::from_attrs(c.attrs, "case"), "case");
}

std::vector<OpCase> backward_input_cases(DType dtype, uint64_t seed) {
  CaseRandom rng(seed);
  std::vector<OpCase> cases;
  for (const CaseGeo& c : case_geometries()) {
    Attrs attrs = c.attrs;
    attrs.set("input_size", c.input);
    cases.push_back({c.name,
                     {layout(rng.uniform(out_shape(c), dtype), c), rng.uniform(c.weight, dtype)},
                     attrs});
  }
  Attrs large = geo({2}, {1}, {1}, 1);
  large.set("input_size", Ints{4, 16, 20, 20});
  cases.push_back({"large",
                   {rng.uniform({4, 32, 10, 10}, dtype), rng.uniform({32, 16, 3, 3}, dtype)},
                   large,
                   true});
  return cases;
}

std::vector<OpCase> backward_weight_cases(DType dtype, uint64_t seed) {
  CaseRandom rng(seed);
  std::vector<OpCase> cases;
  for (const CaseGeo& c : case_geometries()) {
    Attrs attrs = c.attrs;
    attrs.set("weight_size", c.weight);
    cases.push_back(
        {c.name,
         {layout(rng.uniform(out_shape(c), dtype), c), layout(rng.uniform(c.input, dtype), c)},
         attrs});
  }
  Attrs large = geo({2}, {1}, {1}, 1);
  large.set("weight_size", Ints{32, 16, 3, 3});
  cases.push_back({"large",
                   {rng.uniform({4, 32, 10, 10}, dtype), rng.uniform({4, 16, 20, 20}, dtype)},
                   large,
                   true});
  return cases;
}

std::vector<AttrSpec> geometry_specs() {
  return {{"stride", AttrType::integers, Ints{1, 1}, "step between windows (one int: both dims)"},
          {"padding", AttrType::integers, Ints{0, 0}, "zeros added on each side"},
          {"dilation", AttrType::integers, Ints{1, 1}, "spacing between kernel taps"},
          {"groups", AttrType::integer, int64_t{1}, "channel groups convolved separately"}};
}

const bool registered = [] {
  auto& r = dispatch::Registry::instance();
  OpDef fwd;
  fwd.schema = {"conv2d",
                {{"input"}, {"weight"}, InputSpec("bias", true, true)},
                geometry_specs(),
                {{"output"}},
                "2-d cross-correlation of N×C×H×W input with O×C/groups×kH×kW weight, plus bias"};
  fwd.validate = validate_forward;
  fwd.backward = conv2d_grad;
  fwd.cases = forward_cases;
  r.add_op(fwd);

  OpDef bin;
  std::vector<AttrSpec> bin_attrs = geometry_specs();
  bin_attrs.insert(bin_attrs.begin(),
                   AttrSpec("input_size", AttrType::integers, std::nullopt, "N, C, H, W of input"));
  bin.schema = {"conv2d_backward_input",
                {{"grad_output"}, {"weight"}},
                bin_attrs,
                {{"grad_input"}},
                "gradient of conv2d with respect to its input"};
  bin.validate = validate_backward_input;
  bin.backward = backward_input_grad;
  bin.cases = backward_input_cases;
  r.add_op(bin);

  OpDef bw;
  std::vector<AttrSpec> bw_attrs = geometry_specs();
  bw_attrs.insert(bw_attrs.begin(), AttrSpec("weight_size", AttrType::integers, std::nullopt,
                                             "O, C/groups, kH, kW of weight"));
  bw.schema = {"conv2d_backward_weight",
               {{"grad_output"}, {"input"}},
               bw_attrs,
               {{"grad_weight"}},
               "gradient of conv2d with respect to its weight"};
  bw.validate = validate_backward_weight;
  bw.backward = backward_weight_grad;
  bw.cases = backward_weight_cases;
  r.add_op(bw);
  return true;
}();

}  // namespace

Tensor conv2d(const Tensor& input, const Tensor& weight, const Tensor& bias,
              const std::vector<int64_t>& stride, const std::vector<int64_t>& padding,
              const std::vector<int64_t>& dilation, int64_t groups) {
  return dispatch::call1(
      "conv2d", {input, weight, bias},
      Attrs{{"stride", stride}, {"padding", padding}, {"dilation", dilation}, {"groups", groups}});
}

Tensor conv2d_backward_input(const Tensor& grad_output, const Tensor& weight,
                             const std::vector<int64_t>& input_size,
                             const std::vector<int64_t>& stride,
                             const std::vector<int64_t>& padding,
                             const std::vector<int64_t>& dilation, int64_t groups) {
  return dispatch::call1("conv2d_backward_input", {grad_output, weight},
                         Attrs{{"input_size", input_size},
                               {"stride", stride},
                               {"padding", padding},
                               {"dilation", dilation},
                               {"groups", groups}});
}

Tensor conv2d_backward_weight(const Tensor& grad_output, const Tensor& input,
                              const std::vector<int64_t>& weight_size,
                              const std::vector<int64_t>& stride,
                              const std::vector<int64_t>& padding,
                              const std::vector<int64_t>& dilation, int64_t groups) {
  return dispatch::call1("conv2d_backward_weight", {grad_output, input},
                         Attrs{{"weight_size", weight_size},
                               {"stride", stride},
                               {"padding", padding},
                               {"dilation", dilation},
                               {"groups", groups}});
}

}  // namespace osprey::ops
