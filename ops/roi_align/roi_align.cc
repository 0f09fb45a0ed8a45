// Schemas, shape rules, derivatives and the C++ functions of roi_align and roi_align_backward
// (math in roi_align.h; the case list is roi_align_cases.cc).
#include "ops/roi_align/roi_align.h"

#include <cmath>

#include "framework/dispatch/registry.h"
#include "ops/common/op_helpers.h"
#include "ops/common/roi_check.h"
#include "ops/roi_align/roi_align_cases.h"
#include "ops/roi_align/roi_align_geometry.h"

namespace osprey::ops {

RoiAlignParams RoiAlignParams::from(const Attrs& attrs, const char* op) {
  RoiAlignParams p;
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
  p.sampling_ratio = attrs.get_int("sampling_ratio");
  p.aligned = attrs.get_bool("aligned");
  return p;
}

namespace {

void validate_forward(const KernelContext& ctx) {
  const char* op = "roi_align";
  check_floating(ctx, 0);
  RoiAlignParams::from(ctx.attrs(), op);
  check_roi_forward_operands(ctx.input(0), ctx.input(1), op);
}

void validate_backward(const KernelContext& ctx) {
  const char* op = "roi_align_backward";
  check_floating(ctx, 0);
  const Tensor& grad = ctx.input(0);
  const Tensor& rois = ctx.input(1);
  const Shape input_size = ctx.attrs().get_ints("input_size");
  check_roi_input_size(input_size, op);
  const RoiAlignParams p = RoiAlignParams::from(ctx.attrs(), op);
  // CUDA: the kernel checks the values on the host copy it makes to group the RoIs by image.
  const bool host_values = !(grad.device().is_cuda() && rois.device().is_cuda());
  check_rois(rois, grad.dtype(), input_size[0], "grad_output " + grad.describe(), op, host_values);
  const Shape want = p.output_shape(rois.size(0), input_size[1]);
  OSPREY_CHECK_KIND(shape, grad.shape() == want,
                    "{}: grad_output {} must be {} (K rois × C × output_size) for rois {} and "
                    "input_size {}",
                    op, grad.describe(), shape_str(want), rois.describe(), shape_str(input_size));
}

std::vector<AttrSpec> common_attrs() {
  return {{"output_size", AttrType::integers, std::nullopt, "(PH, PW) of each RoI, or one size"},
          {"spatial_scale", AttrType::real, 1.0,
           "feature-map pixels per input-image pixel (1/16 for a stride-16 map)"},
          {"sampling_ratio", AttrType::integer, int64_t{-1},
           "samples per bin along each axis; <= 0: adaptive, ceil(bin size)"},
          {"aligned", AttrType::boolean, false,
           "shift boxes by -0.5 pixel (pixel centres at +0.5); false: the legacy rule"}};
}

Attrs call_attrs(const std::vector<int64_t>& output_size, double spatial_scale,
                 int64_t sampling_ratio, bool aligned) {
  return {{"output_size", output_size},
          {"spatial_scale", spatial_scale},
          {"sampling_ratio", sampling_ratio},
          {"aligned", aligned}};
}

Attrs forwarded(const Attrs& attrs) {
  return call_attrs(attrs.get_ints("output_size"), attrs.get_float("spatial_scale"),
                    attrs.get_int("sampling_ratio"), attrs.get_bool("aligned"));
}

// Inputs: input 0, rois 1 (no gradient).
std::vector<Tensor> roi_align_grad(const BackwardContext& ctx) {
  std::vector<Tensor> grads(2);
  if (!ctx.needs_grad(0)) return grads;
  Attrs attrs = forwarded(ctx.attrs);
  attrs.set("input_size", ctx.input_shapes[0]);
  grads[0] = dispatch::call1("roi_align_backward", {ctx.grad_output(), ctx.input(1)}, attrs);
  return grads;
}

// roi_align_backward is linear in grad_output; its adjoint is roi_align.
std::vector<Tensor> roi_align_backward_grad(const BackwardContext& ctx) {
  std::vector<Tensor> grads(2);
  if (!ctx.needs_grad(0)) return grads;
  grads[0] = dispatch::call1("roi_align", {ctx.grad_output(), ctx.input(1)}, forwarded(ctx.attrs));
  return grads;
}

const bool registered = [] {
  auto& r = dispatch::Registry::instance();
  OpDef fwd;
  fwd.schema = {"roi_align",
                {{"input"}, InputSpec("rois", false)},
                common_attrs(),
                {{"output"}},
                "bilinear RoI pooling (Mask R-CNN RoIAlign), torchvision's semantics"};
  fwd.validate = validate_forward;
  fwd.backward = roi_align_grad;
  fwd.cases = roi_align_cases;
  r.add_op(fwd);

  OpDef bwd;
  std::vector<AttrSpec> attrs = common_attrs();
  attrs.insert(attrs.begin(),
               AttrSpec("input_size", AttrType::integers, std::nullopt, "N, C, H, W of input"));
  bwd.schema = {"roi_align_backward",
                {{"grad_output"}, InputSpec("rois", false)},
                attrs,
                {{"grad_input"}},
                "gradient of roi_align with respect to its input"};
  bwd.validate = validate_backward;
  bwd.backward = roi_align_backward_grad;
  bwd.cases = roi_align_backward_cases;
  r.add_op(bwd);
  return true;
}();

}  // namespace

Tensor roi_align(const Tensor& input, const Tensor& rois, const std::vector<int64_t>& output_size,
                 double spatial_scale, int64_t sampling_ratio, bool aligned) {
  return dispatch::call1("roi_align", {input, rois},
                         call_attrs(output_size, spatial_scale, sampling_ratio, aligned));
}

Tensor roi_align_backward(const Tensor& grad_output, const Tensor& rois,
                          const std::vector<int64_t>& input_size,
                          const std::vector<int64_t>& output_size, double spatial_scale,
                          int64_t sampling_ratio, bool aligned) {
  Attrs attrs = call_attrs(output_size, spatial_scale, sampling_ratio, aligned);
  attrs.set("input_size", input_size);
  return dispatch::call1("roi_align_backward", {grad_output, rois}, attrs);
}

}  // namespace osprey::ops
