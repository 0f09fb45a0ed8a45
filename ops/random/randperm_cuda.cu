// CUDA kernel of randperm. The permutation is defined by a sequential Fisher-Yates shuffle (see
// random.h): each swap depends on every earlier one, so it has no parallel form that gives the
// same permutation, and a single GPU thread doing it is latency-bound (one dependent round trip
// to memory per swap: tens of ms for n = 1e5, against about 1 ms on the host). This kernel
// therefore shuffles on the host with the same Philox draws as the CPU reference — the same
// permutation by construction — and copies the result to the output on the current stream
// (through a pinned staging buffer, so the host vector may go when the call returns). Reached
// when the caller passes a CUDA output (out=).
#include <vector>

#include "framework/cuda/memory.h"
#include "ops/common/cuda_loops.cuh"
#include "ops/random/random_elements.h"

namespace osprey::ops {
namespace {

template <typename T>
struct IdentityFn {
  OSPREY_INLINE T operator()(T v) const { return v; }
};

void randperm_kernel(KernelContext& ctx) {
  const int64_t n = ctx.attrs().get_int("n");
  OSPREY_CHECK(ctx.has_preset_output(0),
               "randperm: the CUDA kernel writes into a given CUDA output (out=)");
  const Tensor& out = ctx.output(0, {n}, DType::i64);
  OSPREY_CHECK_KIND(device, out.device().is_cuda(), "randperm: output {} is not on a CUDA device",
                    out.describe());
  if (n == 0) return;
  std::vector<int64_t> perm(static_cast<size_t>(n));
  random_detail::philox_shuffle(perm.data(), n, random_detail::philox_position(ctx));
  cuda::DeviceGuard guard(out.device().index);
  cudaStream_t stream = cuda::current_stream();
  Tensor target = out.is_contiguous() ? out : Tensor::empty({n}, DType::i64, out.device());
  cuda::copy_host_to_device(target.raw_data(), perm.data(),
                            static_cast<size_t>(n) * sizeof(int64_t), stream);
  if (!target.is_same(out)) cuda_map<int64_t, int64_t>(out, IdentityFn<int64_t>{}, target);
}

const bool registered = [] {
  register_kernel("randperm", DeviceType::cuda, "host_shuffle", 0, randperm_kernel, {},
                  "the sequential shuffle on the host (same permutation as cpu), copied over");
  return true;
}();

}  // namespace
}  // namespace osprey::ops
