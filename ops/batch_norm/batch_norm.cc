// Schemas, shape rules and derivatives of batch_norm and batch_norm_backward (math in
// batch_norm.h), and the frozen_batch_norm helper.
#include "ops/batch_norm/batch_norm.h"

#include "framework/dispatch/registry.h"
#include "ops/activation/activation.h"
#include "ops/common/case_helpers.h"
#include "ops/common/op_helpers.h"
#include "ops/elementwise/elementwise.h"

namespace osprey::ops {
namespace {

// Checks that an optional per-channel tensor is 1-d of C elements.
void check_per_channel(const KernelContext& ctx, int index, int64_t channels) {
  const Tensor& t = ctx.input(index);
  if (!t.defined()) return;
  const char* op = ctx.op().schema.name.c_str();
  OSPREY_CHECK_KIND(shape, t.dim() == 1 && t.size(0) == channels,
                    "{}: {} {} does not match the {} channels of input {} (expected [{}])", op,
                    ctx.op().schema.inputs[index].name, t.describe(), channels,
                    ctx.input(ctx.op().schema.input_index("input")).describe(), channels);
}

void validate_forward(const KernelContext& ctx) {
  check_same_dtype(ctx);
  check_floating(ctx, 0);
  const Tensor& x = ctx.input(0);
  OSPREY_CHECK_KIND(shape, x.dim() >= 2, "batch_norm: input must be N x C x (spatial dims), got {}",
                    x.describe());
  const int64_t channels = x.size(1);
  for (int i = 1; i <= 4; ++i) check_per_channel(ctx, i, channels);
  const bool training = ctx.attrs().get_bool("training");
  OSPREY_CHECK(ctx.input(3).defined() == ctx.input(4).defined(),
               "batch_norm: running_mean and running_var must be given together");
  if (training) {
    OSPREY_CHECK(channels == 0 || x.numel() / channels != 1,
                 "batch_norm: expected more than 1 value per channel when training, got input {}",
                 x.describe());
  } else {
    OSPREY_CHECK(ctx.input(3).defined(),
                 "batch_norm: eval mode (training=false) needs running_mean and running_var");
  }
}

void validate_backward(const KernelContext& ctx) {
  check_same_dtype(ctx);
  check_floating(ctx, 0);
  const Tensor& g = ctx.input(0);
  const Tensor& x = ctx.input(1);
  OSPREY_CHECK_KIND(shape, x.dim() >= 2 && g.shape() == x.shape(),
                    "batch_norm_backward: grad_output {} and input {} must have the same "
                    "N x C x ... shape",
                    g.describe(), x.describe());
  for (int i = 2; i <= 4; ++i) check_per_channel(ctx, i, x.size(1));
  OSPREY_CHECK(ctx.input(3).defined() && ctx.input(4).defined(),
               "batch_norm_backward: save_mean and save_invstd are required");
}

std::vector<Tensor> batch_norm_grad(const BackwardContext& ctx) {
  const bool training = ctx.attrs.get_bool("training");
  // Fused relu: the gradient passes where the (relu'd) output is positive.
  const Tensor grad = ctx.attrs.get_bool("relu")
                          ? threshold_backward(ctx.grad_output(0), ctx.output(0), 0.0)
                          : ctx.grad_output(0);
  auto [gi, gw, gb] = batch_norm_backward(grad, ctx.input(0), ctx.input(1), ctx.output(1),
                                          ctx.output(2), training, ctx.attrs.get_float("eps"));
  std::vector<Tensor> grads(5);
  if (ctx.needs_grad(0)) grads[0] = gi;
  if (ctx.needs_grad(1)) grads[1] = gw;
  if (ctx.needs_grad(2)) grads[2] = gb;
  return grads;
}

Attrs mode(bool training, double momentum = 0.1, bool relu = false) {
  return Attrs{{"training", training}, {"momentum", momentum}, {"eps", 1e-5}, {"relu", relu}};
}

Attrs grad_mode(bool training) {
  return Attrs{{"training", training}, {"eps", 1e-5}};
}

std::vector<OpCase> forward_cases(DType dtype, uint64_t seed) {
  CaseRandom rng(seed);
  auto stats = [&](int64_t c) {
    return std::vector<Tensor>{rng.uniform({c}, dtype, -0.5, 0.5), rng.uniform({c}, dtype, 0.5, 2)};
  };
  auto full = [&](Tensor x) {
    const int64_t c = x.size(1);
    auto s = stats(c);
    return std::vector<Tensor>{x, rng.uniform({c}, dtype, 0.5, 1.5), rng.uniform({c}, dtype), s[0],
                               s[1]};
  };
  auto bare = [](Tensor x) { return std::vector<Tensor>{x, {}, {}, {}, {}}; };
  auto eval_bare = [&](Tensor x) {
    auto s = stats(x.size(1));
    return std::vector<Tensor>{x, {}, {}, s[0], s[1]};
  };
  auto image = [&](const Shape& s) { return rng.uniform(s, dtype, -2, 2); };
  return {
      {"train-4d", full(image({2, 3, 2, 2})), mode(true)},
      {"train-2d", full(image({4, 3})), mode(true)},
      {"train-no-affine-no-stats", bare(image({3, 2, 2})), mode(true)},
      {"train-momentum", full(image({2, 2, 3})), mode(true, 0.5)},
      {"train-channels-last", full(image({2, 3, 2, 2}).contiguous(MemoryFormat::channels_last)),
       mode(true)},
      {"train-non-contiguous", full(non_contiguous(image({2, 3, 4}))), mode(true)},
      {"train-one-channel", full(image({3, 1, 2})), mode(true)},
      {"train-size-1-batch", full(image({1, 2, 3})), mode(true)},
      {"train-empty-batch", full(image({0, 3, 2})), mode(true)},
      {"zero-channels", full(image({2, 0, 3})), mode(true)},
      {"eval-4d", full(image({2, 3, 2, 2})), mode(false)},
      {"eval-no-affine", eval_bare(image({2, 3, 2})), mode(false)},
      {"eval-channels-last", full(image({2, 2, 2, 3}).contiguous(MemoryFormat::channels_last)),
       mode(false)},
      {"eval-one-value", full(image({1, 2})), mode(false)},
      {"train-large", full(image({16, 8, 12, 12})), mode(true), true},
      {"train-relu", full(image({2, 3, 2, 2})), mode(true, 0.1, true)},
      {"train-relu-channels-last",
       full(image({2, 3, 2, 2}).contiguous(MemoryFormat::channels_last)), mode(true, 0.1, true)},
      {"train-relu-no-affine", bare(image({3, 2, 5})), mode(true, 0.1, true)},
      {"eval-relu", full(image({2, 3, 2, 2})), mode(false, 0.1, true)},
      {"train-relu-large-channels-last",
       full(image({16, 8, 12, 12}).contiguous(MemoryFormat::channels_last)), mode(true, 0.1, true),
       true},
  };
}

std::vector<OpCase> backward_cases(DType dtype, uint64_t seed) {
  CaseRandom rng(seed);
  auto args = [&](Tensor x, bool affine) {
    const int64_t c = x.size(1);
    return std::vector<Tensor>{rng.uniform(x.shape(), dtype), x,
                               affine ? rng.uniform({c}, dtype, 0.5, 1.5) : Tensor(),
                               rng.uniform({c}, dtype, -0.5, 0.5), rng.uniform({c}, dtype, 0.5, 2)};
  };
  auto image = [&](const Shape& s) { return rng.uniform(s, dtype, -2, 2); };
  return {
      {"train-4d", args(image({2, 3, 2, 2}), true), grad_mode(true)},
      {"train-no-weight", args(image({3, 2, 2}), false), grad_mode(true)},
      {"train-channels-last",
       args(image({2, 3, 2, 2}).contiguous(MemoryFormat::channels_last), true), grad_mode(true)},
      {"train-empty-batch", args(image({0, 2, 2}), true), grad_mode(true)},
      {"eval-4d", args(image({2, 3, 2, 2}), true), grad_mode(false)},
      {"eval-non-contiguous", args(non_contiguous(image({2, 3, 4})), true), grad_mode(false)},
  };
}

std::vector<AttrSpec> attrs(bool with_momentum) {
  std::vector<AttrSpec> out{
      {"training", AttrType::boolean, true, "batch statistics (else the running stats)"}};
  if (with_momentum) {
    out.push_back({"momentum", AttrType::real, 0.1,
                   "running = (1 - momentum) * running + momentum * batch stat"});
  }
  out.push_back({"eps", AttrType::real, 1e-5, "added to the variance"});
  if (with_momentum) {
    out.push_back({"relu", AttrType::boolean, false, "output relu(batch_norm(x)) (fused)"});
  }
  return out;
}

const bool registered = [] {
  auto& r = dispatch::Registry::instance();
  OpDef fwd;
  fwd.schema = {"batch_norm",
                {{"input"},
                 InputSpec("weight", true, true),
                 InputSpec("bias", true, true),
                 InputSpec("running_mean", false, true),
                 InputSpec("running_var", false, true)},
                attrs(true),
                {{"output"}, OutputSpec("save_mean", false), OutputSpec("save_invstd", false)},
                "per-channel (dim 1) normalisation by batch or running statistics, then affine"};
  fwd.validate = validate_forward;
  fwd.backward = batch_norm_grad;
  fwd.save_outputs = true;
  fwd.unsaved_inputs = {3, 4};  // updated in place by later calls; the backward never reads them
  fwd.cases = forward_cases;
  r.add_op(std::move(fwd));

  OpDef bwd;
  bwd.schema = {"batch_norm_backward",
                {{"grad_output"},
                 {"input"},
                 InputSpec("weight", true, true),
                 InputSpec("save_mean", false),
                 InputSpec("save_invstd", false)},
                attrs(false),
                {{"grad_input"}, {"grad_weight"}, {"grad_bias"}},
                "gradients of batch_norm given its saved per-channel mean and invstd"};
  bwd.validate = validate_backward;
  bwd.cases = backward_cases;
  r.add_op(std::move(bwd));
  return true;
}();

}  // namespace

BatchNormResult batch_norm(const Tensor& input, const Tensor& weight, const Tensor& bias,
                           const Tensor& running_mean, const Tensor& running_var, bool training,
                           double momentum, double eps, bool relu) {
  auto out = dispatch::call(
      "batch_norm", {input, weight, bias, running_mean, running_var},
      Attrs{{"training", training}, {"momentum", momentum}, {"eps", eps}, {"relu", relu}});
  return {out[0], out[1], out[2]};
}

std::tuple<Tensor, Tensor, Tensor> batch_norm_backward(const Tensor& grad_output,
                                                       const Tensor& input, const Tensor& weight,
                                                       const Tensor& save_mean,
                                                       const Tensor& save_invstd, bool training,
                                                       double eps) {
  auto out =
      dispatch::call("batch_norm_backward", {grad_output, input, weight, save_mean, save_invstd},
                     Attrs{{"training", training}, {"eps", eps}});
  return {out[0], out[1], out[2]};
}

Tensor frozen_batch_norm(const Tensor& input, const Tensor& scale, const Tensor& shift) {
  OSPREY_CHECK_KIND(shape, input.dim() >= 2, "frozen_batch_norm: input must be N x C x ..., got {}",
                    input.describe());
  const int64_t channels = input.size(1);
  for (const Tensor* t : {&scale, &shift}) {
    OSPREY_CHECK_KIND(shape, t->dim() == 1 && t->size(0) == channels,
                      "frozen_batch_norm: {} {} does not match the {} channels of input {}",
                      t == &scale ? "scale" : "shift", t->describe(), channels, input.describe());
  }
  // [C] -> [1, C, 1, ...] so it broadcasts over the batch and every spatial dim.
  Shape per_channel(static_cast<size_t>(input.dim()), 1);
  per_channel[1] = channels;
  return add(mul(input, scale.reshape(per_channel)), shift.reshape(per_channel));
}

}  // namespace osprey::ops
