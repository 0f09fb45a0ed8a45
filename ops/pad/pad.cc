// Schemas, validation, derivatives and cases of pad and pad_backward (see pad.h).
#include "ops/pad/pad.h"

#include "framework/dispatch/registry.h"
#include "ops/common/case_helpers.h"
#include "ops/common/op_helpers.h"
#include "ops/pad/pad_geometry.h"

namespace osprey::ops {
namespace {

using pad_detail::pad_geometry;

void validate_pad(const KernelContext& ctx) {
  check_floating(ctx, 0);
  pad_geometry(ctx.input(0).shape(), ctx.attrs().get_ints("pad"), ctx.attrs().get_string("mode"),
               "pad");
}

void validate_pad_backward(const KernelContext& ctx) {
  check_floating(ctx, 0);
  const Shape input_size = ctx.attrs().get_ints("input_size");
  for (int64_t size : input_size) {
    OSPREY_CHECK(size >= 0, "pad_backward: input_size {} has a negative size",
                 shape_str(input_size));
  }
  auto g = pad_geometry(input_size, ctx.attrs().get_ints("pad"), ctx.attrs().get_string("mode"),
                        "pad_backward");
  OSPREY_CHECK_KIND(shape, ctx.input(0).shape() == g.output_shape,
                    "pad_backward: grad_output {} must have the padded shape {} of input_size {}",
                    shape_str(ctx.input(0).shape()), shape_str(g.output_shape),
                    shape_str(input_size));
}

std::vector<Tensor> pad_grad(const BackwardContext& ctx) {
  return {dispatch::call1("pad_backward", {ctx.grad_output(0)},
                          {{"pad", ctx.attrs.get_ints("pad")},
                           {"mode", ctx.attrs.get_string("mode")},
                           {"input_size", ctx.input_shapes[0]}})};
}

// pad_backward is the adjoint of pad with value 0.
std::vector<Tensor> pad_backward_grad(const BackwardContext& ctx) {
  return {dispatch::call1("pad", {ctx.grad_output(0)},
                          {{"pad", ctx.attrs.get_ints("pad")},
                           {"mode", ctx.attrs.get_string("mode")},
                           {"value", 0.0}})};
}

struct PadCase {
  const char* name;
  Shape shape;
  Shape pad;
  const char* mode;
  enum Layout { plain, strided, channels_last } layout = plain;
  bool large = false;
};

std::vector<PadCase> pad_case_specs() {
  return {
      {"constant-1d", {2, 5}, {1, 2}, "constant"},
      {"constant-2d", {1, 2, 3, 3}, {1, 0, 2, 1}, "constant"},
      {"constant-crop", {2, 3, 5}, {-1, 2, 1, -2}, "constant"},
      {"constant-crop-to-empty", {2, 3}, {-2, -1}, "constant"},
      {"constant-3-dims", {2, 2, 3}, {1, 1, 0, 1, 1, 0}, "constant"},
      {"constant-no-pad", {2, 3}, {}, "constant"},
      {"reflect-1d", {2, 5}, {2, 3}, "reflect"},
      {"reflect-2d", {1, 2, 3, 4}, {3, 1, 2, 2}, "reflect"},
      {"replicate-1d", {2, 3}, {3, 2}, "replicate"},
      {"replicate-2d", {1, 2, 3, 3}, {2, 1, 0, 3}, "replicate"},
      {"replicate-size-1", {2, 1, 1}, {2, 2, 1, 1}, "replicate"},
      {"reflect-size-2", {1, 2, 2}, {1, 1, 1, 0}, "reflect"},
      {"empty-batch", {0, 2, 3, 3}, {1, 1, 1, 1}, "reflect"},
      {"non-contiguous", {1, 2, 4, 3}, {1, 2, 2, 1}, "reflect", PadCase::strided},
      {"channels-last", {1, 3, 3, 3}, {1, 1, 2, 0}, "replicate", PadCase::channels_last},
      {"channels-last-constant", {1, 3, 2, 3}, {1, -1, 1, 1}, "constant", PadCase::channels_last},
      {"large", {4, 16, 32, 32}, {2, 2, 2, 2}, "reflect", PadCase::plain, true},
  };
}

Tensor laid_out(const Tensor& t, PadCase::Layout layout) {
  if (layout == PadCase::strided) return non_contiguous(t);
  if (layout == PadCase::channels_last) return t.contiguous(MemoryFormat::channels_last);
  return t;
}

Attrs case_attrs(const PadCase& spec) {
  return {{"pad", spec.pad}, {"mode", std::string(spec.mode)}};
}

std::vector<OpCase> pad_cases(DType dtype, uint64_t seed) {
  CaseRandom rng(seed);
  std::vector<OpCase> cases;
  for (auto& spec : pad_case_specs()) {
    Attrs attrs = case_attrs(spec);
    if (std::string(spec.mode) == "constant") attrs.set("value", 0.75);
    cases.push_back(
        {spec.name, {laid_out(rng.uniform(spec.shape, dtype), spec.layout)}, attrs, spec.large});
  }
  return cases;
}

std::vector<OpCase> pad_backward_cases(DType dtype, uint64_t seed) {
  CaseRandom rng(seed);
  std::vector<OpCase> cases;
  for (auto& spec : pad_case_specs()) {
    Shape out = pad_geometry(spec.shape, spec.pad, spec.mode, "pad").output_shape;
    Attrs attrs = case_attrs(spec);
    attrs.set("input_size", spec.shape);
    cases.push_back(
        {spec.name, {laid_out(rng.uniform(out, dtype), spec.layout)}, attrs, spec.large});
  }
  return cases;
}

std::vector<AttrSpec> pad_attrs() {
  return {{"pad", AttrType::integers, std::nullopt,
           "(left, right) amounts, last dim first; negative crops (constant mode)"},
          {"mode", AttrType::string, std::string("constant"), "constant, reflect or replicate"}};
}

const bool registered = [] {
  auto& r = dispatch::Registry::instance();
  OpDef def;
  std::vector<AttrSpec> attrs = pad_attrs();
  attrs.push_back({"value", AttrType::real, 0.0, "fill value of constant mode"});
  def.schema = {"pad", {{"input"}}, std::move(attrs), {{"output"}}, "pads the trailing dims"};
  def.validate = validate_pad;
  def.backward = pad_grad;
  def.save_inputs = false;
  def.cases = pad_cases;
  r.add_op(std::move(def));

  OpDef back;
  std::vector<AttrSpec> back_attrs = pad_attrs();
  back_attrs.push_back({"input_size", AttrType::integers, std::nullopt, "the input's shape"});
  back.schema = {"pad_backward",
                 {{"grad_output"}},
                 std::move(back_attrs),
                 {{"grad_input"}},
                 "sums each output's gradient into its source element"};
  back.validate = validate_pad_backward;
  back.backward = pad_backward_grad;
  back.save_inputs = false;
  back.cases = pad_backward_cases;
  r.add_op(std::move(back));
  return true;
}();

}  // namespace

Tensor pad(const Tensor& input, const std::vector<int64_t>& pad, const std::string& mode,
           double value) {
  return dispatch::call1("pad", {input}, {{"pad", pad}, {"mode", mode}, {"value", value}});
}

Tensor pad_backward(const Tensor& grad_output, const std::vector<int64_t>& pad,
                    const std::string& mode, const std::vector<int64_t>& input_size) {
  return dispatch::call1("pad_backward", {grad_output},
                         {{"pad", pad}, {"mode", mode}, {"input_size", input_size}});
}

}  // namespace osprey::ops
