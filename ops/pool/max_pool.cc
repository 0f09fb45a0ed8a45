// Schemas, shape rules, derivatives and cases of max_pool2d and max_pool2d_backward (see pool.h).
#include "framework/autograd/grad_mode.h"
#include "framework/dispatch/registry.h"
#include "ops/common/case_helpers.h"
#include "ops/common/op_helpers.h"
#include "ops/pool/pool.h"
#include "ops/pool/pool_geometry.h"
#include "ops/reduce/reduce_util.h"
#include "ops/sort/index_scatter_grad.h"

namespace osprey::ops {
namespace {

void validate_max_pool(const KernelContext& ctx) {
  check_floating(ctx, 0);
  pool2d_geometry(ctx.attrs(), ctx.input(0).shape(), "max_pool2d");
}

void validate_max_pool_backward(const KernelContext& ctx) {
  const char* op = "max_pool2d_backward";
  check_floating(ctx, 0);
  const Tensor& grad = ctx.input(0);
  const Tensor& indices = ctx.input(1);
  Shape input_size = image_size_attr(ctx.attrs(), "input_size", op);
  check_image_shape(grad.shape(), op, "grad_output");
  OSPREY_CHECK_KIND(shape, grad.size(0) == input_size[0] && grad.size(1) == input_size[1],
                    "{}: grad_output {} and input_size {} differ in N or C", op, grad.describe(),
                    shape_str(input_size));
  OSPREY_CHECK_KIND(shape, indices.shape() == grad.shape(),
                    "{}: indices {} must have grad_output's shape {}", op, indices.describe(),
                    grad.describe());
  OSPREY_CHECK_KIND(dtype, indices.dtype() == DType::i64, "{}: indices must be i64, got {}", op,
                    indices.describe());
}

std::vector<Tensor> max_pool_grad(const BackwardContext& ctx) {
  return {max_pool2d_backward(ctx.grad_output(0), ctx.output(1), ctx.input_shapes[0])};
}

// The adjoint of scattering into each H x W plane is gathering from it.
std::vector<Tensor> max_pool_backward_grad(const BackwardContext& ctx) {
  const Tensor& gg = ctx.grad_output(0);
  const Tensor& indices = ctx.input(1);
  const Shape& go = ctx.input_shapes[0];
  Tensor planes = gg.reshape({gg.size(0), gg.size(1), gg.size(2) * gg.size(3)});
  Tensor picks = indices.reshape({go[0], go[1], go[2] * go[3]});
  return {index_gather_grad(planes, picks, 2).reshape(go), Tensor()};
}

Attrs pool_attrs(IntList kernel, IntList stride, IntList padding, IntList dilation,
                 bool ceil_mode) {
  return {{"kernel_size", kernel},
          {"stride", stride},
          {"padding", padding},
          {"dilation", dilation},
          {"ceil_mode", ceil_mode}};
}

struct MaxCase {
  const char* name;
  Shape shape;
  Attrs attrs;
  enum Layout { plain, strided, channels_last } layout = plain;
  bool large = false;  // values only: big enough for the kernels' OpenMP path
};

std::vector<MaxCase> max_case_specs() {
  auto a = [](IntList k, IntList s = {}, IntList p = {0}, IntList d = {1}, bool ceil = false) {
    return pool_attrs(k, s, p, d, ceil);
  };
  return {
      {"2x2", {2, 2, 4, 4}, a({2})},
      {"overlapping", {1, 2, 5, 5}, a({3}, {1})},
      {"padding", {1, 2, 5, 5}, a({3}, {2}, {1})},
      {"dilation", {1, 2, 6, 6}, a({2}, {1}, {1}, {2})},
      {"rectangular", {1, 2, 5, 7}, a({2, 3}, {1, 2}, {1, 0})},
      {"ceil-mode", {1, 2, 5, 5}, a({2}, {2}, {0}, {1}, true)},
      {"ceil-mode-padding", {1, 1, 5, 7}, a({2, 3}, {2}, {1}, {1}, true)},
      {"size-1", {1, 1, 1, 1}, a({1})},
      {"size-1-dims", {2, 3, 1, 4}, a({1, 2})},
      {"empty-batch", {0, 2, 4, 4}, a({2})},
      {"non-contiguous", {1, 2, 4, 5}, a({2}, {1}), MaxCase::strided},
      {"channels-last", {1, 3, 4, 4}, a({3}, {1}, {1}), MaxCase::channels_last},
      {"large", {2, 16, 20, 20}, a({3}, {1}, {1}), MaxCase::plain, true},
      {"large-channels-last", {2, 16, 20, 20}, a({2}), MaxCase::channels_last, true},
  };
}

Tensor laid_out(const Tensor& t, MaxCase::Layout layout) {
  if (layout == MaxCase::strided) return non_contiguous(t);
  if (layout == MaxCase::channels_last) return t.contiguous(MemoryFormat::channels_last);
  return t;
}

std::vector<OpCase> max_pool_cases(DType dtype, uint64_t seed) {
  CaseRandom rng(seed);
  std::vector<OpCase> cases;
  for (auto& spec : max_case_specs()) {
    // Distinct values: no ties, so the gradient is well defined.
    cases.push_back({spec.name,
                     {laid_out(distinct_values(rng, spec.shape, dtype), spec.layout)},
                     spec.attrs,
                     spec.large});
  }
  return cases;
}

// Indices come from pooling distinct values, so they are the ones max_pool2d would give.
std::vector<OpCase> max_pool_backward_cases(DType dtype, uint64_t seed) {
  CaseRandom rng(seed);
  autograd::NoGradGuard no_grad;
  std::vector<OpCase> cases;
  for (auto& spec : max_case_specs()) {
    Tensor indices =
        dispatch::call("max_pool2d", {distinct_values(rng, spec.shape, dtype)}, spec.attrs)[1];
    Tensor grad = rng.uniform(indices.shape(), dtype);
    cases.push_back({spec.name,
                     {laid_out(grad, spec.layout), indices},
                     Attrs{{"input_size", spec.shape}},
                     spec.large});
  }
  return cases;
}

const bool registered = [] {
  auto& r = dispatch::Registry::instance();
  OpDef pool;
  pool.schema = {
      "max_pool2d",
      {{"input"}},
      {{"kernel_size", AttrType::integers, std::nullopt, "window (kH, kW) or one size"},
       {"stride", AttrType::integers, IntList{}, "step (sH, sW); empty = kernel_size"},
       {"padding", AttrType::integers, IntList{0, 0}, "implicit -inf border, at most kernel/2"},
       {"dilation", AttrType::integers, IntList{1, 1}, "spacing between window elements"},
       {"ceil_mode", AttrType::boolean, false, "round the output size up (see pool.h)"}},
      {{"output"}, {"indices", false}},
      "maximum over each 2-d window, and its flat index h*W+w in the input plane"};
  pool.validate = validate_max_pool;
  pool.backward = max_pool_grad;
  pool.save_inputs = false;
  pool.save_outputs = true;
  pool.cases = max_pool_cases;
  r.add_op(std::move(pool));

  OpDef back;
  back.schema = {"max_pool2d_backward",
                 {{"grad_output"}, {"indices", false}},
                 {{"input_size", AttrType::integers, std::nullopt, "the input's [N, C, H, W]"}},
                 {{"grad_input"}},
                 "zeros of input_size with grad_output added at indices in each plane"};
  back.validate = validate_max_pool_backward;
  back.backward = max_pool_backward_grad;
  back.cases = max_pool_backward_cases;
  r.add_op(std::move(back));
  return true;
}();

}  // namespace

std::pair<Tensor, Tensor> max_pool2d(const Tensor& input, const IntList& kernel_size,
                                     const IntList& stride, const IntList& padding,
                                     const IntList& dilation, bool ceil_mode) {
  auto out = dispatch::call("max_pool2d", {input},
                            pool_attrs(kernel_size, stride, padding, dilation, ceil_mode));
  return {out[0], out[1]};
}

Tensor max_pool2d_backward(const Tensor& grad_output, const Tensor& indices,
                           const IntList& input_size) {
  return dispatch::call1("max_pool2d_backward", {grad_output, indices},
                         Attrs{{"input_size", input_size}});
}

}  // namespace osprey::ops
