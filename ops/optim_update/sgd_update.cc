// Schema, validation and case list of sgd_update (math in optim_update.h), and its C++ function.
#include "framework/dispatch/registry.h"
#include "ops/common/op_helpers.h"
#include "ops/optim_update/optim_update.h"
#include "ops/optim_update/optim_update_util.h"

namespace osprey::ops {
namespace {

int roles_of(const Attrs& attrs) {
  return attrs.get_float("momentum") != 0.0 ? 3 : 2;
}

void validate(const KernelContext& ctx) {
  const Attrs& a = ctx.attrs();
  const auto n = static_cast<int64_t>(a.get_floats("lr").size());
  check_per_tensor_attr(ctx, "weight_decay", a.get_floats("weight_decay").size(), n);
  const auto new_buffer = a.get_ints("new_buffer");
  if (!new_buffer.empty()) check_per_tensor_attr(ctx, "new_buffer", new_buffer.size(), n);
  const double momentum = a.get_float("momentum");
  OSPREY_CHECK(momentum >= 0.0, "sgd_update: momentum {} must be >= 0", momentum);
  OSPREY_CHECK(!a.get_bool("nesterov") || (momentum > 0.0 && a.get_float("dampening") == 0.0),
               "sgd_update: nesterov needs momentum > 0 and dampening 0 (got momentum {}, "
               "dampening {})",
               momentum, a.get_float("dampening"));
  if (roles_of(a) == 3) {
    validate_update_groups(ctx, {"param", "grad", "momentum_buffer"}, n);
  } else {
    validate_update_groups(ctx, {"param", "grad"}, n);
  }
}

Attrs case_attrs(size_t n, double lr, double wd, double momentum, bool nesterov,
                 double dampening = 0.0, std::vector<int64_t> new_buffer = {}) {
  std::vector<double> lrs, wds;
  for (size_t i = 0; i < n; ++i) {
    lrs.push_back(lr * (1.0 + 0.5 * static_cast<double>(i)));  // per-parameter multipliers
    wds.push_back(i == n - 1 ? 0.0 : wd);                      // the last one without decay
  }
  return Attrs{{"lr", lrs},
               {"weight_decay", wds},
               {"momentum", momentum},
               {"dampening", dampening},
               {"nesterov", nesterov},
               {"new_buffer", std::move(new_buffer)}};
}

std::vector<OpCase> cases(DType dtype, uint64_t seed) {
  CaseRandom rng(seed);
  const std::vector<Shape> shapes{{3, 2, 2}, {5}, {1}, {0, 4}};
  auto args = [&](bool with_buffers) {
    auto out = case_tensors(rng, shapes, dtype, -1, 1);
    for (auto& g : case_tensors(rng, shapes, dtype, -0.5, 0.5)) out.push_back(g);
    if (with_buffers) {
      for (auto& b : case_tensors(rng, shapes, dtype, -0.2, 0.2)) out.push_back(b);
    }
    return out;
  };
  const size_t n = shapes.size();
  std::vector<OpCase> out{
      {"plain", args(false), case_attrs(n, 0.1, 0.0, 0.0, false)},
      {"weight-decay", args(false), case_attrs(n, 0.1, 1e-2, 0.0, false)},
      {"momentum", args(true), case_attrs(n, 0.1, 1e-4, 0.9, false)},
      {"momentum-first-step", args(true), case_attrs(n, 0.1, 1e-4, 0.9, false, 0.0, {1, 0, 1, 1})},
      {"nesterov", args(true), case_attrs(n, 0.05, 1e-3, 0.9, true)},
      {"dampening", args(true), case_attrs(n, 0.05, 0.0, 0.5, false, 0.3)},
      // More elements than one CUDA chunk.
      {"large",
       {rng.uniform({70000}, dtype), rng.uniform({70000}, dtype), rng.uniform({70000}, dtype)},
       case_attrs(1, 0.1, 1e-4, 0.9, true)},
  };
  // Layouts: channels-last throughout (updated as is), and a strided param and buffer with a
  // contiguous gradient (updated through copies).
  auto image = [&] {
    return rng.uniform({2, 3, 2, 2}, dtype).contiguous(MemoryFormat::channels_last);
  };
  out.push_back(
      {"channels-last", {image(), image(), image()}, case_attrs(1, 0.1, 1e-3, 0.9, false)});
  out.push_back({"non-contiguous",
                 {non_contiguous(rng.uniform({3, 4}, dtype)), rng.uniform({3, 4}, dtype),
                  non_contiguous(rng.uniform({3, 4}, dtype))},
                 case_attrs(1, 0.1, 1e-3, 0.9, true)});
  for (auto& c : out) c.skip_gradcheck = true;  // not differentiable: values only
  return out;
}

const bool registered = [] {
  OpDef def;
  def.schema = {"sgd_update",
                {InputSpec("tensors", false, false, true)},
                {{"lr", AttrType::reals, std::nullopt, "learning rate, one per parameter"},
                 {"weight_decay", AttrType::reals, std::nullopt,
                  "L2 decay added to the gradient, one per "
                  "parameter"},
                 {"momentum", AttrType::real, 0.0, "0: no momentum buffers are passed"},
                 {"dampening", AttrType::real, 0.0, "b = momentum * b + (1 - dampening) * d"},
                 {"nesterov", AttrType::boolean, false, "step along d + momentum * b"},
                 {"new_buffer", AttrType::integers, std::vector<int64_t>{},
                  "one per parameter (or empty): 1 where the buffer is new and becomes d"}},
                {},
                "in-place SGD step (PyTorch semantics) of params[n], grads[n] and, with momentum, "
                "momentum_buffers[n]"};
  def.validate = validate;
  def.save_inputs = false;
  def.cases = cases;
  dispatch::Registry::instance().add_op(std::move(def));
  return true;
}();

}  // namespace

void sgd_update(const std::vector<Tensor>& params, const std::vector<Tensor>& grads,
                const std::vector<Tensor>& momentum_buffers, const SgdUpdateOptions& options) {
  std::vector<Tensor> inputs = params;
  inputs.insert(inputs.end(), grads.begin(), grads.end());
  inputs.insert(inputs.end(), momentum_buffers.begin(), momentum_buffers.end());
  dispatch::call("sgd_update", std::move(inputs),
                 Attrs{{"lr", options.lr},
                       {"weight_decay", options.weight_decay},
                       {"momentum", options.momentum},
                       {"dampening", options.dampening},
                       {"nesterov", options.nesterov},
                       {"new_buffer", options.new_buffer}});
}

}  // namespace osprey::ops
