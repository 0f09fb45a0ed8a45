// cpu/reference kernel of adamw_update: one pass per parameter, element by element, in the
// parameter's dtype; the bias corrections and step size are computed in double on the host and
// cast, as PyTorch's single-tensor AdamW does.
#include <cmath>

#include "framework/dispatch/registry.h"
#include "ops/common/op_helpers.h"
#include "ops/optim_update/optim_update_util.h"

namespace osprey::ops {
namespace {

template <typename T>
struct AdamWScalars {
  T decay;            // 1 - lr * weight_decay
  T one_minus_beta1;  // the lerp weight w, and 1 - w computed in T (PyTorch's lerp)
  T beta1_lerp;
  T beta2;
  T one_minus_beta2;
  T step_size;   // lr / (1 - beta1^t)
  T bias2_sqrt;  // sqrt(1 - beta2^t)
  T eps;
};

template <typename T>
AdamWScalars<T> adamw_scalars(double lr, double wd, int64_t step, double beta1, double beta2,
                              double eps) {
  const double t = static_cast<double>(step);
  return {static_cast<T>(1.0 - lr * wd),
          static_cast<T>(1.0 - beta1),
          T(1) - static_cast<T>(1.0 - beta1),
          static_cast<T>(beta2),
          static_cast<T>(1.0 - beta2),
          static_cast<T>(lr / (1.0 - std::pow(beta1, t))),
          static_cast<T>(std::sqrt(1.0 - std::pow(beta2, t))),
          static_cast<T>(eps)};
}

template <typename T>
void adamw_one(T* p, const T* g, T* m, T* v, int64_t numel, const AdamWScalars<T>& s) {
  for (int64_t k = 0; k < numel; ++k) {
    p[k] = p[k] * s.decay;
    // lerp(m, g, w) the way PyTorch evaluates it: from the nearer end.
    m[k] = s.one_minus_beta1 < T(0.5) ? m[k] + s.one_minus_beta1 * (g[k] - m[k])
                                      : g[k] - (g[k] - m[k]) * s.beta1_lerp;
    v[k] = v[k] * s.beta2 + s.one_minus_beta2 * g[k] * g[k];
    const T denom = std::sqrt(v[k]) / s.bias2_sqrt + s.eps;
    p[k] = p[k] - s.step_size * m[k] / denom;
  }
}

void adamw_update_reference(KernelContext& ctx) {
  const Attrs& a = ctx.attrs();
  const auto lr = a.get_floats("lr");
  const auto wd = a.get_floats("weight_decay");
  const auto step = a.get_ints("step");
  const double beta1 = a.get_float("beta1"), beta2 = a.get_float("beta2");
  const double eps = a.get_float("eps");
  const auto n = static_cast<int>(lr.size());
  for (int i = 0; i < n; ++i) {
    const auto tensors = parameter_tensors(ctx, i, 4);
    const auto ops = flat_operands(tensors);
    OSPREY_DISPATCH_FLOAT(ops[0].dtype(), "adamw_update", [&]<typename T>() {
      adamw_one<T>(ops[0].data<T>(), ops[1].data<T>(), ops[2].data<T>(), ops[3].data<T>(),
                   ops[0].numel(), adamw_scalars<T>(lr[i], wd[i], step[i], beta1, beta2, eps));
    });
    write_back(tensors, ops, 1);
  }
  bump_updated_versions(ctx, 4, 1);
}

const bool registered = [] {
  register_kernel("adamw_update", DeviceType::cpu, "reference", 0, adamw_update_reference, {},
                  "per-parameter element loop in the parameter's dtype");
  return true;
}();

}  // namespace
}  // namespace osprey::ops
