// clip_grad_norm and first_nonfinite_grad (see grad_clip.h). Device gradients go through the
// registered ops by name (mul, sum, affine), so this file needs no kernel of its own.
#include "framework/optim/grad_clip.h"

#include <cmath>

#include "framework/autograd/grad_mode.h"
#include "framework/dispatch/registry.h"

namespace osprey::optim {
namespace {

// sum(g^2) in double.
double squared_norm(const Tensor& g) {
  if (g.device().is_cpu()) {
    const Tensor c = g.is_contiguous() ? g : g.contiguous();
    return OSPREY_DISPATCH_FLOAT(c.dtype(), "clip_grad_norm", [&]<typename T>() {
      const T* data = c.data<T>();
      double sum = 0.0;
      for (int64_t k = 0; k < c.numel(); ++k) sum += static_cast<double>(data[k]) * data[k];
      return sum;
    });
  }
  const Tensor squares = dispatch::call1("mul", {g, g});
  return dispatch::call1("sum", {squares}).to(DType::f64).item<double>();
}

bool all_finite(const Tensor& g) {
  if (g.device().is_cpu()) {
    const Tensor c = g.is_contiguous() ? g : g.contiguous();
    return OSPREY_DISPATCH_FLOAT(c.dtype(), "first_nonfinite_grad", [&]<typename T>() {
      const T* data = c.data<T>();
      for (int64_t k = 0; k < c.numel(); ++k) {
        if (!std::isfinite(data[k])) return false;
      }
      return true;
    });
  }
  // sum(0 * g) is 0 for finite values and NaN as soon as one value is NaN or infinite.
  const Tensor zeros = dispatch::call1("affine", {g}, dispatch::Attrs{{"scale", 0.0}});
  return std::isfinite(dispatch::call1("sum", {zeros}).to(DType::f64).item<double>());
}

}  // namespace

double clip_grad_norm(const NamedParameters& params, double max_norm) {
  OSPREY_CHECK(max_norm > 0.0, "clip_grad_norm: max_norm {} must be > 0", max_norm);
  autograd::NoGradGuard no_grad;
  double total = 0.0;
  for (const auto& [name, p] : params) {
    const Tensor g = p.grad();
    if (g.defined()) total += squared_norm(g);
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
  for (const auto& [name, p] : params) {
    const Tensor g = p.grad();
    if (g.defined() && !all_finite(g)) return name;
  }
  return std::nullopt;
}

}  // namespace osprey::optim
