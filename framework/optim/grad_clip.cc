// clip_grad_norm and first_nonfinite_grad (see grad_clip.h). Device gradients go through the
// registered ops by name (mul, affine, sum, cat), so this file needs no kernel of its own.
#include "framework/optim/grad_clip.h"

#include <algorithm>
#include <cmath>

#include "framework/autograd/grad_mode.h"
#include "framework/dispatch/registry.h"

namespace osprey::optim {
namespace {

// sum(g^2) of a CPU gradient, in double.
double cpu_squared_norm(const Tensor& g) {
  const Tensor c = g.is_contiguous() ? g : g.contiguous();
  return OSPREY_DISPATCH_FLOAT(c.dtype(), "clip_grad_norm", [&]<typename T>() {
    const T* data = c.data<T>();
    double sum = 0.0;
    for (int64_t k = 0; k < c.numel(); ++k) sum += static_cast<double>(data[k]) * data[k];
    return sum;
  });
}

bool cpu_all_finite(const Tensor& g) {
  const Tensor c = g.is_contiguous() ? g : g.contiguous();
  return OSPREY_DISPATCH_FLOAT(c.dtype(), "first_nonfinite_grad", [&]<typename T>() {
    const T* data = c.data<T>();
    for (int64_t k = 0; k < c.numel(); ++k) {
      if (!std::isfinite(data[k])) return false;
    }
    return true;
  });
}

// Per gradient, sum(g * g) (squares) or sum(0 * g) (0 when finite, NaN otherwise), computed on
// the gradient's device and fetched with one copy per device rather than one sync per gradient.
// CPU gradients and undefined ones get 0 (the callers handle them on the host).
std::vector<double> device_sums(const NamedParameters& params, bool squares) {
  std::vector<double> out(params.size(), 0.0);
  std::vector<Device> devices;
  for (const auto& [name, p] : params) {
    const Tensor g = p.grad();
    if (g.defined() && !g.device().is_cpu() &&
        std::find(devices.begin(), devices.end(), g.device()) == devices.end()) {
      devices.push_back(g.device());
    }
  }
  for (const Device& device : devices) {
    std::vector<Tensor> sums;
    std::vector<size_t> index;
    for (size_t i = 0; i < params.size(); ++i) {
      const Tensor g = params[i].second.grad();
      if (!g.defined() || g.device() != device) continue;
      const Tensor terms = squares ? dispatch::call1("mul", {g, g})
                                   : dispatch::call1("affine", {g}, {{"scale", 0.0}});
      sums.push_back(dispatch::call1("sum", {terms}).reshape({1}).to(DType::f64));
      index.push_back(i);
    }
    const auto values = dispatch::call1("cat", sums, {{"dim", int64_t{0}}}).to_vector<double>();
    for (size_t k = 0; k < index.size(); ++k) out[index[k]] = values[k];
  }
  return out;
}

}  // namespace

double clip_grad_norm(const NamedParameters& params, double max_norm) {
  OSPREY_CHECK(max_norm > 0.0, "clip_grad_norm: max_norm {} must be > 0", max_norm);
  autograd::NoGradGuard no_grad;
  double total = 0.0;
  const std::vector<double> on_devices = device_sums(params, true);
  for (size_t i = 0; i < params.size(); ++i) {
    const Tensor g = params[i].second.grad();
    if (g.defined()) total += g.device().is_cpu() ? cpu_squared_norm(g) : on_devices[i];
  }
  const double norm = std::sqrt(total);
  const double coef = max_norm / (norm + 1e-6);
  if (std::isfinite(norm) && coef < 1.0) {
    for (const auto& [name, p] : params) {
      const Tensor g = p.grad();
      if (g.defined()) dispatch::call_out("affine", g, {g}, dispatch::Attrs{{"scale", coef}});
    }
  }
  return norm;
}

std::optional<std::string> first_nonfinite_grad(const NamedParameters& params) {
  autograd::NoGradGuard no_grad;
  const std::vector<double> on_devices = device_sums(params, false);
  for (size_t i = 0; i < params.size(); ++i) {
    const Tensor g = params[i].second.grad();
    if (!g.defined()) continue;
    if (g.device().is_cpu() ? !cpu_all_finite(g) : !std::isfinite(on_devices[i])) {
      return params[i].first;
    }
  }
  return std::nullopt;
}

}  // namespace osprey::optim
