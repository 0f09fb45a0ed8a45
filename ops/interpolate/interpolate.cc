// Schemas, checks, derivatives and cases of interpolate and interpolate_backward (see
// interpolate.h).
#include <string>
#include <utility>
#include <vector>

#include "framework/dispatch/registry.h"
#include "ops/common/case_helpers.h"
#include "ops/common/op_helpers.h"
#include "ops/interpolate/interpolate.h"
#include "ops/pool/pool_geometry.h"

namespace osprey::ops {
namespace {

using IntList = std::vector<int64_t>;
using RealList = std::vector<double>;

void validate_interpolate(const KernelContext& ctx) {
  check_floating(ctx, 0);
  interpolate_geometry(ctx.attrs(), ctx.input(0).shape(), "interpolate");
}

void validate_interpolate_backward(const KernelContext& ctx) {
  const char* op = "interpolate_backward";
  check_floating(ctx, 0);
  Shape input_size = image_size_attr(ctx.attrs(), "input_size", op);
  check_grad_output(ctx.input(0), interpolate_geometry(ctx.attrs(), input_size, op).output_shape(),
                    op);
}

std::vector<Tensor> interpolate_grad(const BackwardContext& ctx) {
  const Attrs& a = ctx.attrs;
  return {interpolate_backward(ctx.grad_output(0), ctx.input_shapes[0], a.get_ints("size"),
                               a.get_floats("scale_factor"), a.get_string("mode"),
                               a.get_bool("align_corners"))};
}

// The backward is the forward's adjoint, so the forward is the backward's.
std::vector<Tensor> interpolate_backward_grad(const BackwardContext& ctx) {
  const Attrs& a = ctx.attrs;
  return {interpolate(ctx.grad_output(0), a.get_ints("size"), a.get_floats("scale_factor"),
                      a.get_string("mode"), a.get_bool("align_corners"))};
}

struct ResizeCase {
  const char* name;
  Shape shape;
  IntList size;
  RealList scale_factor;
  const char* mode;
  bool align_corners = false;
  enum Layout { plain, strided, channels_last } layout = plain;
};

std::vector<ResizeCase> case_specs() {
  return {
      {"nearest-up-x2", {1, 2, 2, 3}, {}, {2.0}, "nearest"},
      {"nearest-down-4-to-3", {1, 2, 4, 4}, {3}, {}, "nearest"},
      {"nearest-scale-mixed", {1, 1, 3, 4}, {}, {1.5, 0.75}, "nearest"},
      {"bilinear-up", {1, 2, 2, 3}, {4, 5}, {}, "bilinear"},
      {"bilinear-up-align", {1, 2, 2, 3}, {4, 5}, {}, "bilinear", true},
      {"bilinear-down", {1, 2, 5, 5}, {3, 2}, {}, "bilinear"},
      {"bilinear-down-align", {1, 1, 5, 4}, {2, 3}, {}, "bilinear", true},
      {"bilinear-scale", {1, 1, 3, 4}, {}, {1.5, 0.5}, "bilinear"},
      {"bilinear-scale-align", {1, 1, 3, 3}, {}, {2.0}, "bilinear", true},
      {"identity", {1, 2, 3, 3}, {3, 3}, {}, "bilinear"},
      {"size-1-input", {1, 2, 1, 3}, {2, 4}, {}, "bilinear"},
      {"size-1-output-align", {1, 1, 3, 3}, {1, 2}, {}, "bilinear", true},
      {"empty-batch", {0, 2, 3, 3}, {4}, {}, "bilinear"},
      {"non-contiguous", {1, 2, 3, 4}, {5, 3}, {}, "bilinear", false, ResizeCase::strided},
      {"channels-last", {1, 3, 3, 3}, {4, 4}, {}, "bilinear", true, ResizeCase::channels_last},
      {"nearest-channels-last",
       {2, 3, 2, 2},
       {3, 5},
       {},
       "nearest",
       false,
       ResizeCase::channels_last},
  };
}

Attrs spec_attrs(const ResizeCase& spec) {
  return Attrs{{"size", spec.size},
               {"scale_factor", spec.scale_factor},
               {"mode", std::string(spec.mode)},
               {"align_corners", spec.align_corners}};
}

Tensor laid_out(const Tensor& t, ResizeCase::Layout layout) {
  if (layout == ResizeCase::strided) return non_contiguous(t);
  if (layout == ResizeCase::channels_last) return t.contiguous(MemoryFormat::channels_last);
  return t;
}

std::vector<OpCase> interpolate_cases(DType dtype, uint64_t seed) {
  CaseRandom rng(seed);
  std::vector<OpCase> cases;
  for (auto& spec : case_specs()) {
    cases.push_back(
        {spec.name, {laid_out(rng.uniform(spec.shape, dtype), spec.layout)}, spec_attrs(spec)});
  }
  return cases;
}

std::vector<OpCase> interpolate_backward_cases(DType dtype, uint64_t seed) {
  CaseRandom rng(seed);
  std::vector<OpCase> cases;
  for (auto& spec : case_specs()) {
    Attrs attrs = spec_attrs(spec);
    Shape out = interpolate_geometry(attrs, spec.shape, "interpolate").output_shape();
    attrs.set("input_size", spec.shape);
    cases.push_back({spec.name, {laid_out(rng.uniform(out, dtype), spec.layout)}, attrs});
  }
  return cases;
}

std::vector<AttrSpec> resize_attr_specs() {
  return {{"size", AttrType::integers, IntList{}, "(OH, OW) or one size; or give scale_factor"},
          {"scale_factor", AttrType::reals, RealList{}, "(sH, sW) or one factor; or give size"},
          {"mode", AttrType::string, std::string("nearest"), "\"nearest\" or \"bilinear\""},
          {"align_corners", AttrType::boolean, false, "bilinear: corner pixels' centres align"}};
}

const bool registered = [] {
  auto& r = dispatch::Registry::instance();
  OpDef fwd;
  fwd.schema = {"interpolate",
                {{"input"}},
                resize_attr_specs(),
                {{"output"}},
                "resize images by nearest or bilinear interpolation (PyTorch's index rules)"};
  fwd.validate = validate_interpolate;
  fwd.backward = interpolate_grad;
  fwd.save_inputs = false;
  fwd.cases = interpolate_cases;
  r.add_op(std::move(fwd));

  OpDef back;
  std::vector<AttrSpec> back_attrs = resize_attr_specs();
  back_attrs.insert(back_attrs.begin(),
                    {"input_size", AttrType::integers, std::nullopt, "the input's [N, C, H, W]"});
  back.schema = {"interpolate_backward",
                 {{"grad_output"}},
                 back_attrs,
                 {{"grad_input"}},
                 "each output's gradient scattered back with its interpolation weights"};
  back.validate = validate_interpolate_backward;
  back.backward = interpolate_backward_grad;
  back.save_inputs = false;
  back.cases = interpolate_backward_cases;
  r.add_op(std::move(back));
  return true;
}();

}  // namespace

Tensor interpolate(const Tensor& input, const std::vector<int64_t>& size,
                   const std::vector<double>& scale_factor, const std::string& mode,
                   bool align_corners) {
  return dispatch::call1("interpolate", {input},
                         Attrs{{"size", size},
                               {"scale_factor", scale_factor},
                               {"mode", mode},
                               {"align_corners", align_corners}});
}

Tensor interpolate_backward(const Tensor& grad_output, const std::vector<int64_t>& input_size,
                            const std::vector<int64_t>& size,
                            const std::vector<double>& scale_factor, const std::string& mode,
                            bool align_corners) {
  return dispatch::call1("interpolate_backward", {grad_output},
                         Attrs{{"input_size", input_size},
                               {"size", size},
                               {"scale_factor", scale_factor},
                               {"mode", mode},
                               {"align_corners", align_corners}});
}

}  // namespace osprey::ops
