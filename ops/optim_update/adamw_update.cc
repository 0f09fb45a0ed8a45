// Schema, validation and case list of adamw_update (math in optim_update.h), and its C++ function.
#include "framework/dispatch/registry.h"
#include "ops/common/op_helpers.h"
#include "ops/optim_update/optim_update.h"
#include "ops/optim_update/optim_update_util.h"

namespace osprey::ops {
namespace {

void validate(const KernelContext& ctx) {
  const Attrs& a = ctx.attrs();
  const auto n = static_cast<int64_t>(a.get_floats("lr").size());
  check_per_tensor_attr(ctx, "weight_decay", a.get_floats("weight_decay").size(), n);
  const auto steps = a.get_ints("step");
  check_per_tensor_attr(ctx, "step", steps.size(), n);
  for (size_t i = 0; i < steps.size(); ++i) {
    OSPREY_CHECK(steps[i] >= 1, "adamw_update: step #{} is {}; steps count from 1", i, steps[i]);
  }
  for (const char* beta : {"beta1", "beta2"}) {
    const double b = a.get_float(beta);
    OSPREY_CHECK(b >= 0.0 && b < 1.0, "adamw_update: {} = {} must lie in [0, 1)", beta, b);
  }
  OSPREY_CHECK(a.get_float("eps") >= 0.0, "adamw_update: eps {} must be >= 0", a.get_float("eps"));
  validate_update_groups(ctx, {"param", "grad", "exp_avg", "exp_avg_sq"}, n);
}

std::vector<OpCase> cases(DType dtype, uint64_t seed) {
  CaseRandom rng(seed);
  const std::vector<Shape> shapes{{2, 3, 2}, {4}, {1}, {0}};
  auto args = [&](const std::vector<Shape>& s) {
    auto out = case_tensors(rng, s, dtype, -1, 1);
    for (auto& g : case_tensors(rng, s, dtype, -0.5, 0.5)) out.push_back(g);
    for (auto& m : case_tensors(rng, s, dtype, -0.1, 0.1)) out.push_back(m);
    for (auto& v : case_tensors(rng, s, dtype, 0.0, 0.05)) out.push_back(v);
    return out;
  };
  auto attrs = [](size_t n, std::vector<int64_t> steps, double wd, double beta1 = 0.9,
                  double beta2 = 0.999, double eps = 1e-8) {
    std::vector<double> lrs, wds;
    for (size_t i = 0; i < n; ++i) {
      lrs.push_back(1e-3 * (1.0 + static_cast<double>(i)));
      wds.push_back(i == 0 ? 0.0 : wd);
    }
    return Attrs{{"lr", lrs},      {"weight_decay", wds}, {"step", std::move(steps)},
                 {"beta1", beta1}, {"beta2", beta2},      {"eps", eps}};
  };
  const size_t n = shapes.size();
  std::vector<OpCase> out{
      {"first-step", args(shapes), attrs(n, {1, 1, 1, 1}, 1e-2)},
      {"mixed-steps", args(shapes), attrs(n, {5, 2, 100, 1}, 1e-2)},
      {"betas-eps", args(shapes), attrs(n, {3, 3, 3, 3}, 0.1, 0.5, 0.9, 1e-3)},
      // More elements than one CUDA chunk.
      {"large", args({{70000}}), attrs(1, {7}, 1e-2)},
  };
  // Layouts: channels-last throughout (updated as is), and strided state (updated through copies).
  auto cl = args({{2, 3, 2, 2}});
  for (auto& t : cl) t = t.contiguous(MemoryFormat::channels_last);
  out.push_back({"channels-last", cl, attrs(1, {2}, 1e-2)});
  auto strided = args({{3, 4}});
  strided[2] = non_contiguous(strided[2]);
  strided[3] = non_contiguous(strided[3]);
  out.push_back({"non-contiguous", strided, attrs(1, {4}, 1e-2)});
  for (auto& c : out) c.skip_gradcheck = true;  // not differentiable: values only
  return out;
}

const bool registered = [] {
  OpDef def;
  def.schema = {"adamw_update",
                {InputSpec("tensors", false, false, true)},
                {{"lr", AttrType::reals, std::nullopt, "learning rate, one per parameter"},
                 {"weight_decay", AttrType::reals, std::nullopt,
                  "decoupled decay p *= 1 - lr * weight_decay, one per parameter"},
                 {"step", AttrType::integers, std::nullopt,
                  "one per parameter: its step count including this update (bias correction)"},
                 {"beta1", AttrType::real, 0.9, "decay of the first moment"},
                 {"beta2", AttrType::real, 0.999, "decay of the second moment"},
                 {"eps", AttrType::real, 1e-8, "added to the bias-corrected sqrt(v)"}},
                {},
                "in-place AdamW step (PyTorch semantics) of params[n], grads[n], exp_avgs[n], "
                "exp_avg_sqs[n]"};
  def.validate = validate;
  def.save_inputs = false;
  def.cases = cases;
  dispatch::Registry::instance().add_op(std::move(def));
  return true;
}();

}  // namespace

void adamw_update(const std::vector<Tensor>& params, const std::vector<Tensor>& grads,
                  const std::vector<Tensor>& exp_avgs, const std::vector<Tensor>& exp_avg_sqs,
                  const AdamWUpdateOptions& options) {
  std::vector<Tensor> inputs = params;
  for (const auto& group : {grads, exp_avgs, exp_avg_sqs}) {
    inputs.insert(inputs.end(), group.begin(), group.end());
  }
  dispatch::call("adamw_update", std::move(inputs),
                 Attrs{{"lr", options.lr},
                       {"weight_decay", options.weight_decay},
                       {"step", options.step},
                       {"beta1", options.beta1},
                       {"beta2", options.beta2},
                       {"eps", options.eps}});
}

}  // namespace osprey::ops
