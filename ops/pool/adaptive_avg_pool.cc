// Schemas, shape rules, derivatives and cases of adaptive_avg_pool2d and its backward (see pool.h).
#include "framework/dispatch/registry.h"
#include "ops/common/case_helpers.h"
#include "ops/common/op_helpers.h"
#include "ops/pool/pool.h"
#include "ops/pool/pool_geometry.h"

namespace osprey::ops {
namespace {

// output_size as (OH, OW): one value is used for both dims.
Shape adaptive_output_shape(const Shape& input, const Attrs& attrs, const char* op) {
  IntList size = attrs.get_ints("output_size");
  OSPREY_CHECK(size.size() == 1 || size.size() == 2,
               "{}: output_size must have 1 or 2 values, got {}", op, size.size());
  const int64_t oh = size[0], ow = size.size() == 2 ? size[1] : size[0];
  OSPREY_CHECK(oh >= 0 && ow >= 0, "{}: output_size must be non-negative, got ({}, {})", op, oh,
               ow);
  return {input[0], input[1], oh, ow};
}

void validate_adaptive(const KernelContext& ctx) {
  const char* op = "adaptive_avg_pool2d";
  check_floating(ctx, 0);
  check_image_shape(ctx.input(0).shape(), op, "input");
  adaptive_output_shape(ctx.input(0).shape(), ctx.attrs(), op);
}

void validate_adaptive_backward(const KernelContext& ctx) {
  const char* op = "adaptive_avg_pool2d_backward";
  check_floating(ctx, 0);
  Shape input_size = image_size_attr(ctx.attrs(), "input_size", op);
  const Tensor& grad = ctx.input(0);
  OSPREY_CHECK_KIND(shape, grad.dim() == 4, "{}: grad_output must be 4-d, got {}", op,
                    grad.describe());
  check_grad_output(grad, {input_size[0], input_size[1], grad.size(2), grad.size(3)}, op);
}

std::vector<Tensor> adaptive_grad(const BackwardContext& ctx) {
  return {adaptive_avg_pool2d_backward(ctx.grad_output(0), ctx.input_shapes[0])};
}

// The backward is the adjoint of the pool, so the pool is the backward's own adjoint.
std::vector<Tensor> adaptive_backward_grad(const BackwardContext& ctx) {
  const Shape& go = ctx.input_shapes[0];
  return {adaptive_avg_pool2d(ctx.grad_output(0), {go[2], go[3]})};
}

struct AdaptiveCase {
  const char* name;
  Shape shape;
  IntList output_size;
  enum Layout { plain, strided, channels_last } layout = plain;
};

std::vector<AdaptiveCase> adaptive_case_specs() {
  return {
      {"5-to-3", {1, 2, 5, 5}, {3}},
      {"even", {2, 2, 4, 6}, {2, 3}},
      {"upsample", {1, 2, 2, 3}, {3, 4}},
      {"global", {2, 3, 3, 4}, {1}},
      {"identity", {1, 2, 3, 3}, {3, 3}},
      {"size-1-dims", {1, 3, 1, 5}, {1, 2}},
      {"empty-batch", {0, 2, 4, 4}, {2}},
      {"non-contiguous", {1, 2, 5, 4}, {3, 2}, AdaptiveCase::strided},
      {"channels-last", {1, 3, 5, 5}, {2, 3}, AdaptiveCase::channels_last},
  };
}

Tensor laid_out(const Tensor& t, AdaptiveCase::Layout layout) {
  if (layout == AdaptiveCase::strided) return non_contiguous(t);
  if (layout == AdaptiveCase::channels_last) return t.contiguous(MemoryFormat::channels_last);
  return t;
}

std::vector<OpCase> adaptive_cases(DType dtype, uint64_t seed) {
  CaseRandom rng(seed);
  std::vector<OpCase> cases;
  for (auto& spec : adaptive_case_specs()) {
    cases.push_back({spec.name,
                     {laid_out(rng.uniform(spec.shape, dtype), spec.layout)},
                     Attrs{{"output_size", spec.output_size}}});
  }
  return cases;
}

std::vector<OpCase> adaptive_backward_cases(DType dtype, uint64_t seed) {
  CaseRandom rng(seed);
  std::vector<OpCase> cases;
  for (auto& spec : adaptive_case_specs()) {
    Shape out = adaptive_output_shape(spec.shape, Attrs{{"output_size", spec.output_size}},
                                      "adaptive_avg_pool2d");
    cases.push_back({spec.name,
                     {laid_out(rng.uniform(out, dtype), spec.layout)},
                     Attrs{{"input_size", spec.shape}}});
  }
  return cases;
}

const bool registered = [] {
  auto& r = dispatch::Registry::instance();
  OpDef pool;
  pool.schema = {"adaptive_avg_pool2d",
                 {{"input"}},
                 {{"output_size", AttrType::integers, std::nullopt, "(OH, OW) or one size"}},
                 {{"output"}},
                 "mean over output_size bins that cover the input (PyTorch's bin edges)"};
  pool.validate = validate_adaptive;
  pool.backward = adaptive_grad;
  pool.save_inputs = false;
  pool.cases = adaptive_cases;
  r.add_op(std::move(pool));

  OpDef back;
  back.schema = {"adaptive_avg_pool2d_backward",
                 {{"grad_output"}},
                 {{"input_size", AttrType::integers, std::nullopt, "the input's [N, C, H, W]"}},
                 {{"grad_input"}},
                 "each bin's gradient / bin size spread over the bin"};
  back.validate = validate_adaptive_backward;
  back.backward = adaptive_backward_grad;
  back.save_inputs = false;
  back.cases = adaptive_backward_cases;
  r.add_op(std::move(back));
  return true;
}();

}  // namespace

Shape adaptive_avg_pool2d_output_shape(const Shape& input, const Attrs& attrs) {
  return adaptive_output_shape(input, attrs, "adaptive_avg_pool2d");
}

Tensor adaptive_avg_pool2d(const Tensor& input, const IntList& output_size) {
  return dispatch::call1("adaptive_avg_pool2d", {input}, Attrs{{"output_size", output_size}});
}

Tensor adaptive_avg_pool2d_backward(const Tensor& grad_output, const IntList& input_size) {
  return dispatch::call1("adaptive_avg_pool2d_backward", {grad_output},
                         Attrs{{"input_size", input_size}});
}

}  // namespace osprey::ops
