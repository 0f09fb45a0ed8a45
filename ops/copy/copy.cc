#include "ops/copy/copy.h"

#include "ops/common/case_helpers.h"
#include "ops/common/op_helpers.h"

namespace osprey::ops {
namespace {

std::vector<Tensor> pass_through(const BackwardContext& ctx) {
  return {ctx.grad_output()};
}

std::vector<Tensor> cast_backward(const BackwardContext& ctx) {
  return {ctx.grad_output().to(ctx.input_dtypes[0])};
}

std::vector<Tensor> copy_backward(const BackwardContext& ctx) {
  return {sum_to(ctx.grad_output(), ctx.input_shapes[0])};
}

OpDef unary_def(const char* name, std::vector<AttrSpec> attrs, dispatch::BackwardFn backward,
                const char* doc) {
  OpDef def;
  def.schema = {name, {{"input"}}, std::move(attrs), {{"output"}}, doc};
  def.backward = std::move(backward);
  def.save_inputs = false;
  return def;
}

dispatch::CaseFn unary_cases(bool non_contiguous_input) {
  return [non_contiguous_input](DType dtype, uint64_t seed) {
    CaseRandom rng(seed);
    std::vector<OpCase> cases;
    cases.push_back({"2x3", {rng.uniform({2, 3}, dtype)}, {}});
    cases.push_back({"empty", {rng.uniform({0, 4}, dtype)}, {}});
    cases.push_back({"scalar", {rng.uniform({}, dtype)}, {}});
    if (non_contiguous_input) {
      cases.push_back({"non-contiguous", {non_contiguous(rng.uniform({3, 5}, dtype))}, {}});
    }
    return cases;
  };
}

const bool registered = [] {
  auto& registry = dispatch::Registry::instance();

  OpDef copy;
  copy.schema = {"copy",
                 {{"src"}},
                 {},
                 {{"out"}},
                 "writes src (broadcast) into the given output tensor, or into a new one"};
  copy.backward = copy_backward;
  copy.save_inputs = false;
  copy.validate = [](const KernelContext& ctx) {
    if (ctx.has_preset_output(0)) {
      const Tensor& out = ctx.outputs().at(0);
      broadcast_shapes(out.shape(), ctx.input(0).shape(), "copy");
      OSPREY_CHECK_KIND(dtype, out.dtype() == ctx.input(0).dtype(),
                        "copy: src {} and out {} differ in dtype", ctx.input(0).describe(),
                        out.describe());
    }
  };
  copy.cases = [](DType dtype, uint64_t seed) {
    CaseRandom rng(seed);
    return std::vector<OpCase>{
        {"values", {rng.uniform({3, 4}, dtype)}, {}},
        {"non-contiguous", {non_contiguous(rng.uniform({3, 4}, dtype))}, {}}};
  };
  registry.add_op(std::move(copy));

  OpDef fill;
  fill.schema = {"fill",
                 {},
                 {{"value", AttrType::real}},
                 {{"out"}},
                 "writes value into every element of the given output"};
  fill.cases = [](DType, uint64_t) { return std::vector<OpCase>{}; };
  registry.add_op(std::move(fill));

  OpDef contiguous = unary_def("contiguous", {{"channels_last", AttrType::boolean, false}},
                               pass_through, "a copy in row-major or channels-last layout");
  contiguous.cases = [](DType dtype, uint64_t seed) {
    CaseRandom rng(seed);
    std::vector<OpCase> cases;
    cases.push_back({"transposed", {non_contiguous(rng.uniform({3, 4}, dtype))}, {}});
    cases.push_back({"to-nhwc", {rng.uniform({2, 3, 4, 5}, dtype)}, {{"channels_last", true}}});
    return cases;
  };
  registry.add_op(std::move(contiguous));

  OpDef clone = unary_def("clone", {}, pass_through, "a contiguous copy");
  clone.cases = unary_cases(true);
  registry.add_op(std::move(clone));

  OpDef cast = unary_def("cast", {{"dtype", AttrType::dtype}}, cast_backward,
                         "converts the element type (round to nearest even for f16/bf16)");
  cast.cases = [](DType dtype, uint64_t seed) {
    CaseRandom rng(seed);
    DType other = dtype == DType::f64 ? DType::f32 : DType::f64;
    // Narrowing casts lose the precision a finite-difference check needs: values only.
    return std::vector<OpCase>{
        {"to-f64", {rng.uniform({2, 3}, dtype)}, {{"dtype", DType::f64}}},
        {"to-other", {rng.uniform({2, 3}, dtype)}, {{"dtype", other}}, true}};
  };
  registry.add_op(std::move(cast));

  OpDef to_device = unary_def(
      "to_device", {{"device", AttrType::string}},
      [](const BackwardContext& ctx) {
        return std::vector<Tensor>{ctx.grad_output().to(ctx.device)};
      },
      "copies to another device");
  to_device.cases = [](DType dtype, uint64_t seed) {
    CaseRandom rng(seed);
    return std::vector<OpCase>{
        {"to-cpu", {rng.uniform({2, 3}, dtype)}, {{"device", std::string("cpu")}}}};
  };
  registry.add_op(std::move(to_device));
  return true;
}();

}  // namespace

const Tensor& copy_output(KernelContext& ctx) {
  const Tensor& src = ctx.input(0);
  if (!ctx.has_preset_output(0)) ctx.output(0, src.shape(), src.dtype());
  return ctx.outputs()[0];
}

const Tensor& contiguous_output(KernelContext& ctx) {
  const Tensor& input = ctx.input(0);
  bool channels_last = ctx.attrs().get_bool("channels_last");
  return ctx.output(0, input.shape(), input.dtype(),
                    channels_last ? MemoryFormat::channels_last : MemoryFormat::contiguous);
}

const Tensor& clone_output(KernelContext& ctx) {
  const Tensor& input = ctx.input(0);
  return ctx.output(0, input.shape(), input.dtype());
}

const Tensor& cast_output(KernelContext& ctx) {
  const Tensor& input = ctx.input(0);
  return ctx.output(0, input.shape(), ctx.attrs().get_dtype("dtype"));
}

}  // namespace osprey::ops
