#include "framework/autograd/gradcheck.h"

#include <cmath>
#include <random>

#include "framework/autograd/engine.h"
#include "framework/autograd/grad_mode.h"
#include "framework/dispatch/registry.h"

namespace osprey::autograd {
namespace {

struct Check {
  const std::string& name;
  const GradcheckOptions& options;
  GradcheckResult result;

  void compare(const std::string& what, int64_t index, double analytical, double numerical) {
    ++result.checks;
    double err = std::abs(analytical - numerical);
    if (!std::isfinite(analytical) || !std::isfinite(numerical)) err = INFINITY;
    result.max_abs_error = std::max(result.max_abs_error, err);
    if (result.ok && !(err <= options.atol + options.rtol * std::abs(numerical))) {
      result.ok = false;
      result.message =
          fmt::format("{}: {} at flat index {}: analytical {:.10g} vs numerical {:.10g}", name,
                      what, index, analytical, numerical);
    }
  }
  void fail(std::string message) {
    if (result.ok) {
      result.ok = false;
      result.message = name + ": " + std::move(message);
    }
  }
};

std::vector<Tensor> leaves_of(const std::vector<Tensor>& inputs, const std::vector<bool>& diff) {
  std::vector<Tensor> leaves;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].defined()) {
      leaves.emplace_back();
      continue;
    }
    Tensor leaf = inputs[i].detach();
    if (diff[i]) leaf.set_requires_grad(true);
    leaves.push_back(leaf);
  }
  return leaves;
}

// Output tensors that carry gradients.
std::vector<int> differentiable_outputs(const std::vector<Tensor>& outputs) {
  std::vector<int> idx;
  for (size_t k = 0; k < outputs.size(); ++k) {
    if (outputs[k].defined() && outputs[k].requires_grad()) idx.push_back(static_cast<int>(k));
  }
  return idx;
}

// sum_k <outputs_k, weights_k> in double on the host.
double project(const std::vector<Tensor>& outputs, const std::vector<int>& which,
               const std::vector<std::vector<double>>& weights) {
  double total = 0;
  for (size_t j = 0; j < which.size(); ++j) {
    auto values = outputs[which[j]].to_vector<double>();
    for (size_t e = 0; e < values.size(); ++e) total += values[e] * weights[j][e];
  }
  return total;
}

}  // namespace

GradcheckResult gradcheck(const std::string& name, const Function& fn,
                          const std::vector<Tensor>& inputs, std::vector<bool> differentiable,
                          const GradcheckOptions& options) {
  Check check{name, options, {}};
  if (differentiable.empty()) {
    for (const auto& t : inputs) differentiable.push_back(t.defined() && is_floating(t.dtype()));
  }
  std::mt19937_64 rng(options.seed);
  std::normal_distribution<double> normal;

  // Forward once with gradients, with poisoned outputs.
  std::vector<Tensor> leaves = leaves_of(inputs, differentiable);
  std::vector<Tensor> outputs;
  {
    EnableGradGuard grad_on;
    dispatch::PoisonOutputsGuard poison(options.check_poison);
    outputs = fn(leaves);
  }
  std::vector<int> outs = differentiable_outputs(outputs);
  if (options.check_poison) {
    for (size_t k = 0; k < outputs.size(); ++k) {
      if (!outputs[k].defined() || !is_floating(outputs[k].dtype())) continue;
      auto values = outputs[k].to_vector<double>();
      for (size_t e = 0; e < values.size(); ++e) {
        if (std::isnan(values[e])) {
          check.fail(fmt::format("output {} element {} is NaN (not written by the kernel?)", k, e));
          return check.result;
        }
      }
    }
  }
  if (outs.empty()) {
    check.fail("no output requires grad");
    return check.result;
  }
  std::vector<Tensor> grad_inputs;  // the differentiable leaves
  std::vector<int> input_index;
  for (size_t i = 0; i < leaves.size(); ++i) {
    if (differentiable[i]) {
      grad_inputs.push_back(leaves[i]);
      input_index.push_back(static_cast<int>(i));
    }
  }

  int64_t total_out = 0;
  for (int k : outs) total_out += outputs[k].numel();
  bool full = total_out <= options.full_jacobian_max_outputs;
  int rounds = full ? static_cast<int>(total_out) : options.projections;

  // Numerical derivative of the projection along a perturbation of input i.
  auto evaluate = [&](const std::vector<Tensor>& perturbed,
                      const std::vector<std::vector<double>>& w) {
    NoGradGuard no_grad;
    return project(fn(perturbed), outs, w);
  };

  for (int round = 0; round < rounds && check.result.ok; ++round) {
    std::vector<std::vector<double>> weights;
    int64_t flat = 0;
    for (int k : outs) {
      std::vector<double> w(outputs[k].numel());
      for (auto& v : w) v = full ? (flat++ == round ? 1.0 : 0.0) : normal(rng);
      weights.push_back(std::move(w));
    }
    std::vector<Tensor> grad_outputs;
    for (size_t j = 0; j < outs.size(); ++j) {
      grad_outputs.push_back(Tensor::from_vector<double>(weights[j], outputs[outs[j]].shape(),
                                                         outputs[outs[j]].device())
                                 .to(outputs[outs[j]].dtype()));
    }
    std::vector<Tensor> selected;
    for (int k : outs) selected.push_back(outputs[k]);
    std::vector<Tensor> analytical = grad(selected, grad_outputs, grad_inputs, true);
    if (options.check_repeatability && round == 0) {
      std::vector<Tensor> again = grad(selected, grad_outputs, grad_inputs, true);
      for (size_t i = 0; i < analytical.size(); ++i) {
        auto a = analytical[i].to_vector<double>(), b = again[i].to_vector<double>();
        for (size_t e = 0; e < a.size(); ++e) {
          if (a[e] != b[e] && !(std::isnan(a[e]) && std::isnan(b[e]))) {
            check.fail(fmt::format("two backward runs differ for input {} at {}: {} vs {}",
                                   input_index[i], e, a[e], b[e]));
            return check.result;
          }
        }
      }
    }
    for (size_t i = 0; i < grad_inputs.size() && check.result.ok; ++i) {
      int in = input_index[i];
      std::vector<double> a = analytical[i].to_vector<double>();
      Tensor base = inputs[in].detach().to(DType::f64).contiguous().clone();
      int64_t n = base.numel();
      std::vector<Tensor> perturbed = inputs;
      for (auto& t : perturbed) t = t.defined() ? t.detach() : t;
      std::string what =
          fmt::format("input {}{}", in, full ? fmt::format(" (output element {})", round) : "");
      if (n <= options.per_element_max_inputs) {
        for (int64_t e = 0; e < n && check.result.ok; ++e) {
          Tensor plus = base.clone(), minus = base.clone();
          plus.data<double>()[e] += options.eps;
          minus.data<double>()[e] -= options.eps;
          perturbed[in] = plus.to(inputs[in].dtype());
          double f_plus = evaluate(perturbed, weights);
          perturbed[in] = minus.to(inputs[in].dtype());
          double f_minus = evaluate(perturbed, weights);
          check.compare(what, e, a[e], (f_plus - f_minus) / (2 * options.eps));
        }
      } else {
        for (int d = 0; d < options.directions && check.result.ok; ++d) {
          std::vector<double> v(n);
          double dot = 0;
          for (int64_t e = 0; e < n; ++e) {
            v[e] = normal(rng);
            dot += v[e] * a[e];
          }
          Tensor plus = base.clone(), minus = base.clone();
          for (int64_t e = 0; e < n; ++e) {
            plus.data<double>()[e] += options.eps * v[e];
            minus.data<double>()[e] -= options.eps * v[e];
          }
          perturbed[in] = plus.to(inputs[in].dtype());
          double f_plus = evaluate(perturbed, weights);
          perturbed[in] = minus.to(inputs[in].dtype());
          double f_minus = evaluate(perturbed, weights);
          check.compare(what + fmt::format(" along random direction {}", d), -1, dot,
                        (f_plus - f_minus) / (2 * options.eps));
        }
      }
    }
    if (round == 0 && options.check_accumulation && check.result.ok) {
      // .grad accumulation: pre-fill with 0.5 and expect 0.5 + analytical.
      for (auto& leaf : grad_inputs) {
        Tensor prefill = Tensor::empty(leaf.shape(), leaf.dtype(), leaf.device());
        prefill.fill_(0.5);
        leaf.set_grad(prefill);
      }
      backward(selected, grad_outputs, true);
      for (size_t i = 0; i < grad_inputs.size(); ++i) {
        auto got = grad_inputs[i].grad().to_vector<double>();
        auto a = analytical[i].to_vector<double>();
        for (size_t e = 0; e < got.size(); ++e) {
          if (std::abs(got[e] - (0.5 + a[e])) > 1e-9 * (1 + std::abs(a[e]))) {
            check.fail(
                fmt::format("backward did not accumulate onto .grad of input {} at {}: "
                            "{} instead of 0.5 + {}",
                            input_index[i], e, got[e], a[e]));
            break;
          }
        }
        grad_inputs[i].zero_grad();
      }
    }
  }
  return check.result;
}

namespace {
class ReferenceOverride {
 public:
  explicit ReferenceOverride(const std::string& op) : op_(op) {
    auto& r = dispatch::Registry::instance();
    previous_ = r.override_for(op, DeviceType::cpu);
    r.set_override(op, DeviceType::cpu, "reference");
  }
  ~ReferenceOverride() {
    auto& r = dispatch::Registry::instance();
    if (previous_) {
      r.set_override(op_, DeviceType::cpu, *previous_);
    } else {
      r.clear_override(op_, DeviceType::cpu);
    }
  }

 private:
  std::string op_;
  std::optional<std::string> previous_;
};
}  // namespace

GradcheckResult gradcheck_op(const std::string& op, const dispatch::OpCase& op_case,
                             const GradcheckOptions& options) {
  const auto& def = dispatch::Registry::instance().op(op);
  std::vector<Tensor> inputs;
  std::vector<bool> diff;
  for (size_t i = 0; i < op_case.inputs.size(); ++i) {
    const Tensor& t = op_case.inputs[i];
    bool floating = t.defined() && is_floating(t.dtype());
    inputs.push_back(floating ? t.to(DType::f64) : t);
    diff.push_back(floating && def.schema.input_spec(i).differentiable);
  }
  ReferenceOverride force_reference(op);
  dispatch::Attrs attrs = op_case.attrs;
  return gradcheck(
      fmt::format("{} [{}]", op, op_case.name),
      [&](const std::vector<Tensor>& xs) { return dispatch::call(op, xs, attrs); }, inputs, diff,
      options);
}

}  // namespace osprey::autograd
