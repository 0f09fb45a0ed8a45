// CUDA kernel of arange: one thread per value (grid-stride), value i = start + i*step computed in
// double with explicitly rounded operations (__dmul_rn, __dadd_rn) so that nvcc cannot contract
// them into an fma — the CPU reference rounds the product and the sum separately, and the two
// devices must give the same bits. The conversion to the output dtype is the reference's: f16/bf16
// go through float (round to nearest even), integers truncate like a C++ cast.
//
// arange has no tensor inputs, so the dispatcher picks this kernel only when the caller passes an
// output on the GPU (the arange() functions do, for a CUDA device). That output may be strided.
#include "ops/common/cuda_loops.cuh"
#include "ops/factory/arange_kernel.h"

namespace osprey::ops {
namespace {

template <typename T>
__global__ void arange_cuda_kernel(T* out, int64_t n, int64_t stride, double start, double step) {
  const int64_t threads = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += threads) {
    double v = __dadd_rn(start, __dmul_rn(static_cast<double>(i), step));
    if constexpr (std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>) {
      out[i * stride] = T(__double2float_rn(v));
    } else {
      out[i * stride] = static_cast<T>(v);
    }
  }
}

template <typename T>
void launch_arange(const Tensor& out, double start, double step) {
  const int64_t n = out.numel();
  if (n == 0) return;
  cuda::DeviceGuard guard(out.device().index);
  cudaStream_t stream = cuda::current_stream();
  arange_cuda_kernel<T><<<cuda_detail::blocks_for(n), cuda_detail::kThreads, 0, stream>>>(
      static_cast<T*>(out.raw_data()), n, out.stride(0), start, step);
  OSPREY_CUDA_LAUNCH_CHECK();
}

// A struct rather than a captureless generic lambda, whose function-pointer conversion nvcc warns
// about (#445).
struct LaunchArange {
  template <typename T>
  void operator()(const Tensor& out, double start, double step) const {
    launch_arange<T>(out, start, step);
  }
};

void arange_kernel(KernelContext& ctx) {
  arange_kernel_body(ctx, LaunchArange{});
}

const bool registered = [] {
  register_kernel("arange", DeviceType::cuda, "native", 0, arange_kernel, {},
                  "one thread per value into the given GPU output, values computed in double");
  return true;
}();

}  // namespace
}  // namespace osprey::ops
