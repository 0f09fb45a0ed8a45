// Schemas, shape rules, derivative, cases and the C++ functions of roi_pool and roi_pool_backward
// (math in roi_pool.h).
#include "ops/roi_pool/roi_pool.h"

#include <cmath>

#include "framework/autograd/grad_mode.h"
#include "framework/dispatch/registry.h"
#include "ops/common/case_helpers.h"
#include "ops/common/op_helpers.h"
#include "ops/common/roi_cases.h"
#include "ops/common/roi_check.h"
#include "ops/reduce/reduce_util.h"
#include "ops/roi_pool/roi_pool_geometry.h"

namespace osprey::ops {

RoiPoolParams RoiPoolParams::from(const Attrs& attrs, const char* op) {
  RoiPoolParams p;
  const std::vector<int64_t> size = attrs.get_ints("output_size");
  OSPREY_CHECK(size.size() == 1 || size.size() == 2,
               "{}: output_size must be one or two sizes (PH, PW), got {}", op, shape_str(size));
  p.pooled_h = size[0];
  p.pooled_w = size.back();
  OSPREY_CHECK(p.pooled_h > 0 && p.pooled_w > 0, "{}: output_size must be positive, got {}", op,
               shape_str(size));
  p.spatial_scale = attrs.get_float("spatial_scale");
  OSPREY_CHECK(std::isfinite(p.spatial_scale) && p.spatial_scale > 0,
               "{}: spatial_scale must be a positive number, got {}", op, p.spatial_scale);
  return p;
}

namespace {

void validate_forward(const KernelContext& ctx) {
  const char* op = "roi_pool";
  check_floating(ctx, 0);
  RoiPoolParams::from(ctx.attrs(), op);
  check_roi_forward_operands(ctx.input(0), ctx.input(1), op);
}

void validate_backward(const KernelContext& ctx) {
  const char* op = "roi_pool_backward";
  check_floating(ctx, 0);
  const Tensor& grad = ctx.input(0);
  const Tensor& rois = ctx.input(1);
  const Tensor& argmax = ctx.input(2);
  const Shape size = ctx.attrs().get_ints("input_size");
  check_roi_input_size(size, op);
  // CUDA: the kernel checks the values on the host copy it makes to group the RoIs by image.
  const bool host_values = !(grad.device().is_cuda() && rois.device().is_cuda());
  check_rois(rois, grad.dtype(), size[0], "grad_output " + grad.describe(), op, host_values);
  OSPREY_CHECK_KIND(shape,
                    grad.dim() == 4 && grad.size(0) == rois.size(0) && grad.size(1) == size[1],
                    "{}: grad_output {} must be (K rois, C, PH, PW) for rois {} and input_size {}",
                    op, grad.describe(), rois.describe(), shape_str(size));
  OSPREY_CHECK_KIND(shape, argmax.shape() == grad.shape(),
                    "{}: argmax {} must have grad_output's shape {}", op, argmax.describe(),
                    grad.describe());
  OSPREY_CHECK_KIND(dtype, argmax.dtype() == DType::i64, "{}: argmax must be i64, got {}", op,
                    argmax.describe());
}

std::vector<Tensor> roi_pool_grad(const BackwardContext& ctx) {
  std::vector<Tensor> grads(2);
  if (!ctx.needs_grad(0)) return grads;
  grads[0] = dispatch::call1("roi_pool_backward", {ctx.grad_output(0), ctx.input(1), ctx.output(1)},
                             Attrs{{"input_size", ctx.input_shapes[0]}});
  return grads;
}

Attrs pool_attrs(const std::vector<int64_t>& output_size, double spatial_scale) {
  return {{"output_size", output_size}, {"spatial_scale", spatial_scale}};
}

struct PoolCase {
  const char* name;
  Shape input;
  int64_t rois;
  Attrs attrs;
  enum Layout { plain, strided, channels_last } layout = plain;
  bool large = false;
};

std::vector<PoolCase> pool_cases() {
  return {
      {"scale-1", {2, 3, 6, 7}, 5, pool_attrs({3}, 1.0)},
      {"scale-half", {2, 2, 6, 5}, 4, pool_attrs({2, 3}, 0.5)},
      // Bins finer than the RoI: neighbouring bins share pixels, some are empty at the edges.
      {"fine-bins", {1, 2, 4, 4}, 4, pool_attrs({5}, 1.0)},
      {"map-1x1", {2, 2, 1, 1}, 3, pool_attrs({2}, 1.0)},
      {"zero-rois", {2, 3, 4, 4}, 0, pool_attrs({2}, 1.0)},
      {"empty-batch", {0, 2, 4, 4}, 0, pool_attrs({2}, 1.0)},
      {"channels-last", {2, 4, 5, 6}, 4, pool_attrs({2, 3}, 0.5), PoolCase::channels_last},
      {"non-contiguous", {1, 3, 5, 4}, 3, pool_attrs({2}, 1.0), PoolCase::strided},
      {"large", {2, 24, 12, 11}, 20, pool_attrs({7}, 0.25), PoolCase::plain, true},
  };
}

Tensor laid_out(const Tensor& t, PoolCase::Layout layout) {
  if (layout == PoolCase::strided) return non_contiguous(t);
  if (layout == PoolCase::channels_last) return t.contiguous(MemoryFormat::channels_last);
  return t;
}

struct PoolOperands {
  Tensor input, rois;
};

// Distinct input values: no ties, so the gradient is well defined.
PoolOperands operands(CaseRandom& rng, const PoolCase& c, DType dtype) {
  PoolOperands o;
  o.input = laid_out(distinct_values(rng, c.input, dtype), c.layout);
  o.rois = case_rois(rng, c.rois, c.input[0], c.input[2], c.input[3],
                     c.attrs.get_float("spatial_scale"), dtype);
  if (c.layout == PoolCase::strided) o.rois = non_contiguous(o.rois);
  return o;
}

std::vector<OpCase> forward_cases(DType dtype, uint64_t seed) {
  CaseRandom rng(seed);
  autograd::NoGradGuard no_grad;
  std::vector<OpCase> cases;
  for (const PoolCase& c : pool_cases()) {
    PoolOperands o = operands(rng, c, dtype);
    cases.push_back({c.name, {o.input, o.rois}, c.attrs, c.large});
  }
  return cases;
}

// argmax comes from pooling distinct values, so it is what roi_pool would give.
std::vector<OpCase> backward_cases(DType dtype, uint64_t seed) {
  CaseRandom rng(seed);
  autograd::NoGradGuard no_grad;
  std::vector<OpCase> cases;
  for (const PoolCase& c : pool_cases()) {
    PoolOperands o = operands(rng, c, dtype);
    auto out = dispatch::call("roi_pool", {o.input, o.rois}, c.attrs);
    Tensor grad = laid_out(rng.uniform(out[0].shape(), dtype), c.layout);
    cases.push_back({c.name, {grad, o.rois, out[1]}, Attrs{{"input_size", c.input}}, c.large});
  }
  return cases;
}

const bool registered = [] {
  auto& r = dispatch::Registry::instance();
  OpDef fwd;
  fwd.schema = {
      "roi_pool",
      {{"input"}, InputSpec("rois", false)},
      {{"output_size", AttrType::integers, std::nullopt, "(PH, PW) of each RoI, or one size"},
       {"spatial_scale", AttrType::real, 1.0,
        "feature-map pixels per input-image pixel (1/16 for a stride-16 map)"}},
      {{"output"}, {"argmax", false}},
      "max pooling over RoI bins (Fast R-CNN RoIPool), torchvision's semantics"};
  fwd.validate = validate_forward;
  fwd.backward = roi_pool_grad;
  fwd.save_outputs = true;
  fwd.cases = forward_cases;
  r.add_op(fwd);

  OpDef bwd;
  bwd.schema = {"roi_pool_backward",
                {{"grad_output"}, InputSpec("rois", false), InputSpec("argmax", false)},
                {{"input_size", AttrType::integers, std::nullopt, "N, C, H, W of input"}},
                {{"grad_input"}},
                "gradient of roi_pool: grad_output added at argmax in each RoI's image plane"};
  bwd.validate = validate_backward;
  bwd.cases = backward_cases;
  r.add_op(bwd);
  return true;
}();

}  // namespace

std::pair<Tensor, Tensor> roi_pool(const Tensor& input, const Tensor& rois,
                                   const std::vector<int64_t>& output_size, double spatial_scale) {
  auto out = dispatch::call("roi_pool", {input, rois}, pool_attrs(output_size, spatial_scale));
  return {out[0], out[1]};
}

Tensor roi_pool_backward(const Tensor& grad_output, const Tensor& rois, const Tensor& argmax,
                         const std::vector<int64_t>& input_size) {
  return dispatch::call1("roi_pool_backward", {grad_output, rois, argmax},
                         Attrs{{"input_size", input_size}});
}

}  // namespace osprey::ops
