// CUDA kernel of var over `dims`, reading the input through its strides (no copy). Two passes
// per output, as in the CPU reference (the mean, then the sum of squared deviations), which avoids
// the cancellation of E[x²] - E[x]²; accumulation in double for f64, float otherwise.
//   - few reduced elements (<= 64), or strided reduced elements with enough outputs to fill the
//     device (statistics over the batch dim: neighbouring threads read neighbouring addresses):
//     one thread per output;
//   - otherwise: one block per output, each pass combined with a shared-memory tree.
// N <= correction divides by 0 (inf or NaN), N == 0 gives NaN, like the reference.
#include "ops/common/cuda_reduce.cuh"
#include "ops/reduce/reduce_util.h"

namespace osprey::ops {
namespace {

constexpr int kBlock = 256;
constexpr int64_t kManyOutputs = 8192;  // enough threads to fill the device with one per output

// offsets over the kept dims: (input, out); over the reduced dims: input.
struct Geometry {
  OffsetCalculator<2> kept;
  OffsetCalculator<1> reduced;
  int64_t outputs = 1;
  int64_t n = 1;
};

template <typename T>
__global__ void var_thread_per_output(Geometry g, const T* in, T* out, cuda_acc_t<T> denom) {
  using Acc = cuda_acc_t<T>;
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t o = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; o < g.outputs;
       o += step) {
    int64_t base[2];
    g.kept.offsets(o, base);
    Acc total = 0;
    for (int64_t r = 0; r < g.n; ++r) {
      int64_t off[1];
      g.reduced.offsets(r, off);
      total += static_cast<Acc>(static_cast<compute_t<T>>(in[base[0] + off[0]]));
    }
    const Acc mean = total / static_cast<Acc>(g.n);
    Acc squares = 0;
    for (int64_t r = 0; r < g.n; ++r) {
      int64_t off[1];
      g.reduced.offsets(r, off);
      Acc d = static_cast<Acc>(static_cast<compute_t<T>>(in[base[0] + off[0]])) - mean;
      squares += d * d;
    }
    out[base[1]] = static_cast<T>(static_cast<compute_t<T>>(squares / denom));
  }
}

// The sum of every thread's `value`, returned to every thread of the block.
template <typename Acc>
__device__ Acc block_total(Acc value, Acc* scratch) {
  scratch[threadIdx.x] = value;
  __syncthreads();
  for (int half = kBlock / 2; half > 0; half /= 2) {
    if (threadIdx.x < half) scratch[threadIdx.x] += scratch[threadIdx.x + half];
    __syncthreads();
  }
  Acc total = scratch[0];
  __syncthreads();  // scratch is reused by the next call
  return total;
}

template <typename T>
__global__ void var_block_per_output(Geometry g, const T* in, T* out, cuda_acc_t<T> denom) {
  using Acc = cuda_acc_t<T>;
  __shared__ Acc scratch[kBlock];
  for (int64_t o = blockIdx.x; o < g.outputs; o += gridDim.x) {
    int64_t base[2];
    g.kept.offsets(o, base);
    Acc total = 0;
    for (int64_t r = threadIdx.x; r < g.n; r += blockDim.x) {
      int64_t off[1];
      g.reduced.offsets(r, off);
      total += static_cast<Acc>(static_cast<compute_t<T>>(in[base[0] + off[0]]));
    }
    const Acc mean = block_total(total, scratch) / static_cast<Acc>(g.n);
    Acc squares = 0;
    for (int64_t r = threadIdx.x; r < g.n; r += blockDim.x) {
      int64_t off[1];
      g.reduced.offsets(r, off);
      Acc d = static_cast<Acc>(static_cast<compute_t<T>>(in[base[0] + off[0]])) - mean;
      squares += d * d;
    }
    squares = block_total(squares, scratch);
    if (threadIdx.x == 0) out[base[1]] = static_cast<T>(static_cast<compute_t<T>>(squares / denom));
  }
}

void var_kernel(KernelContext& ctx) {
  check_cuda_operands(ctx);
  const Tensor& input = ctx.input(0);
  auto dims = reduction_dims(input.shape(), ctx.attrs().get_ints("dims"), "var");
  const bool keepdim = ctx.attrs().get_bool("keepdim");
  const Tensor& out = ctx.output(0, reduced_shape(input.shape(), dims, keepdim), input.dtype());
  OSPREY_CHECK_KIND(shape, input.dim() <= kMaxDims, "var: rank {} > {}", input.dim(), kMaxDims);
  Geometry g;
  g.n = reduced_count(input.shape(), dims);
  for (int64_t d = 0, o = 0; d < input.dim(); ++d) {
    const bool reduced = std::find(dims.begin(), dims.end(), d) != dims.end();
    if (reduced) {
      int k = g.reduced.ndim++;
      g.reduced.sizes[k] = input.size(d);
      g.reduced.strides[0][k] = input.stride(d);
      if (keepdim) ++o;
    } else {
      int k = g.kept.ndim++;
      g.kept.sizes[k] = input.size(d);
      g.kept.strides[0][k] = input.stride(d);
      g.kept.strides[1][k] = out.stride(o++);
      g.outputs *= input.size(d);
    }
  }
  if (g.outputs == 0) return;
  const double denom = var_divisor(g.n, ctx.attrs().get_int("correction"));
  // The innermost reduced dim is not the contiguous one.
  const bool columns = g.reduced.ndim > 0 && g.reduced.strides[0][g.reduced.ndim - 1] != 1;
  cuda::DeviceGuard guard(input.device().index);
  cudaStream_t stream = cuda::current_stream();
  OSPREY_DISPATCH_FLOAT_AND_HALF(input.dtype(), "var", [&]<typename T>() {
    const T* in = static_cast<const T*>(input.raw_data());
    T* o = static_cast<T*>(out.raw_data());
    const auto d = static_cast<cuda_acc_t<T>>(denom);
    if (g.n <= 64 || (columns && g.outputs >= kManyOutputs)) {
      var_thread_per_output<T>
          <<<cuda_detail::blocks_for(g.outputs), cuda_detail::kThreads, 0, stream>>>(g, in, o, d);
    } else {
      unsigned blocks = static_cast<unsigned>(std::min<int64_t>(g.outputs, 1 << 20));
      var_block_per_output<T><<<blocks, kBlock, 0, stream>>>(g, in, o, d);
    }
    OSPREY_CUDA_LAUNCH_CHECK();
  });
}

const bool registered = [] {
  register_kernel(
      "var", DeviceType::cuda, "native", 0, var_kernel, {},
      "strided two-pass: thread per output for short or column reductions, else block per output");
  return true;
}();

}  // namespace
}  // namespace osprey::ops
