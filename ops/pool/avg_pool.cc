// Schemas, shape rules, derivatives and cases of avg_pool2d and avg_pool2d_backward (see pool.h).
#include "framework/dispatch/registry.h"
#include "ops/common/case_helpers.h"
#include "ops/common/op_helpers.h"
#include "ops/pool/pool.h"
#include "ops/pool/pool_geometry.h"

namespace osprey::ops {
namespace {

void validate_avg_pool(const KernelContext& ctx) {
  check_floating(ctx, 0);
  pool2d_geometry(ctx.attrs(), ctx.input(0).shape(), "avg_pool2d");
}

void validate_avg_pool_backward(const KernelContext& ctx) {
  const char* op = "avg_pool2d_backward";
  check_floating(ctx, 0);
  Shape input_size = image_size_attr(ctx.attrs(), "input_size", op);
  check_grad_output(ctx.input(0), pool2d_geometry(ctx.attrs(), input_size, op).output_shape(), op);
}

Attrs pool_attrs(const IntList& kernel, const IntList& stride, const IntList& padding,
                 bool ceil_mode, bool count_include_pad) {
  return {{"kernel_size", kernel},
          {"stride", stride},
          {"padding", padding},
          {"ceil_mode", ceil_mode},
          {"count_include_pad", count_include_pad}};
}

// The attributes the backward op shares with the forward one.
Attrs forward_attrs(const Attrs& attrs) {
  return pool_attrs(attrs.get_ints("kernel_size"), attrs.get_ints("stride"),
                    attrs.get_ints("padding"), attrs.get_bool("ceil_mode"),
                    attrs.get_bool("count_include_pad"));
}

std::vector<Tensor> avg_pool_grad(const BackwardContext& ctx) {
  Attrs attrs = forward_attrs(ctx.attrs);
  attrs.set("input_size", ctx.input_shapes[0]);
  return {dispatch::call1("avg_pool2d_backward", {ctx.grad_output(0)}, attrs)};
}

// avg_pool2d_backward is the adjoint of avg_pool2d, and so avg_pool2d is its own.
std::vector<Tensor> avg_pool_backward_grad(const BackwardContext& ctx) {
  return {dispatch::call1("avg_pool2d", {ctx.grad_output(0)}, forward_attrs(ctx.attrs))};
}

struct AvgCase {
  const char* name;
  Shape shape;
  Attrs attrs;
  enum Layout { plain, strided, channels_last } layout = plain;
  bool large = false;  // values only: big enough for the kernels' OpenMP path
};

std::vector<AvgCase> avg_case_specs() {
  auto a = [](IntList k, IntList s = {}, IntList p = {0}, bool ceil = false, bool inc = true) {
    return pool_attrs(k, s, p, ceil, inc);
  };
  return {
      {"2x2", {2, 2, 4, 4}, a({2})},
      {"overlapping", {1, 2, 5, 5}, a({3}, {1})},
      {"padding", {1, 2, 5, 5}, a({3}, {2}, {1})},
      {"padding-excluded", {1, 2, 5, 5}, a({3}, {2}, {1}, false, false)},
      {"rectangular", {1, 2, 5, 7}, a({2, 3}, {1, 2}, {1, 0})},
      {"ceil-mode", {1, 2, 5, 5}, a({2}, {2}, {0}, true)},
      {"ceil-mode-padding", {1, 1, 5, 7}, a({2, 3}, {2}, {1}, true)},
      {"ceil-mode-padding-excluded", {1, 1, 5, 7}, a({2, 3}, {2}, {1}, true, false)},
      {"size-1", {1, 1, 1, 1}, a({1})},
      {"size-1-dims", {2, 3, 1, 4}, a({1, 2})},
      {"empty-batch", {0, 2, 4, 4}, a({2})},
      {"non-contiguous", {1, 2, 4, 5}, a({2}, {1}), AvgCase::strided},
      {"channels-last", {1, 3, 4, 4}, a({3}, {1}, {1}), AvgCase::channels_last},
      {"large", {2, 16, 20, 20}, a({3}, {1}, {1}), AvgCase::plain, true},
      {"large-channels-last", {2, 16, 20, 20}, a({2}), AvgCase::channels_last, true},
  };
}

Tensor laid_out(const Tensor& t, AvgCase::Layout layout) {
  if (layout == AvgCase::strided) return non_contiguous(t);
  if (layout == AvgCase::channels_last) return t.contiguous(MemoryFormat::channels_last);
  return t;
}

std::vector<OpCase> avg_pool_cases(DType dtype, uint64_t seed) {
  CaseRandom rng(seed);
  std::vector<OpCase> cases;
  for (auto& spec : avg_case_specs()) {
    cases.push_back({spec.name,
                     {laid_out(rng.uniform(spec.shape, dtype), spec.layout)},
                     spec.attrs,
                     spec.large});
  }
  return cases;
}

std::vector<OpCase> avg_pool_backward_cases(DType dtype, uint64_t seed) {
  CaseRandom rng(seed);
  std::vector<OpCase> cases;
  for (auto& spec : avg_case_specs()) {
    Shape out = pool2d_geometry(spec.attrs, spec.shape, "avg_pool2d").output_shape();
    Attrs attrs = spec.attrs;
    attrs.set("input_size", spec.shape);
    cases.push_back(
        {spec.name, {laid_out(rng.uniform(out, dtype), spec.layout)}, attrs, spec.large});
  }
  return cases;
}

std::vector<AttrSpec> window_attrs() {
  return {{"kernel_size", AttrType::integers, std::nullopt, "window (kH, kW) or one size"},
          {"stride", AttrType::integers, IntList{}, "step (sH, sW); empty = kernel_size"},
          {"padding", AttrType::integers, IntList{0, 0}, "implicit zero border, at most kernel/2"},
          {"ceil_mode", AttrType::boolean, false, "round the output size up (see pool.h)"},
          {"count_include_pad", AttrType::boolean, true, "divide by the padded window size"}};
}

const bool registered = [] {
  auto& r = dispatch::Registry::instance();
  OpDef pool;
  pool.schema = {
      "avg_pool2d", {{"input"}}, window_attrs(), {{"output"}}, "mean over each 2-d window"};
  pool.validate = validate_avg_pool;
  pool.backward = avg_pool_grad;
  pool.save_inputs = false;
  pool.cases = avg_pool_cases;
  r.add_op(std::move(pool));

  OpDef back;
  std::vector<AttrSpec> attrs = window_attrs();
  attrs.insert(attrs.begin(),
               {"input_size", AttrType::integers, std::nullopt, "the input's [N, C, H, W]"});
  back.schema = {"avg_pool2d_backward",
                 {{"grad_output"}},
                 std::move(attrs),
                 {{"grad_input"}},
                 "each output's gradient / divisor spread over its window"};
  back.validate = validate_avg_pool_backward;
  back.backward = avg_pool_backward_grad;
  back.save_inputs = false;
  back.cases = avg_pool_backward_cases;
  r.add_op(std::move(back));
  return true;
}();

}  // namespace

Tensor avg_pool2d(const Tensor& input, const IntList& kernel_size, const IntList& stride,
                  const IntList& padding, bool ceil_mode, bool count_include_pad) {
  return dispatch::call1("avg_pool2d", {input},
                         pool_attrs(kernel_size, stride, padding, ceil_mode, count_include_pad));
}

Tensor avg_pool2d_backward(const Tensor& grad_output, const IntList& input_size,
                           const IntList& kernel_size, const IntList& stride,
                           const IntList& padding, bool ceil_mode, bool count_include_pad) {
  Attrs attrs = pool_attrs(kernel_size, stride, padding, ceil_mode, count_include_pad);
  attrs.set("input_size", input_size);
  return dispatch::call1("avg_pool2d_backward", {grad_output}, attrs);
}

}  // namespace osprey::ops
