// cuda/native kernels of cross_entropy and cross_entropy_backward (math in cross_entropy.h).
// The logits are read as contiguous NCHW-style [N, C, S] (copied first when in another layout):
// position n = (batch b, spatial s) has its C logits at (b*C + c)*S + s. One warp per position
// computes the row's stable log-softmax (max subtracted, sums in float for f32 and double for
// f64) and the loss or the gradient row; the "sum"/"mean"/"valid" reductions and the divisor
// (the summed class x element weights of the counted targets for "mean", their number — at
// least 1 — for "valid") are one block's sums, in double.
// A target outside [0, C) that is not ignore_index stops the kernel with a device-side trap
// (cuda_index.cuh: reported at the next synchronising call, or at the launch with
// OSPREY_CUDA_SYNC=1) rather than the CPU's error, which would need the targets on the host.
#include <cmath>

#include "framework/autograd/grad_mode.h"
#include "framework/dispatch/registry.h"
#include "ops/common/cuda_index.cuh"
#include "ops/common/cuda_reduce.cuh"

namespace osprey::ops {
namespace {

constexpr int kWarp = 32;

enum class Reduction { none, sum, mean, valid };

struct Problem {
  int64_t positions = 0, classes = 0, spatial = 1;
  int64_t ignore_index = -100;
  double smoothing = 0.0;
  Reduction reduction = Reduction::mean;

  __device__ int64_t offset(int64_t n, int64_t c) const {
    return ((n / spatial) * classes + c) * spatial + n % spatial;
  }
};

Problem problem_of(const KernelContext& ctx, const Tensor& input) {
  Problem p;
  const int64_t class_dim = input.dim() == 1 ? 0 : 1;
  p.classes = input.size(class_dim);
  for (int64_t d = class_dim + 1; d < input.dim(); ++d) p.spatial *= input.size(d);
  p.positions = p.classes > 0 ? input.numel() / p.classes : 0;
  p.ignore_index = ctx.attrs().get_int("ignore_index");
  p.smoothing = ctx.attrs().get_float("label_smoothing");
  const std::string r = ctx.attrs().get_string("reduction");
  p.reduction = r == "none"    ? Reduction::none
                : r == "sum"   ? Reduction::sum
                : r == "valid" ? Reduction::valid
                               : Reduction::mean;
  return p;
}

template <typename Acc>
__device__ Acc warp_sum(Acc v) {
  for (int offset = kWarp / 2; offset > 0; offset /= 2)
    v += __shfl_xor_sync(0xffffffffu, v, offset);
  return v;
}
template <typename Acc>
__device__ Acc warp_max(Acc v) {
  for (int offset = kWarp / 2; offset > 0; offset /= 2) {
    v = max(v, __shfl_xor_sync(0xffffffffu, v, offset));
  }
  return v;
}

template <typename T>
__device__ double class_weight(const T* weight, int64_t c) {
  return weight ? double(weight[c]) : 1.0;
}

// What position n adds to the divisor: e_n · w[t] ("mean"), 1 ("valid").
template <typename T>
__device__ double divisor_share(const Problem& p, const T* weight, const T* element, int64_t n,
                                int64_t t) {
  if (p.reduction == Reduction::valid) return 1.0;
  return class_weight(weight, t) * class_weight(element, n);
}

// The row's max and log of the summed exponentials (every lane gets both).
template <typename T, typename Acc>
__device__ void row_lse(const Problem& p, const T* x, int64_t n, int lane, Acc* m, Acc* lse) {
  Acc mx = -INFINITY;
  for (int64_t c = lane; c < p.classes; c += kWarp) mx = max(mx, Acc(x[p.offset(n, c)]));
  mx = warp_max(mx);
  Acc total = 0;
  for (int64_t c = lane; c < p.classes; c += kWarp) total += exp(Acc(x[p.offset(n, c)]) - mx);
  *m = mx;
  *lse = log(warp_sum(total));
}

// losses[n] = loss of position n (0 when ignored); counted[n] = its divisor share (0 ignored).
template <typename T>
__global__ void forward_rows(Problem p, const T* x, const int64_t* target, const T* weight,
                             const T* element, double* losses, double* counted) {
  using Acc = cuda_acc_t<T>;
  const int lane = threadIdx.x % kWarp;
  const int64_t warps = static_cast<int64_t>(gridDim.x) * (blockDim.x / kWarp);
  for (int64_t n = (static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) / kWarp;
       n < p.positions; n += warps) {
    const int64_t t = target[n];
    if (t == p.ignore_index) {
      if (lane == 0) losses[n] = counted[n] = 0.0;
      continue;
    }
    if (lane == 0) cuda_check_index("cross_entropy", "target", t, p.classes);
    Acc m, lse;
    row_lse<T, Acc>(p, x, n, lane, &m, &lse);
    // loss = -(1 - eps) w[t] lp[t] - eps / C * sum_c w[c] lp[c]
    double smooth = 0;
    for (int64_t c = lane; c < p.classes; c += kWarp) {
      smooth += class_weight(weight, c) * double(Acc(x[p.offset(n, c)]) - m - lse);
    }
    smooth = warp_sum(smooth);
    if (lane == 0) {
      const double lp_t = double(Acc(x[p.offset(n, t)]) - m - lse);
      const double w_t = class_weight(weight, t);
      losses[n] = class_weight(element, n) *
                  (-(1.0 - p.smoothing) * w_t * lp_t - p.smoothing / double(p.classes) * smooth);
      counted[n] = divisor_share(p, weight, element, n, t);
    }
  }
}

// One block: out[0] = sum(losses) (/ the divisor for "mean" and "valid"); divisor[0] =
// sum(counted), at least 1 for "valid".
template <typename T>
__global__ void reduce_losses(int64_t positions, Reduction reduction, const double* losses,
                              const double* counted, T* out, double* divisor) {
  double l = 0, w = 0;
  for (int64_t n = threadIdx.x; n < positions; n += blockDim.x) {
    if (losses) l += losses[n];
    w += counted[n];
  }
  l = cuda_detail::block_sum(l);
  w = cuda_detail::block_sum(w);
  if (threadIdx.x == 0) {
    if (reduction == Reduction::valid) w = max(w, 1.0);
    const bool divide = reduction == Reduction::mean || reduction == Reduction::valid;
    if (out) out[0] = static_cast<T>(divide ? l / w : l);
    if (divisor) divisor[0] = w;
  }
}

template <typename T>
__global__ void write_losses(int64_t positions, const double* losses, T* out) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t n = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; n < positions;
       n += stride) {
    out[n] = static_cast<T>(losses[n]);
  }
}

// counted[n] alone (the "mean" / "valid" divisor of the backward).
template <typename T>
__global__ void count_targets(Problem p, const int64_t* target, const T* weight, const T* element,
                              double* counted) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t n = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; n < p.positions;
       n += stride) {
    const int64_t t = target[n];
    if (t == p.ignore_index) {
      counted[n] = 0.0;
      continue;
    }
    cuda_check_index("cross_entropy_backward", "target", t, p.classes);
    counted[n] = divisor_share(p, weight, element, n, t);
  }
}

// grad[n, c] = s_n (a_c - softmax_c * sum_k a_k), a_c = -(1 - eps) w[t] [c == t] - eps/C w[c].
template <typename T>
__global__ void backward_rows(Problem p, const T* g, const T* x, const int64_t* target,
                              const T* weight, const T* element, const double* divisor, T* grad) {
  using Acc = cuda_acc_t<T>;
  const int lane = threadIdx.x % kWarp;
  const int64_t warps = static_cast<int64_t>(gridDim.x) * (blockDim.x / kWarp);
  const double eps_c = p.smoothing / double(p.classes);
  for (int64_t n = (static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) / kWarp;
       n < p.positions; n += warps) {
    const int64_t t = target[n];
    if (t == p.ignore_index) {
      for (int64_t c = lane; c < p.classes; c += kWarp) grad[p.offset(n, c)] = T(0);
      continue;
    }
    double s = p.reduction == Reduction::none ? double(g[n]) : double(g[0]);
    if (p.reduction == Reduction::mean || p.reduction == Reduction::valid) s /= divisor[0];
    s *= class_weight(element, n);
    Acc m, lse;
    row_lse<T, Acc>(p, x, n, lane, &m, &lse);
    double weight_total = 0;
    for (int64_t c = lane; c < p.classes; c += kWarp) weight_total += class_weight(weight, c);
    weight_total = warp_sum(weight_total);
    const double sum_a = -(1.0 - p.smoothing) * class_weight(weight, t) - eps_c * weight_total;
    for (int64_t c = lane; c < p.classes; c += kWarp) {
      const double a = (c == t ? -(1.0 - p.smoothing) * class_weight(weight, t) : 0.0) -
                       eps_c * class_weight(weight, c);
      const double prob = double(exp(Acc(x[p.offset(n, c)]) - m - lse));
      grad[p.offset(n, c)] = static_cast<T>(s * (a - prob * sum_a));
    }
  }
}

unsigned row_blocks(int64_t positions) {
  const int64_t rows_per_block = cuda_detail::kThreads / kWarp;
  return cuda_detail::blocks_for((positions + rows_per_block - 1) / rows_per_block *
                                 cuda_detail::kThreads);
}

template <typename T>
const T* optional_data(const Tensor& t) {
  return t.defined() ? static_cast<const T*>(t.raw_data()) : nullptr;
}

void forward_kernel(KernelContext& ctx) {
  check_cuda_operands(ctx);
  autograd::NoGradGuard no_grad;
  Tensor x = ctx.input(0).contiguous();
  Tensor target = ctx.input(1).contiguous();
  Tensor weight = ctx.input(2).defined() ? ctx.input(2).contiguous() : Tensor();
  Tensor element = ctx.input(3).defined() ? ctx.input(3).contiguous() : Tensor();
  const Problem p = problem_of(ctx, x);
  const bool none = p.reduction == Reduction::none;
  const Tensor& given = ctx.output(0, none ? target.shape() : Shape{}, x.dtype());
  Tensor out = given.is_contiguous() ? given : Tensor::empty(given.shape(), x.dtype(), x.device());
  const int64_t slots = std::max<int64_t>(1, p.positions);
  Tensor losses = Tensor::empty({slots}, DType::f64, x.device());
  Tensor counted = Tensor::empty({slots}, DType::f64, x.device());
  cuda::DeviceGuard guard(x.device().index);
  cudaStream_t stream = cuda::current_stream();
  OSPREY_DISPATCH_FLOAT(x.dtype(), "cross_entropy", [&]<typename T>() {
    double* lp = static_cast<double*>(losses.raw_data());
    double* cp = static_cast<double*>(counted.raw_data());
    if (p.positions > 0) {
      forward_rows<T><<<row_blocks(p.positions), cuda_detail::kThreads, 0, stream>>>(
          p, static_cast<const T*>(x.raw_data()), static_cast<const int64_t*>(target.raw_data()),
          optional_data<T>(weight), optional_data<T>(element), lp, cp);
      OSPREY_CUDA_LAUNCH_CHECK();
    }
    T* op = static_cast<T*>(out.raw_data());
    if (none) {
      if (p.positions > 0) {
        write_losses<T><<<cuda_detail::blocks_for(p.positions), cuda_detail::kThreads, 0, stream>>>(
            p.positions, lp, op);
        OSPREY_CUDA_LAUNCH_CHECK();
      }
    } else {
      reduce_losses<T>
          <<<1, cuda_detail::kThreads, 0, stream>>>(p.positions, p.reduction, lp, cp, op, nullptr);
      OSPREY_CUDA_LAUNCH_CHECK();
    }
  });
  if (!out.is_same(given) && given.numel() > 0) dispatch::call_out("copy", given, {out});
}

void backward_kernel(KernelContext& ctx) {
  check_cuda_operands(ctx);
  autograd::NoGradGuard no_grad;
  Tensor g = ctx.input(0).contiguous();
  Tensor x = ctx.input(1).contiguous();
  Tensor target = ctx.input(2).contiguous();
  Tensor weight = ctx.input(3).defined() ? ctx.input(3).contiguous() : Tensor();
  Tensor element = ctx.input(4).defined() ? ctx.input(4).contiguous() : Tensor();
  const Problem p = problem_of(ctx, x);
  const Tensor& given = ctx.output(0, x.shape(), x.dtype());
  if (given.numel() == 0) return;
  Tensor out = given.is_contiguous() ? given : Tensor::empty(x.shape(), x.dtype(), x.device());
  Tensor counted = Tensor::empty({std::max<int64_t>(1, p.positions)}, DType::f64, x.device());
  Tensor divisor = Tensor::empty({1}, DType::f64, x.device());
  cuda::DeviceGuard guard(x.device().index);
  cudaStream_t stream = cuda::current_stream();
  OSPREY_DISPATCH_FLOAT(x.dtype(), "cross_entropy_backward", [&]<typename T>() {
    const T* wp = optional_data<T>(weight);
    const T* ep = optional_data<T>(element);
    const int64_t* tp = static_cast<const int64_t*>(target.raw_data());
    double* dp = static_cast<double*>(divisor.raw_data());
    if (p.reduction == Reduction::mean || p.reduction == Reduction::valid) {
      double* cp = static_cast<double*>(counted.raw_data());
      count_targets<T><<<cuda_detail::blocks_for(p.positions), cuda_detail::kThreads, 0, stream>>>(
          p, tp, wp, ep, cp);
      OSPREY_CUDA_LAUNCH_CHECK();
      reduce_losses<T><<<1, cuda_detail::kThreads, 0, stream>>>(p.positions, p.reduction, nullptr,
                                                                cp, nullptr, dp);
      OSPREY_CUDA_LAUNCH_CHECK();
    }
    backward_rows<T><<<row_blocks(p.positions), cuda_detail::kThreads, 0, stream>>>(
        p, static_cast<const T*>(g.raw_data()), static_cast<const T*>(x.raw_data()), tp, wp, ep, dp,
        static_cast<T*>(out.raw_data()));
    OSPREY_CUDA_LAUNCH_CHECK();
  });
  if (!out.is_same(given)) dispatch::call_out("copy", given, {out});
}

// The logits' dtype decides (targets are i64).
bool float_logits(const KernelContext& ctx, int index) {
  const DType d = ctx.input(index).dtype();
  return d == DType::f32 || d == DType::f64;
}

const bool registered = [] {
  const char* doc = "warp per position: stable log-softmax and the loss or gradient row";
  register_kernel(
      "cross_entropy", DeviceType::cuda, "native", 0, forward_kernel,
      [](const KernelContext& ctx) { return float_logits(ctx, 0); }, doc);
  register_kernel(
      "cross_entropy_backward", DeviceType::cuda, "native", 0, backward_kernel,
      [](const KernelContext& ctx) { return float_logits(ctx, 1); }, doc);
  return true;
}();

}  // namespace
}  // namespace osprey::ops
