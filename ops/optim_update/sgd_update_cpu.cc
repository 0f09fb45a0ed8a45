// CPU kernels of sgd_update. reference: one pass per parameter, element by element, in the
// parameter's dtype with the scalars cast to it (what PyTorch's CPU SGD computes). parallel: the
// same element loop over chunks of 64K elements split among the OpenMP threads (the update is
// memory-bound; ResNet-18's 11M parameters took ~4% of a CPU training step on one thread).
#include <algorithm>

#include "framework/dispatch/registry.h"
#include "ops/common/op_helpers.h"
#include "ops/optim_update/optim_update_util.h"

namespace osprey::ops {
namespace {

template <typename T>
void sgd_one(T* p, const T* g, T* b, int64_t numel, T lr, T wd, T momentum, T dampening,
             bool nesterov, bool new_buffer) {
  for (int64_t k = 0; k < numel; ++k) {
    T d = g[k];
    if (wd != T(0)) d = d + wd * p[k];
    if (b) {
      b[k] = new_buffer ? d : momentum * b[k] + (T(1) - dampening) * d;
      d = nesterov ? d + momentum * b[k] : b[k];
    }
    p[k] = p[k] - lr * d;
  }
}

// sgd_one over chunks of `chunk` elements, in parallel when there are several.
template <typename T>
void sgd_chunks(T* p, const T* g, T* b, int64_t numel, int64_t chunk, T lr, T wd, T momentum,
                T dampening, bool nesterov, bool new_buffer) {
  chunk = std::max<int64_t>(chunk, 1);
  const int64_t chunks = (numel + chunk - 1) / chunk;
#pragma omp parallel for schedule(static) if (chunks > 1)
  for (int64_t k = 0; k < chunks; ++k) {
    const int64_t at = k * chunk;
    sgd_one<T>(p + at, g + at, b ? b + at : nullptr, std::min(chunk, numel - at), lr, wd, momentum,
               dampening, nesterov, new_buffer);
  }
}

template <bool Parallel>
void sgd_update(KernelContext& ctx) {
  const Attrs& a = ctx.attrs();
  const auto lr = a.get_floats("lr");
  const auto wd = a.get_floats("weight_decay");
  const auto new_buffer = a.get_ints("new_buffer");
  const double momentum = a.get_float("momentum");
  const double dampening = a.get_float("dampening");
  const bool nesterov = a.get_bool("nesterov");
  const int roles = momentum != 0.0 ? 3 : 2;
  const auto n = static_cast<int>(lr.size());
  for (int i = 0; i < n; ++i) {
    const auto tensors = parameter_tensors(ctx, i, roles);
    const auto ops = flat_operands(tensors);
    OSPREY_DISPATCH_FLOAT(ops[0].dtype(), "sgd_update", [&]<typename T>() {
      sgd_chunks<T>(ops[0].data<T>(), ops[1].data<T>(), roles == 3 ? ops[2].data<T>() : nullptr,
                    ops[0].numel(), Parallel ? int64_t(1) << 16 : ops[0].numel(),
                    static_cast<T>(lr[i]), static_cast<T>(wd[i]), static_cast<T>(momentum),
                    static_cast<T>(dampening), nesterov, !new_buffer.empty() && new_buffer[i] != 0);
    });
    write_back(tensors, ops, 1);
  }
  bump_updated_versions(ctx, roles, 1);
}

const bool registered = [] {
  register_kernel("sgd_update", DeviceType::cpu, "reference", 0, sgd_update<false>, {},
                  "per-parameter element loop in the parameter's dtype");
  register_kernel("sgd_update", DeviceType::cpu, "parallel", 10, sgd_update<true>, {},
                  "the reference's element loop over 64K-element chunks in parallel (OpenMP)");
  return true;
}();

}  // namespace
}  // namespace osprey::ops
