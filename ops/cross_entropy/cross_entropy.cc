// Schemas, argument checks, derivative and cases of cross_entropy and cross_entropy_backward
// (math in cross_entropy.h).
#include "ops/cross_entropy/cross_entropy.h"

#include "framework/dispatch/registry.h"
#include "ops/common/case_helpers.h"
#include "ops/common/op_helpers.h"
#include "ops/elementwise/compare.h"
#include "ops/elementwise/elementwise.h"
#include "ops/elementwise/unary.h"
#include "ops/factory/factory.h"
#include "ops/reduce/reduce.h"
#include "ops/softmax/softmax.h"

namespace osprey::ops {
namespace {

// Checks input/target/weight/element_weight (at `first` .. first + 3) and the attributes.
void check_common(const KernelContext& ctx, int first) {
  const char* op = ctx.op().schema.name.c_str();
  const Tensor& input = ctx.input(first);
  const Tensor& target = ctx.input(first + 1);
  const Tensor& weight = ctx.input(first + 2);
  check_floating(ctx, first);
  OSPREY_CHECK_KIND(shape, input.dim() >= 1, "{}: input must be C or N x C x ..., got {}", op,
                    input.describe());
  OSPREY_CHECK_KIND(dtype, target.dtype() == DType::i64,
                    "{}: target must hold class indices (i64), got {}", op, target.describe());
  Shape expected = input.shape();
  expected.erase(expected.begin() + (input.dim() == 1 ? 0 : 1));
  OSPREY_CHECK_KIND(shape, target.shape() == expected,
                    "{}: target {} must be input {} without the class dim (expected {})", op,
                    target.describe(), input.describe(), Tensor::empty(expected).describe());
  const int64_t classes = input.size(input.dim() == 1 ? 0 : 1);
  if (weight.defined()) {
    OSPREY_CHECK_KIND(dtype, weight.dtype() == input.dtype(),
                      "{}: weight {} must have input's dtype {}", op, weight.describe(),
                      dtype_name(input.dtype()));
    OSPREY_CHECK_KIND(shape, weight.dim() == 1 && weight.size(0) == classes,
                      "{}: weight {} must hold one value per class (expected [{}])", op,
                      weight.describe(), classes);
  }
  const Tensor& element = ctx.input(first + 3);
  if (element.defined()) {
    OSPREY_CHECK_KIND(dtype, element.dtype() == input.dtype(),
                      "{}: element_weight {} must have input's dtype {}", op, element.describe(),
                      dtype_name(input.dtype()));
    OSPREY_CHECK_KIND(shape, element.shape() == target.shape(),
                      "{}: element_weight {} must be shaped like target {} (one per position)", op,
                      element.describe(), target.describe());
  }
  const std::string& reduction = ctx.attrs().get_string("reduction");
  OSPREY_CHECK(
      reduction == "mean" || reduction == "sum" || reduction == "none" || reduction == "valid",
      "{}: reduction must be 'mean', 'sum', 'none' or 'valid', got '{}'", op, reduction);
  const double smoothing = ctx.attrs().get_float("label_smoothing");
  OSPREY_CHECK(smoothing >= 0.0 && smoothing <= 1.0,
               "{}: label_smoothing must be in [0, 1], got {}", op, smoothing);
}

void validate_forward(const KernelContext& ctx) {
  check_common(ctx, 0);
}

void validate_backward(const KernelContext& ctx) {
  check_common(ctx, 1);
  const Tensor& g = ctx.input(0);
  const char* op = ctx.op().schema.name.c_str();
  OSPREY_CHECK_KIND(dtype, g.dtype() == ctx.input(1).dtype(),
                    "{}: grad_output {} must have input's dtype {}", op, g.describe(),
                    dtype_name(ctx.input(1).dtype()));
  const bool none = ctx.attrs().get_string("reduction") == "none";
  const Shape expected = none ? ctx.input(2).shape() : Shape{};
  OSPREY_CHECK_KIND(shape, g.shape() == expected,
                    "{}: grad_output {} must be shaped like the loss ({} for reduction '{}')", op,
                    g.describe(), none ? "the target's shape" : "a scalar",
                    ctx.attrs().get_string("reduction"));
}

CrossEntropyOptions options_of(const Attrs& attrs, Tensor weight, Tensor element_weight) {
  return {std::move(weight), attrs.get_int("ignore_index"), attrs.get_float("label_smoothing"),
          attrs.get_string("reduction"), std::move(element_weight)};
}

std::vector<Tensor> cross_entropy_grad(const BackwardContext& ctx) {
  std::vector<Tensor> grads(4);
  if (ctx.needs_grad(0)) {
    grads[0] = cross_entropy_backward(ctx.grad_output(), ctx.input(0), ctx.input(1),
                                      options_of(ctx.attrs, ctx.input(2), ctx.input(3)));
  }
  return grads;
}

// The weight of each position's target, 0 where ignored (w = 1 without weight): a one-hot match
// of the target against the class indices, so no integer indexing is needed.
Tensor target_weight(const Tensor& x, const Tensor& t, const CrossEntropyOptions& o, int64_t cd) {
  const int64_t classes = x.size(cd);
  Shape along(x.dim() - cd, 1);
  along[0] = classes;
  Tensor hit = eq(t.unsqueeze(cd),
                  arange(static_cast<double>(classes), DType::i64, x.device()).reshape(along))
                   .to(x.dtype());
  if (o.weight.defined()) hit = mul(hit, o.weight.reshape(along));
  Tensor counted = ne(t, Tensor::scalar<int64_t>(o.ignore_index, t.device())).to(x.dtype());
  return mul(sum(hit, {cd}), counted);
}

// The double backward. With R_n = s_n · e_n · Σ_k a_k the output is s · e · a - R · p, so
// (h: incoming)
//   d/dgrad_output = Σ h · cross_entropy_backward(1, ...)  (over the class dim for "none",
//                    else over all)
//   d/dinput       = -R · softmax_backward(h, p)
// where Σ_k a_k = -((1 - ε) w[t] + (ε / C) Σ_c w[c]) at counted positions and 0 at ignored ones.
std::vector<Tensor> cross_entropy_backward_grad(const BackwardContext& ctx) {
  const Tensor& h = ctx.grad_output();
  const Tensor& g = ctx.input(0);
  const Tensor& x = ctx.input(1);
  const Tensor& t = ctx.input(2);
  const CrossEntropyOptions o = options_of(ctx.attrs, ctx.input(3), ctx.input(4));
  const int64_t cd = x.dim() == 1 ? 0 : 1;
  const bool none = o.reduction == "none";
  std::vector<Tensor> grads(5);
  if (ctx.needs_grad(0)) {
    Tensor hu = mul(h, cross_entropy_backward(ones_like(g), x, t, o));
    grads[0] = none ? sum(hu, {cd}) : sum(hu);
  }
  if (ctx.needs_grad(1)) {
    const double eps = o.label_smoothing, classes = static_cast<double>(x.size(cd));
    Tensor wt = target_weight(x, t, o, cd);
    Tensor total_w = o.weight.defined() ? sum(o.weight) : full({}, classes, x.dtype(), x.device());
    Tensor counted = ne(t, Tensor::scalar<int64_t>(o.ignore_index, t.device())).to(x.dtype());
    Tensor sum_a = neg(add(affine(wt, 1 - eps), mul(counted, affine(total_w, eps / classes))));
    Tensor s = g;
    if (o.element_weight.defined()) {
      sum_a = mul(sum_a, o.element_weight);
      wt = mul(wt, o.element_weight);
    }
    if (o.reduction == "mean") s = div(g, sum(wt));
    if (o.reduction == "valid") s = div(g, clamp_min(sum(counted), 1.0));
    Tensor r = mul(s, sum_a).unsqueeze(cd);
    grads[1] = neg(mul(r, softmax_backward(h, softmax(x, cd), cd)));
  }
  return grads;
}

Attrs attrs_of(const std::string& reduction, int64_t ignore_index = -100, double smoothing = 0.0) {
  return Attrs{
      {"ignore_index", ignore_index}, {"label_smoothing", smoothing}, {"reduction", reduction}};
}

Tensor targets(std::vector<int64_t> values, Shape shape) {
  return Tensor::from_vector<int64_t>(values, shape);
}

// Forward cases; the backward cases prepend a matching grad_output.
std::vector<OpCase> forward_cases(DType dtype, uint64_t seed) {
  CaseRandom rng(seed);
  auto logits = [&](const Shape& s) { return rng.uniform(s, dtype, -2, 2); };
  auto labels = [&](const Shape& s, int64_t classes) {
    return rng.uniform(s, DType::i64, 0, static_cast<double>(classes));
  };
  auto weights = [&](int64_t classes) { return rng.uniform({classes}, dtype, 0.5, 2); };
  auto elements = [&](const Shape& s) { return rng.uniform(s, dtype, 0, 2); };
  Tensor with_ignored = targets({2, -100, 0, 1}, {4});
  Tensor own_ignored = targets({1, 1, 0, 2}, {4});
  Tensor all_ignored = targets({-100, -100}, {2});
  return {
      {"mean", {logits({3, 4}), labels({3}, 4), {}}, attrs_of("mean")},
      {"sum", {logits({3, 4}), labels({3}, 4), {}}, attrs_of("sum")},
      {"none", {logits({3, 4}), labels({3}, 4), {}}, attrs_of("none")},
      {"weight-mean", {logits({4, 3}), labels({4}, 3), weights(3)}, attrs_of("mean")},
      {"weight-none", {logits({4, 3}), labels({4}, 3), weights(3)}, attrs_of("none")},
      {"ignore-index", {logits({4, 3}), with_ignored, weights(3)}, attrs_of("mean")},
      {"ignore-index-in-range", {logits({4, 3}), own_ignored, {}}, attrs_of("sum", 1)},
      {"smoothing-mean", {logits({4, 3}), with_ignored, weights(3)}, attrs_of("mean", -100, 0.2)},
      {"smoothing-none", {logits({3, 4}), labels({3}, 4), {}}, attrs_of("none", -100, 0.3)},
      {"full-smoothing", {logits({3, 4}), labels({3}, 4), weights(4)}, attrs_of("sum", -100, 1.0)},
      {"spatial", {logits({2, 3, 2, 2}), labels({2, 2, 2}, 3), weights(3)}, attrs_of("none")},
      {"spatial-mean", {logits({2, 3, 3}), labels({2, 3}, 3), {}}, attrs_of("mean", -100, 0.1)},
      {"channels-last",
       {logits({2, 3, 2, 2}).contiguous(MemoryFormat::channels_last), labels({2, 2, 2}, 3), {}},
       attrs_of("mean")},
      {"non-contiguous", {non_contiguous(logits({4, 3})), labels({4}, 3), {}}, attrs_of("none")},
      {"unbatched", {logits({5}), targets({3}, {}), weights(5)}, attrs_of("mean", -100, 0.1)},
      {"one-class", {logits({3, 1}), labels({3}, 1), {}}, attrs_of("sum")},
      {"size-1-batch", {logits({1, 4}), labels({1}, 4), {}}, attrs_of("mean")},
      {"empty-batch", {logits({0, 3}), labels({0}, 3), {}}, attrs_of("sum")},
      {"element-weight-none",
       {logits({4, 3}), labels({4}, 3), {}, elements({4})},
       attrs_of("none")},
      {"element-weight-mean",
       {logits({4, 3}), with_ignored, weights(3), elements({4})},
       attrs_of("mean", -100, 0.1)},
      {"element-weight-spatial",
       {logits({2, 3, 2, 2}), labels({2, 2, 2}, 3), {}, non_contiguous(elements({2, 2, 2}))},
       attrs_of("sum")},
      {"element-weight-zeros",
       {logits({3, 4}), labels({3}, 4), {}, Tensor::from_vector<double>({1, 0, 2}, {3}).to(dtype)},
       attrs_of("mean")},
      {"valid", {logits({4, 3}), with_ignored, {}}, attrs_of("valid")},
      {"valid-weighted",
       {logits({4, 3}), with_ignored, weights(3), elements({4})},
       attrs_of("valid", -100, 0.2)},
      {"valid-spatial",
       {logits({2, 3, 3}), labels({2, 3}, 3), {}, elements({2, 3})},
       attrs_of("valid")},
      {"valid-all-ignored", {logits({2, 3}), all_ignored, {}}, attrs_of("valid")},
      {"valid-empty-batch", {logits({0, 3}), labels({0}, 3), {}, elements({0})}, attrs_of("valid")},
      {"all-ignored-sum", {logits({2, 3}), all_ignored, {}}, attrs_of("sum", -100, 0.2)},
      {"large-values",
       {rng.uniform({2, 4}, dtype, 500, 505), labels({2}, 4), {}},
       attrs_of("mean")},
      {"large",
       {logits({64, 100}), labels({64}, 100), weights(100)},
       attrs_of("mean", -100, 0.1),
       true},
  };
}

std::vector<OpCase> backward_cases(DType dtype, uint64_t seed) {
  CaseRandom rng(seed + 1);
  std::vector<OpCase> cases = forward_cases(dtype, seed);
  for (auto& c : cases) {
    const bool none = c.attrs.get_string("reduction") == "none";
    c.inputs.insert(c.inputs.begin(), rng.uniform(none ? c.inputs[1].shape() : Shape{}, dtype));
  }
  return cases;
}

std::vector<AttrSpec> attr_specs() {
  return {{"ignore_index", AttrType::integer, int64_t{-100}, "target value that adds no loss"},
          {"label_smoothing", AttrType::real, 0.0, "mass spread uniformly over the classes"},
          {"reduction", AttrType::string, std::string("mean"),
           "'mean', 'sum', 'none' or 'valid' (divide by the non-ignored count)"}};
}

const bool registered = [] {
  auto& r = dispatch::Registry::instance();
  InputSpec target{"target", false};
  InputSpec weight{"weight", false, true};
  InputSpec element_weight{"element_weight", false, true};
  OpDef forward;
  forward.schema = {"cross_entropy",
                    {{"input"}, target, weight, element_weight},
                    attr_specs(),
                    {{"output"}},
                    "log_softmax over the class dim, then the (weighted, smoothed) negative "
                    "log-likelihood of the target class"};
  forward.validate = validate_forward;
  forward.backward = cross_entropy_grad;
  forward.cases = forward_cases;
  r.add_op(std::move(forward));

  OpDef backward;
  backward.schema = {"cross_entropy_backward",
                     {{"grad_output"}, {"input"}, target, weight, element_weight},
                     attr_specs(),
                     {{"grad_input"}},
                     "s * (a - softmax(input) * sum(a)): the gradient of cross_entropy"};
  backward.validate = validate_backward;
  backward.backward = cross_entropy_backward_grad;
  backward.cases = backward_cases;
  r.add_op(std::move(backward));
  return true;
}();

Attrs call_attrs(const CrossEntropyOptions& o) {
  return attrs_of(o.reduction, o.ignore_index, o.label_smoothing);
}

}  // namespace

Tensor cross_entropy(const Tensor& input, const Tensor& target,
                     const CrossEntropyOptions& options) {
  return dispatch::call1("cross_entropy", {input, target, options.weight, options.element_weight},
                         call_attrs(options));
}

Tensor cross_entropy_backward(const Tensor& grad_output, const Tensor& input, const Tensor& target,
                              const CrossEntropyOptions& options) {
  return dispatch::call1("cross_entropy_backward",
                         {grad_output, input, target, options.weight, options.element_weight},
                         call_attrs(options));
}

}  // namespace osprey::ops
