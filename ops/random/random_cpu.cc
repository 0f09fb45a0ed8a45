// CPU reference kernels of the random ops. Each OpenMP iteration computes one Philox block and
// writes the (up to) four elements it serves, exactly as the CUDA kernels do per thread, so both
// devices give the same stream. f16/bf16 outputs are drawn in float and rounded. The host-side
// helpers declared in random_elements.h (Philox position, randperm shuffle) live here too.
#include <numeric>
#include <utility>

#include "ops/common/compute_type.h"
#include "ops/common/op_helpers.h"
#include "ops/random/random_elements.h"

namespace osprey::ops {
namespace {

using random_detail::bernoulli_element;

using random_detail::philox_position;
using random_detail::PhiloxPosition;

// Calls fill(block, first_element) for every block of an n-element output.
template <typename Fill>
void for_each_block(int64_t n, PhiloxPosition position, Fill fill) {
  const int64_t blocks = (n + 3) / 4;
#pragma omp parallel for schedule(static) if (blocks > 4096)
  for (int64_t b = 0; b < blocks; ++b) {
    fill(random::philox_block(position.seed, position.offset + static_cast<uint64_t>(b)), 4 * b);
  }
}

// Shared body of uniform and normal: `block_fn(philox, a, b, values)` fills four values. With
// `below_b` (uniform), a 16-bit value that rounds up to b is folded to a, keeping [low, high).
template <typename BlockFn>
void generate_kernel(KernelContext& ctx, const char* a_name, const char* b_name, bool below_b,
                     BlockFn block_fn) {
  DType dtype = ctx.attrs().get_dtype("dtype");
  const Tensor& out = ctx.output(0, ctx.attrs().get_ints("shape"), dtype);
  const int64_t n = out.numel();
  double a = ctx.attrs().get_float(a_name), b = ctx.attrs().get_float(b_name);
  OSPREY_DISPATCH_FLOAT_AND_HALF(dtype, ctx.op().schema.name.c_str(), [&]<typename T>() {
    using C = compute_t<T>;
    T* ptr = out.data<T>();
    for_each_block(n, philox_position(ctx), [&](const random::PhiloxBlock& r, int64_t first) {
      C values[4];
      block_fn(r, C(a), C(b), values);
      for (int k = 0; k < 4 && first + k < n; ++k) {
        T value = T(values[k]);
        if constexpr (!std::is_same_v<T, C>) {
          if (below_b && !(C(value) < C(b))) value = T(C(a));
        }
        ptr[first + k] = value;
      }
    });
  });
}

void uniform_kernel(KernelContext& ctx) {
  generate_kernel(ctx, "low", "high", true,
                  [](const random::PhiloxBlock& r, auto low, auto high, auto* values) {
                    random_detail::uniform_block(r, low, high, values);
                  });
}

void normal_kernel(KernelContext& ctx) {
  generate_kernel(ctx, "mean", "std", false,
                  [](const random::PhiloxBlock& r, auto mean, auto std, auto* values) {
                    random_detail::normal_block(r, mean, std, values);
                  });
}

void bernoulli_kernel(KernelContext& ctx) {
  Tensor p = ctx.input(0).contiguous();
  const Tensor& out = ctx.output(0, p.shape(), p.dtype());
  const int64_t n = out.numel();
  OSPREY_DISPATCH_FLOAT_AND_HALF(p.dtype(), "bernoulli", [&]<typename T>() {
    using C = compute_t<T>;
    const T* in = p.data<T>();
    T* ptr = out.data<T>();
    for_each_block(n, philox_position(ctx), [&](const random::PhiloxBlock& r, int64_t first) {
      for (int k = 0; k < 4 && first + k < n; ++k) {
        ptr[first + k] = T(bernoulli_element<C>(r.v[k], C(in[first + k])));
      }
    });
  });
}

void randperm_kernel(KernelContext& ctx) {
  const int64_t n = ctx.attrs().get_int("n");
  const Tensor& out = ctx.output(0, {n}, DType::i64);
  random_detail::philox_shuffle(out.data<int64_t>(), n, philox_position(ctx));
}

const bool registered = [] {
  register_kernel("uniform", DeviceType::cpu, "reference", 0, uniform_kernel, {},
                  "one Philox block per four elements, OpenMP over blocks");
  register_kernel("normal", DeviceType::cpu, "reference", 0, normal_kernel, {},
                  "Box-Muller on one Philox block per four elements");
  register_kernel("bernoulli", DeviceType::cpu, "reference", 0, bernoulli_kernel, {},
                  "u < p with one Philox block per four elements");
  register_kernel("randperm", DeviceType::cpu, "reference", 0, randperm_kernel, {},
                  "sequential Fisher-Yates driven by 64-bit Philox draws");
  return true;
}();

}  // namespace

namespace random_detail {

PhiloxPosition philox_position(const dispatch::KernelContext& ctx) {
  return {static_cast<uint64_t>(ctx.attrs().get_int("seed")),
          static_cast<uint64_t>(ctx.attrs().get_int("offset"))};
}

void philox_shuffle(int64_t* perm, int64_t n, PhiloxPosition position) {
  std::iota(perm, perm + n, int64_t{0});
  random::PhiloxBlock r{};
  for (int64_t k = 0; k + 1 < n; ++k) {
    if (k % 2 == 0)
      r = random::philox_block(position.seed, position.offset + static_cast<uint64_t>(k / 2));
    int lane = 2 * static_cast<int>(k % 2);
    uint64_t bits = static_cast<uint64_t>(r.v[lane]) | (static_cast<uint64_t>(r.v[lane + 1]) << 32);
    int64_t j = n - 1 - k;
    auto swap_with = static_cast<int64_t>(bits % static_cast<uint64_t>(j + 1));
    std::swap(perm[j], perm[swap_with]);
  }
}

}  // namespace random_detail
}  // namespace osprey::ops
