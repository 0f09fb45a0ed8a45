// CPU reference kernels of dropout and dropout_backward. dropout walks the Philox blocks exactly as
// the random ops do (one block per four elements, random_elements.h; OpenMP over blocks, which
// write disjoint elements), so its mask is bernoulli's stream at the same (seed, offset) and a
// CUDA kernel can reproduce it per thread. Inputs are read
// contiguously (copied first when strided); outputs are written through cpu_store.
#include "ops/common/compute_type.h"
#include "ops/common/op_helpers.h"
#include "ops/random/random_elements.h"
#include "ops/reduce/reduce_util.h"

namespace osprey::ops {
namespace {

// 1 / (1 - p), and 0 for p = 1 where every element is dropped anyway.
double keep_scale(double p) {
  return p < 1.0 ? 1.0 / (1.0 - p) : 0.0;
}

// body(i) for i in [0, n), OpenMP above `serial_below` iterations. Kept out of the dtype-dispatch
// lambdas, where a #pragma cannot appear (they are macro arguments).
template <typename Body>
void parallel_for(int64_t n, int64_t serial_below, Body body) {
#pragma omp parallel for schedule(static) if (n >= serial_below)
  for (int64_t i = 0; i < n; ++i) body(i);
}

void dropout_reference(KernelContext& ctx) {
  Tensor input = ctx.input(0).contiguous();
  const bool training = ctx.attrs().get_bool("training");
  const double p = training ? ctx.attrs().get_float("p") : 0.0;
  const Tensor& out = ctx.output(0, input.shape(), input.dtype());
  const Tensor& mask_out = ctx.output(1, input.shape(), DType::boolean);
  const int64_t n = input.numel();
  OSPREY_DISPATCH_FLOAT(input.dtype(), "dropout", [&]<typename T>() {
    Tensor result = cpu_scratch_for(out);
    Tensor mask = cpu_scratch_for(mask_out);
    const T* src = input.data<T>();
    T* dst = result.data<T>();
    bool* keep = mask.data<bool>();
    const T scale = T(keep_scale(p));
    if (p == 0.0) {
      for (int64_t i = 0; i < n; ++i) {
        dst[i] = src[i];
        keep[i] = true;
      }
    } else {
      const random_detail::PhiloxPosition position = random_detail::philox_position(ctx);
      const T keep_probability = T(1.0 - p);  // as bernoulli(full(1 - p)) would round it
      parallel_for((n + 3) / 4, 4096, [&](int64_t b) {
        const random::PhiloxBlock r =
            random::philox_block(position.seed, position.offset + static_cast<uint64_t>(b));
        for (int64_t k = 0; k < 4 && 4 * b + k < n; ++k) {
          const int64_t i = 4 * b + k;
          keep[i] = random_detail::bernoulli_element<T>(r.v[k], keep_probability) != T(0);
          dst[i] = keep[i] ? src[i] * scale : T(0);
        }
      });
    }
    cpu_store<T>(out, result);
    cpu_store<bool>(mask_out, mask);
  });
}

void dropout_backward_reference(KernelContext& ctx) {
  Tensor grad = ctx.input(0).contiguous();
  Tensor mask = ctx.input(1).contiguous();
  const double p = ctx.attrs().get_float("p");
  const Tensor& out = ctx.output(0, grad.shape(), grad.dtype());
  const int64_t n = grad.numel();
  OSPREY_DISPATCH_FLOAT(grad.dtype(), "dropout_backward", [&]<typename T>() {
    Tensor result = cpu_scratch_for(out);
    const T* g = grad.data<T>();
    const bool* keep = mask.data<bool>();
    T* dst = result.data<T>();
    const T scale = T(keep_scale(p));
    parallel_for(n, 16384, [&](int64_t i) { dst[i] = keep[i] ? g[i] * scale : T(0); });
    cpu_store<T>(out, result);
  });
}

const bool registered = [] {
  register_kernel("dropout", DeviceType::cpu, "reference", 0, dropout_reference, {},
                  "one Philox block per four elements, OpenMP over blocks");
  register_kernel("dropout_backward", DeviceType::cpu, "reference", 0, dropout_backward_reference,
                  {}, "masked scale, OpenMP over elements");
  return true;
}();

}  // namespace
}  // namespace osprey::ops
