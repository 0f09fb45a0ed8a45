// cuda/reference kernels of batch_norm and batch_norm_backward: the CPU reference's arithmetic,
// one block per channel for the per-channel sums and one thread per element for the element-wise
// pass. f32 and f64; all arithmetic in double (two passes for the variance, as the CPU
// reference), so results match the CPU's to rounding.
//   - Layout: a channels-last 4-d input is processed as [N*H*W, C] rows, anything else as
//     contiguous [N, C, S] (S: the product of the spatial dims); inputs in other layouts are
//     copied to the contiguous one first. Outputs keep the processed layout, so channels-last
//     activations stay channels-last (the CPU kernels write contiguous outputs; the values agree).
//   - A channel's block reads its values with stride C in the channels-last case: simple and
//     right, not coalesced. A faster variant would reduce [rows, C] tiles across warps.
//   - relu=true clamps the output at 0 in the element-wise pass (the backward's mask is applied
//     by batch_norm's derivative, see batch_norm.h).
//   - Running stats are updated in place by the channel's block (PyTorch's momentum convention,
//     unbiased variance), exactly as the CPU op; an empty batch leaves them alone.
#include <cmath>

#include "framework/autograd/grad_mode.h"
#include "framework/dispatch/registry.h"
#include "ops/common/cuda_reduce.cuh"

namespace osprey::ops {
namespace {

// Where the values of channel c live in the processed layout.
struct ChannelLayout {
  int64_t channels = 0;     // C
  int64_t per_channel = 0;  // M = N * S
  int64_t spatial = 1;      // S
  bool rows = false;        // channels-last: element (m, c) at m * C + c

  __device__ int64_t offset(int64_t c, int64_t i) const {
    if (rows) return i * channels + c;
    return ((i / spatial) * channels + c) * spatial + i % spatial;
  }
  __device__ int64_t channel_of(int64_t flat) const {
    return rows ? flat % channels : (flat / spatial) % channels;
  }
};

bool is_channels_last(const Tensor& t) {
  return t.dim() == 4 && t.is_contiguous(MemoryFormat::channels_last) && !t.is_contiguous();
}

ChannelLayout layout_of(const Tensor& x, bool rows) {
  ChannelLayout l;
  l.channels = x.size(1);
  l.rows = rows;
  for (int64_t d = 2; d < x.dim(); ++d) l.spatial *= x.size(d);
  l.per_channel = x.size(0) * l.spatial;
  return l;
}

// Sum over the block, returned to every thread.
__device__ double block_total(double value) {
  __shared__ double partial[32];
  for (int offset = 16; offset > 0; offset /= 2) {
    value += __shfl_down_sync(0xffffffffu, value, offset);
  }
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  if (lane == 0) partial[warp] = value;
  __syncthreads();
  if (warp == 0) {
    const int warps = (blockDim.x + 31) / 32;
    value = lane < warps ? partial[lane] : 0.0;
    for (int offset = 16; offset > 0; offset /= 2) {
      value += __shfl_down_sync(0xffffffffu, value, offset);
    }
    if (lane == 0) partial[0] = value;
  }
  __syncthreads();
  value = partial[0];
  __syncthreads();  // partial is reused by the next call
  return value;
}

// A per-channel vector (optional: nullptr) read through its stride.
template <typename T>
struct ChannelVector {
  T* data = nullptr;
  int64_t stride = 1;
  __device__ double get(int64_t c, double absent) const {
    return data ? static_cast<double>(data[c * stride]) : absent;
  }
  __device__ void set(int64_t c, double v) const { data[c * stride] = static_cast<T>(v); }
};

template <typename T>
ChannelVector<T> channel_vector(const Tensor& t) {
  if (!t.defined()) return {};
  return {static_cast<T*>(t.raw_data()), t.stride(0)};
}

struct ForwardParams {
  bool training;
  double momentum, eps;
};

template <typename T>
__global__ void forward_stats(ChannelLayout l, const T* x, ForwardParams p,
                              ChannelVector<T> running_mean, ChannelVector<T> running_var,
                              ChannelVector<T> save_mean, ChannelVector<T> save_invstd) {
  for (int64_t c = blockIdx.x; c < l.channels; c += gridDim.x) {
    const int64_t m = l.per_channel;
    double mean = 0, invstd = 0;
    if (p.training && m > 0) {
      double total = 0;
      for (int64_t i = threadIdx.x; i < m; i += blockDim.x) total += double(x[l.offset(c, i)]);
      mean = block_total(total) / double(m);
      double squares = 0;
      for (int64_t i = threadIdx.x; i < m; i += blockDim.x) {
        const double d = double(x[l.offset(c, i)]) - mean;
        squares += d * d;
      }
      squares = block_total(squares);
      invstd = 1.0 / sqrt(squares / double(m) + p.eps);
      if (threadIdx.x == 0 && running_mean.data) {
        const double unbiased = squares / double(m - 1);
        running_mean.set(c, (1 - p.momentum) * running_mean.get(c, 0) + p.momentum * mean);
        running_var.set(c, (1 - p.momentum) * running_var.get(c, 0) + p.momentum * unbiased);
      }
    } else if (!p.training) {
      mean = running_mean.get(c, 0);
      invstd = 1.0 / sqrt(running_var.get(c, 1) + p.eps);
    }
    if (threadIdx.x == 0) {
      save_mean.set(c, mean);
      save_invstd.set(c, invstd);
    }
  }
}

template <typename T>
__global__ void forward_apply(ChannelLayout l, int64_t n, const T* x, ChannelVector<T> mean,
                              ChannelVector<T> invstd, ChannelVector<T> weight,
                              ChannelVector<T> bias, bool relu, T* out) {
  using Acc = double;  // as the CPU reference: the rounding of f32 inputs is all that differs
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += stride) {
    const int64_t c = l.channel_of(i);
    const Acc xhat = (Acc(x[i]) - Acc(mean.get(c, 0))) * Acc(invstd.get(c, 0));
    const Acc y = xhat * Acc(weight.get(c, 1)) + Acc(bias.get(c, 0));
    out[i] = static_cast<T>(relu && y < Acc(0) ? Acc(0) : y);  // fused relu (batch_norm.h)
  }
}

// Per channel: grad_bias = sum(g), grad_weight = sum(g * xhat), and their means (double, for
// the element-wise pass).
template <typename T>
__global__ void backward_sums(ChannelLayout l, const T* g, const T* x, ChannelVector<T> mean,
                              ChannelVector<T> invstd, ChannelVector<T> grad_weight,
                              ChannelVector<T> grad_bias, double* means) {
  for (int64_t c = blockIdx.x; c < l.channels; c += gridDim.x) {
    const int64_t m = l.per_channel;
    const double mu = mean.get(c, 0), is = invstd.get(c, 0);
    double sum_g = 0, sum_gx = 0;
    for (int64_t i = threadIdx.x; i < m; i += blockDim.x) {
      const int64_t off = l.offset(c, i);
      const double gv = double(g[off]);
      sum_g += gv;
      sum_gx += gv * (double(x[off]) - mu) * is;
    }
    sum_g = block_total(sum_g);
    sum_gx = block_total(sum_gx);
    if (threadIdx.x == 0) {
      grad_bias.set(c, sum_g);
      grad_weight.set(c, sum_gx);
      means[2 * c] = m > 0 ? sum_g / double(m) : 0.0;
      means[2 * c + 1] = m > 0 ? sum_gx / double(m) : 0.0;
    }
  }
}

template <typename T>
__global__ void backward_apply(ChannelLayout l, int64_t n, bool training, const T* g, const T* x,
                               ChannelVector<T> mean, ChannelVector<T> invstd,
                               ChannelVector<T> weight, const double* means, T* grad_input) {
  using Acc = double;  // as the CPU reference: the rounding of f32 inputs is all that differs
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += stride) {
    const int64_t c = l.channel_of(i);
    const Acc is = Acc(invstd.get(c, 0));
    Acc gv = Acc(g[i]);
    if (training) {
      const Acc xhat = (Acc(x[i]) - Acc(mean.get(c, 0))) * is;
      gv = gv - Acc(means[2 * c]) - xhat * Acc(means[2 * c + 1]);
    }
    grad_input[i] = static_cast<T>(Acc(weight.get(c, 1)) * is * gv);
  }
}

unsigned channel_blocks(int64_t channels) {
  return static_cast<unsigned>(std::max<int64_t>(1, std::min<int64_t>(channels, 1 << 16)));
}

// The tensor to write: `given` when it has the processed layout, else a scratch copied back.
Tensor scratch_for(const Tensor& given, MemoryFormat format) {
  return given.is_contiguous(format)
             ? given
             : Tensor::empty(given.shape(), given.dtype(), given.device(), format);
}

void forward_kernel(KernelContext& ctx) {
  check_cuda_operands(ctx);
  autograd::NoGradGuard no_grad;  // layout copies made here are not part of the graph
  const Tensor& x_in = ctx.input(0);
  const bool rows = is_channels_last(x_in);
  const MemoryFormat format = rows ? MemoryFormat::channels_last : MemoryFormat::contiguous;
  Tensor x = x_in.contiguous(format);
  const ChannelLayout l = layout_of(x, rows);
  const ForwardParams p{ctx.attrs().get_bool("training"), ctx.attrs().get_float("momentum"),
                        ctx.attrs().get_float("eps")};
  const Tensor& running_mean = ctx.input(3);
  const Tensor& running_var = ctx.input(4);
  const Tensor& given = ctx.output(0, x.shape(), x.dtype(), format);
  const Tensor& save_mean = ctx.output(1, {l.channels}, x.dtype());
  const Tensor& save_invstd = ctx.output(2, {l.channels}, x.dtype());
  Tensor out = scratch_for(given, format);
  cuda::DeviceGuard guard(x.device().index);
  cudaStream_t stream = cuda::current_stream();
  OSPREY_DISPATCH_FLOAT(x.dtype(), "batch_norm", [&]<typename T>() {
    const T* xp = static_cast<const T*>(x.raw_data());
    if (l.channels > 0) {
      forward_stats<T><<<channel_blocks(l.channels), cuda_detail::kThreads, 0, stream>>>(
          l, xp, p, channel_vector<T>(running_mean), channel_vector<T>(running_var),
          channel_vector<T>(save_mean), channel_vector<T>(save_invstd));
      OSPREY_CUDA_LAUNCH_CHECK();
    }
    const int64_t n = x.numel();
    if (n > 0) {
      forward_apply<T><<<cuda_detail::blocks_for(n), cuda_detail::kThreads, 0, stream>>>(
          l, n, xp, channel_vector<T>(save_mean), channel_vector<T>(save_invstd),
          channel_vector<T>(ctx.input(1)), channel_vector<T>(ctx.input(2)),
          ctx.attrs().get_bool("relu"), static_cast<T*>(out.raw_data()));
      OSPREY_CUDA_LAUNCH_CHECK();
    }
  });
  if (p.training && l.per_channel > 0 && running_mean.defined()) {
    running_mean.bump_version();
    running_var.bump_version();
  }
  if (!out.is_same(given)) dispatch::call_out("copy", given, {out});
}

void backward_kernel(KernelContext& ctx) {
  check_cuda_operands(ctx);
  autograd::NoGradGuard no_grad;
  const Tensor& x_in = ctx.input(1);
  const bool rows = is_channels_last(x_in);
  const MemoryFormat format = rows ? MemoryFormat::channels_last : MemoryFormat::contiguous;
  Tensor x = x_in.contiguous(format), g = ctx.input(0).contiguous(format);
  const ChannelLayout l = layout_of(x, rows);
  const bool training = ctx.attrs().get_bool("training");
  const Tensor& given = ctx.output(0, x.shape(), x.dtype(), format);
  const Tensor& grad_weight = ctx.output(1, {l.channels}, x.dtype());
  const Tensor& grad_bias = ctx.output(2, {l.channels}, x.dtype());
  Tensor grad_input = scratch_for(given, format);
  Tensor means = Tensor::empty({std::max<int64_t>(1, 2 * l.channels)}, DType::f64, x.device());
  cuda::DeviceGuard guard(x.device().index);
  cudaStream_t stream = cuda::current_stream();
  OSPREY_DISPATCH_FLOAT(x.dtype(), "batch_norm_backward", [&]<typename T>() {
    const T* xp = static_cast<const T*>(x.raw_data());
    const T* gp = static_cast<const T*>(g.raw_data());
    auto mean = channel_vector<T>(ctx.input(3)), invstd = channel_vector<T>(ctx.input(4));
    double* mp = static_cast<double*>(means.raw_data());
    if (l.channels > 0) {
      backward_sums<T><<<channel_blocks(l.channels), cuda_detail::kThreads, 0, stream>>>(
          l, gp, xp, mean, invstd, channel_vector<T>(grad_weight), channel_vector<T>(grad_bias),
          mp);
      OSPREY_CUDA_LAUNCH_CHECK();
    }
    const int64_t n = x.numel();
    if (n > 0) {
      backward_apply<T><<<cuda_detail::blocks_for(n), cuda_detail::kThreads, 0, stream>>>(
          l, n, training, gp, xp, mean, invstd, channel_vector<T>(ctx.input(2)), mp,
          static_cast<T*>(grad_input.raw_data()));
      OSPREY_CUDA_LAUNCH_CHECK();
    }
  });
  if (!grad_input.is_same(given)) dispatch::call_out("copy", given, {grad_input});
}

const bool registered = [] {
  const char* doc =
      "block per channel for the sums (double), thread per element for the affine pass; NCHW or "
      "channels-last rows";
  register_kernel("batch_norm", DeviceType::cuda, "reference", 0, forward_kernel, inputs_are_float,
                  doc);
  register_kernel("batch_norm_backward", DeviceType::cuda, "reference", 0, backward_kernel,
                  inputs_are_float, doc);
  return true;
}();

}  // namespace
}  // namespace osprey::ops
