// Schemas, argument checks, derivative and cases of box_encode, box_decode and
// box_decode_backward (see box_coder.h).
#include "ops/box_coder/box_coder.h"

#include "framework/dispatch/registry.h"
#include "ops/common/box_cases.h"
#include "ops/common/box_checks.h"

namespace osprey::ops {
namespace {

const std::vector<double> kUnitWeights{1, 1, 1, 1};
constexpr double kDefaultClip = 4.135166556742356;  // log(1000 / 16)

void check_weights(const KernelContext& ctx) {
  const std::vector<double> w = ctx.attrs().get_floats("weights");
  const std::string& op = ctx.op().schema.name;
  OSPREY_CHECK(w.size() == 4, "{}: 'weights' must be (wx, wy, ww, wh), got {} values", op,
               w.size());
  for (double v : w) OSPREY_CHECK(v > 0.0, "{}: 'weights' must be positive, got {}", op, v);
}

void validate_encode(const KernelContext& ctx) {
  check_boxes(ctx, 0);
  check_boxes(ctx, 1);
  check_same_dtype(ctx);
  check_weights(ctx);
  OSPREY_CHECK_KIND(shape, ctx.input(1).size(0) == ctx.input(0).size(0),
                    "box_encode: 'boxes' {} must have one box per 'reference_boxes' {}",
                    ctx.input(1).describe(), ctx.input(0).describe());
}

void check_deltas(const KernelContext& ctx, int i) {
  const Tensor& d = ctx.input(i);
  const Tensor& ref = ctx.input(0);
  const std::string& op = ctx.op().schema.name;
  const std::string& name = ctx.op().schema.input_spec(i).name;
  OSPREY_CHECK_KIND(dtype, d.dtype() == ref.dtype(), "{}: '{}' {} must have the dtype of {}", op,
                    name, d.describe(), ref.describe());
  OSPREY_CHECK_KIND(shape, d.dim() == 2 && d.size(0) == ref.size(0) && d.size(1) % 4 == 0,
                    "{}: '{}' must have shape [N, 4K] with N = {} (the reference boxes), got {}",
                    op, name, ref.size(0), d.describe());
}

void validate_decode(const KernelContext& ctx) {
  check_boxes(ctx, 0);
  check_deltas(ctx, 1);
  check_weights(ctx);
  const Tensor& d = ctx.input(1);
  check_no_nan(ctx, 1);
  if (ctx.num_inputs() > 2) {  // box_decode_backward(reference_boxes, deltas, grad)
    OSPREY_CHECK_KIND(shape, ctx.input(2).shape() == d.shape(),
                      "box_decode_backward: 'grad' {} must have the shape of 'deltas' {}",
                      ctx.input(2).describe(), d.describe());
  }
}

std::vector<Tensor> decode_backward(const BackwardContext& ctx) {
  if (!ctx.needs_grad(1)) return {Tensor(), Tensor()};
  Tensor grad = dispatch::call1("box_decode_backward",
                                {ctx.input(0), ctx.input(1), ctx.grad_output(0)}, ctx.attrs);
  return {Tensor(), grad};
}

// Deltas in (-1, 1): away from the clip kink; scaled by the weights like real targets.
Tensor random_deltas(CaseRandom& rng, int64_t n, int64_t k, DType dtype) {
  return rng.uniform({n, 4 * k}, dtype, -1.0, 1.0);
}

Attrs coder_attrs(std::vector<double> weights, bool plus_one) {
  return {{"weights", std::move(weights)}, {"legacy_plus_one", plus_one}};
}

std::vector<OpCase> encode_cases(DType dtype, uint64_t seed) {
  CaseRandom rng(seed);
  auto boxes = [&](int64_t n) { return random_boxes(rng, n, dtype, 50.0, 2.0, 30.0); };
  return {
      {"unit-weights", {boxes(12), boxes(12)}, coder_attrs(kUnitWeights, false)},
      {"rcnn-weights", {boxes(12), boxes(12)}, coder_attrs({10, 10, 5, 5}, false)},
      {"legacy-plus-one",
       {random_boxes(rng, 10, dtype, 50, 1, 20, true),
        random_boxes(rng, 10, dtype, 50, 1, 20, true)},
       coder_attrs({10, 10, 5, 5}, true)},
      {"empty", {boxes(0), boxes(0)}, coder_attrs(kUnitWeights, false)},
      {"non-contiguous",
       {non_contiguous(boxes(8)), non_contiguous(boxes(8))},
       coder_attrs(kUnitWeights, false)},
  };
}

std::vector<OpCase> decode_cases(DType dtype, uint64_t seed) {
  CaseRandom rng(seed);
  auto boxes = [&](int64_t n) { return random_boxes(rng, n, dtype, 50.0, 2.0, 30.0); };
  Tensor big = Tensor::from_vector<double>({0, 0, 0, 9, 0, 0, -9, 0}, {1, 8}).to(dtype);
  Attrs clipped = coder_attrs(kUnitWeights, false);
  clipped.set("clip", 2.0);
  return {
      {"unit-weights",
       {boxes(10), random_deltas(rng, 10, 1, dtype)},
       coder_attrs(kUnitWeights, false)},
      {"rcnn-weights",
       {boxes(10), random_deltas(rng, 10, 1, dtype)},
       coder_attrs({10, 10, 5, 5}, false)},
      {"per-class",
       {boxes(6), random_deltas(rng, 6, 3, dtype)},
       coder_attrs({10, 10, 5, 5}, false)},
      {"legacy-plus-one",
       {random_boxes(rng, 8, dtype, 50, 1, 20, true), random_deltas(rng, 8, 1, dtype)},
       coder_attrs({10, 10, 5, 5}, true)},
      {"clipped", {boxes(1), big}, clipped},
      {"empty", {boxes(0), random_deltas(rng, 0, 1, dtype)}, coder_attrs(kUnitWeights, false)},
      {"non-contiguous",
       {non_contiguous(boxes(6)), non_contiguous(random_deltas(rng, 6, 1, dtype))},
       coder_attrs(kUnitWeights, false)},
  };
}

std::vector<OpCase> decode_backward_cases(DType dtype, uint64_t seed) {
  CaseRandom rng(seed + 1);
  std::vector<OpCase> cases;
  for (auto& c : decode_cases(dtype, seed)) {
    c.inputs.push_back(rng.uniform(c.inputs[1].shape(), dtype));
    c.skip_gradcheck = true;
    cases.push_back(std::move(c));
  }
  return cases;
}

std::vector<AttrSpec> coder_attr_specs(bool with_clip) {
  std::vector<AttrSpec> specs{
      {"weights", AttrType::reals, kUnitWeights, "(wx, wy, ww, wh), e.g. (10, 10, 5, 5)"}};
  if (with_clip) {
    specs.push_back({"clip", AttrType::real, kDefaultClip, "bound on dw / ww and dh / wh"});
  }
  specs.push_back({"legacy_plus_one", AttrType::boolean, false,
                   "+1 pixel convention (width = x2 - x1 + 1) of py-faster-rcnn / SNIPER"});
  return specs;
}

const bool registered = [] {
  auto& r = dispatch::Registry::instance();
  OpDef encode;
  encode.schema = {"box_encode",
                   {{"reference_boxes", false}, {"boxes", false}},
                   coder_attr_specs(false),
                   {{"deltas", false}},
                   "deltas (dx, dy, dw, dh) that move each reference box onto its box"};
  encode.validate = validate_encode;
  encode.save_inputs = false;
  encode.cases = encode_cases;
  r.add_op(std::move(encode));

  OpDef decode;
  decode.schema = {"box_decode",
                   {{"reference_boxes", false}, {"deltas"}},
                   coder_attr_specs(true),
                   {{"output"}},
                   "boxes that the deltas (groups of 4 per row) make of each reference box"};
  decode.validate = validate_decode;
  decode.backward = decode_backward;
  decode.cases = decode_cases;
  r.add_op(std::move(decode));

  OpDef backward;
  backward.schema = {"box_decode_backward",
                     {{"reference_boxes", false}, {"deltas", false}, {"grad", false}},
                     coder_attr_specs(true),
                     {{"grad_deltas", false}},
                     "gradient of box_decode with respect to deltas"};
  backward.validate = validate_decode;
  backward.save_inputs = false;
  backward.cases = decode_backward_cases;
  r.add_op(std::move(backward));
  return true;
}();

Attrs options_attrs(const BoxCoderOptions& o, bool with_clip) {
  Attrs a{{"weights", std::vector<double>(o.weights.begin(), o.weights.end())},
          {"legacy_plus_one", o.legacy_plus_one}};
  if (with_clip) a.set("clip", o.clip);
  return a;
}

}  // namespace

Tensor box_encode(const Tensor& reference_boxes, const Tensor& boxes, const BoxCoderOptions& o) {
  return dispatch::call1("box_encode", {reference_boxes, boxes}, options_attrs(o, false));
}

Tensor box_decode(const Tensor& reference_boxes, const Tensor& deltas, const BoxCoderOptions& o) {
  return dispatch::call1("box_decode", {reference_boxes, deltas}, options_attrs(o, true));
}

}  // namespace osprey::ops
