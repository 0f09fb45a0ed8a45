// CUDA kernel of anchor_grid: the A base anchors are computed on the host (base_anchors, in
// double, exactly as on the CPU) and uploaded; one thread per output coordinate adds the
// position's shift in double and converts once, so both devices give the same values. Chosen
// when the caller passes a GPU output (anchor_grid(..., device) does; the op has no inputs).
#include "ops/anchor_grid/anchor_grid.h"
#include "ops/common/cuda_loops.cuh"

namespace osprey::ops {
namespace {

template <typename T>
__global__ void shift_anchors(int64_t total, int64_t width, int64_t count, double stride,
                              const double* base, T* out) {
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t k = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; k < total;
       k += step) {
    const int64_t c = k % 4, anchor = (k / 4) % count, position = k / (4 * count);
    const double shift = static_cast<double>(c % 2 == 0 ? position % width : position / width);
    out[k] = static_cast<T>(base[4 * anchor + c] + shift * stride);
  }
}

void anchor_grid_kernel(KernelContext& ctx) {
  const Attrs& a = ctx.attrs();
  const std::vector<double> base =
      base_anchors(a.get_int("base_size"), a.get_floats("scales"), a.get_floats("ratios"),
                   a.get_bool("legacy_plus_one"));
  const std::vector<int64_t> size = a.get_ints("map_size");
  const int64_t count = static_cast<int64_t>(base.size()) / 4;
  const int64_t n = size[0] * size[1] * count;
  const DType dtype = a.get_dtype("dtype");
  Tensor& out = ctx.output(0, {n, 4}, dtype);
  if (n == 0) return;
  OSPREY_CHECK_KIND(device, out.device().is_cuda(), "anchor_grid: output {} is not on a GPU",
                    out.describe());
  const Device device = out.device();
  Tensor base_device = Tensor::from_vector<double>(base, {count, 4}, device);
  Tensor result = out.is_contiguous() ? out : Tensor::empty({n, 4}, dtype, device);
  cuda::DeviceGuard guard(device.index);
  OSPREY_DISPATCH_FLOAT(dtype, "anchor_grid", [&]<typename T>() {
    shift_anchors<T>
        <<<cuda_detail::blocks_for(4 * n), cuda_detail::kThreads, 0, cuda::current_stream()>>>(
            4 * n, size[1], count, static_cast<double>(a.get_int("stride")),
            base_device.data<double>(), result.data<T>());
    OSPREY_CUDA_LAUNCH_CHECK();
  });
  if (!result.is_same(out)) out.copy_(result);
}

const bool registered = [] {
  register_kernel("anchor_grid", DeviceType::cuda, "native", 0, anchor_grid_kernel, {},
                  "base anchors from the host, thread per coordinate adds the shift in double");
  return true;
}();

}  // namespace
}  // namespace osprey::ops
