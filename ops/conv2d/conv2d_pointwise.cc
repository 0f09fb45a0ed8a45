// cpu/pointwise kernels of conv2d and its backward ops for 1×1 convolutions with stride 1, no
// padding and one group (most of ResNet-50's FLOPs). Such a convolution is a plain matrix product
// over the pixels, so the input is read in place: no im2col copy, no scatter of the result.
//   NCHW (per image n, X_n is C × HW):   Y_n = W · X_n,   dX_n = Wᵀ · G_n,   dW = Σ_n G_n · X_nᵀ
//   channels-last (X is N·HW × C):       Y = X · Wᵀ,      dX = G · W,        dW = Gᵀ · X
// NCHW runs the images in parallel (a fixed split over OpenMP threads, single-threaded GEMMs,
// weight-gradient partial sums added in thread order); channels-last is one threaded GEMM over
// all pixels. Other calls go on to cpu/direct_avx512.
#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <vector>

#include "ops/common/cpu_gemm.h"
#include "ops/common/op_helpers.h"
#include "ops/conv2d/conv2d_geometry.h"

namespace osprey::ops {
namespace {

bool nchw(const Tensor& t) {
  return t.is_contiguous();
}
bool nhwc(const Tensor& t) {
  return t.is_contiguous(MemoryFormat::channels_last);
}

// A 1×1 kernel, stride 1, no padding, one group (dilation does not matter for 1×1).
bool pointwise_geometry(const KernelContext& ctx, const Shape& weight, const char* op) {
  if (!inputs_are_float(ctx) || weight.size() != 4 || weight[2] != 1 || weight[3] != 1)
    return false;
  const ConvGeometry g = ConvGeometry::from_attrs(ctx.attrs(), op);
  return g.groups == 1 && g.stride[0] == 1 && g.stride[1] == 1 && g.padding[0] == 0 &&
         g.padding[1] == 0;
}

// Runs body(first_image, images) over a fixed split of N images among the OpenMP threads (the
// same split every run, so partial sums add up the same), or over all images on one thread.
template <typename F>
void for_each_split(int64_t N, F&& body) {
  const int64_t threads =
      omp_in_parallel() ? 1 : std::max<int64_t>(1, std::min<int64_t>(omp_get_max_threads(), N));
  if (threads <= 1) {
    body(int64_t(0), int64_t(0), N);
    return;
  }
  SingleThreadedBlas single;
#pragma omp parallel num_threads(int(threads))
  {
    const int64_t t = omp_get_thread_num();
    const int64_t lo = N * t / threads, hi = N * (t + 1) / threads;
    if (hi > lo) body(t, lo, hi - lo);
  }
}

int64_t split_threads(int64_t N) {
  return omp_in_parallel() ? 1 : std::max<int64_t>(1, std::min<int64_t>(omp_get_max_threads(), N));
}

// The output slot, or a fresh tensor of the wanted layout when an out= tensor has other strides
// (copied into the slot by finish()).
Tensor dense_target(const Tensor& out, MemoryFormat format) {
  return out.is_contiguous(format) ? out
                                   : Tensor::empty(out.shape(), out.dtype(), out.device(), format);
}
void finish(Tensor& out, const Tensor& res) {
  if (!res.is_same(out)) out.copy_(res);
}

template <typename T>
void forward(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor w = ctx.input(1).contiguous();
  const Tensor bias = ctx.num_inputs() > 2 ? ctx.input(2) : Tensor{};
  const int64_t N = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3), O = w.size(0);
  const int64_t P = H * W;
  const bool cl = !nchw(x);
  const MemoryFormat format = cl ? MemoryFormat::channels_last : MemoryFormat::contiguous;
  Tensor& out = ctx.output(0, {N, O, H, W}, x.dtype(), format);
  if (out.numel() == 0) return;
  const Tensor res = dense_target(out, format);
  const T* wd = w.data<T>();
  const T* xd = x.data<T>();
  T* yd = res.data<T>();
  const T* bd = bias.defined() ? bias.data<T>() : nullptr;
  const int64_t bs = bias.defined() ? bias.stride(0) : 0;
  if (cl) {
    const int64_t rows = N * P;
    if (bd) {
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t o = 0; o < O; ++o) yd[r * O + o] = bd[o * bs];
    }
    if (C == 0) {
      if (!bd) std::fill(yd, yd + rows * O, T(0));
    } else {
      gemm(CblasNoTrans, CblasTrans, rows, O, C, xd, C, wd, C, bd ? T(1) : T(0), yd, O);
    }
  } else {
    for_each_split(N, [&](int64_t, int64_t n0, int64_t count) {
      for (int64_t n = n0; n < n0 + count; ++n) {
        T* yn = yd + n * O * P;
        if (C == 0) {
          std::fill(yn, yn + O * P, T(0));
        } else {
          gemm(CblasNoTrans, CblasNoTrans, O, P, C, wd, C, xd + n * C * P, P, T(0), yn, P);
        }
        if (bd) {
          for (int64_t o = 0; o < O; ++o) {
            const T add = bd[o * bs];
            for (int64_t k = 0; k < P; ++k) yn[o * P + k] += add;
          }
        }
      }
    });
  }
  finish(out, res);
}

template <typename T>
void backward_input(KernelContext& ctx) {
  const Tensor& g = ctx.input(0);
  const Tensor w = ctx.input(1).contiguous();
  const Shape input_size = ctx.attrs().get_ints("input_size");
  const int64_t N = input_size[0], C = input_size[1], P = input_size[2] * input_size[3];
  const int64_t O = w.size(0);
  const bool cl = !nchw(g);
  const MemoryFormat format = cl ? MemoryFormat::channels_last : MemoryFormat::contiguous;
  Tensor& out = ctx.output(0, input_size, g.dtype(), format);
  if (out.numel() == 0) return;
  const Tensor res = dense_target(out, format);
  const T* wd = w.data<T>();
  const T* gd = g.data<T>();
  T* xd = res.data<T>();
  if (O == 0) {
    std::fill(xd, xd + res.numel(), T(0));
  } else if (cl) {
    gemm(CblasNoTrans, CblasNoTrans, N * P, C, O, gd, O, wd, C, T(0), xd, C);
  } else {
    for_each_split(N, [&](int64_t, int64_t n0, int64_t count) {
      for (int64_t n = n0; n < n0 + count; ++n)
        gemm(CblasTrans, CblasNoTrans, C, P, O, wd, C, gd + n * O * P, P, T(0), xd + n * C * P, P);
    });
  }
  finish(out, res);
}

template <typename T>
void backward_weight(KernelContext& ctx) {
  const Tensor& g = ctx.input(0);
  const Tensor& x = ctx.input(1);
  const Shape weight_size = ctx.attrs().get_ints("weight_size");
  const int64_t N = x.size(0), C = x.size(1), P = x.size(2) * x.size(3), O = weight_size[0];
  Tensor& out = ctx.output(0, weight_size, g.dtype());
  if (out.numel() == 0) return;
  const Tensor res = dense_target(out, MemoryFormat::contiguous);
  T* dw = res.data<T>();
  const T* gd = g.data<T>();
  const T* xd = x.data<T>();
  if (N * P == 0) {
    std::fill(dw, dw + O * C, T(0));
  } else if (!(nchw(g) && nchw(x))) {  // both channels-last (supports checked it)
    gemm(CblasTrans, CblasNoTrans, O, C, N * P, gd, O, xd, C, T(0), dw, C);
  } else {
    const int64_t threads = split_threads(N);
    std::vector<std::vector<T>> part(size_t(threads - 1));
    for (auto& p : part) p.assign(size_t(O * C), T(0));
    std::fill(dw, dw + O * C, T(0));
    for_each_split(N, [&](int64_t t, int64_t n0, int64_t count) {
      T* acc = t == 0 ? dw : part[size_t(t - 1)].data();
      for (int64_t n = n0; n < n0 + count; ++n)
        gemm(CblasNoTrans, CblasTrans, O, C, P, gd + n * O * P, P, xd + n * C * P, P, T(1), acc, C);
    });
    for (const auto& p : part)
      for (int64_t k = 0; k < O * C; ++k) dw[k] += p[size_t(k)];
  }
  finish(out, res);
}

bool forward_supported(const KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  return pointwise_geometry(ctx, ctx.input(1).shape(), "conv2d") && (nchw(x) || nhwc(x));
}
bool backward_input_supported(const KernelContext& ctx) {
  const Tensor& g = ctx.input(0);
  return pointwise_geometry(ctx, ctx.input(1).shape(), "conv2d_backward_input") &&
         (nchw(g) || nhwc(g));
}
bool backward_weight_supported(const KernelContext& ctx) {
  const Tensor& g = ctx.input(0);
  const Tensor& x = ctx.input(1);
  return pointwise_geometry(ctx, ctx.attrs().get_ints("weight_size"), "conv2d_backward_weight") &&
         ((nchw(g) && nchw(x)) || (nhwc(g) && nhwc(x)));
}

// Calls outside this kernel's geometry go on to cpu/direct_avx512 (which hands what it does not
// cover to cpu/batched_gemm), so that the kernel covers every float call: selection by priority
// then still picks the direct kernel for 3x3 convs, and forcing this kernel by name still works.
void or_direct(const char* op, KernelContext& ctx, bool fits, void (*own)(KernelContext&)) {
  if (fits) {
    own(ctx);
    return;
  }
  dispatch::Registry::instance().kernel(op, DeviceType::cpu, "direct_avx512").fn(ctx);
}

template <typename T>
void forward_any(KernelContext& ctx) {
  or_direct("conv2d", ctx, forward_supported(ctx), forward<T>);
}
template <typename T>
void backward_input_any(KernelContext& ctx) {
  or_direct("conv2d_backward_input", ctx, backward_input_supported(ctx), backward_input<T>);
}
template <typename T>
void backward_weight_any(KernelContext& ctx) {
  or_direct("conv2d_backward_weight", ctx, backward_weight_supported(ctx), backward_weight<T>);
}

// Above cpu/direct_avx512 (30), which would send 1x1 calls to cpu/batched_gemm's im2col.
const bool registered = [] {
  register_kernel(
      "conv2d", DeviceType::cpu, "pointwise", 35,
      [](KernelContext& ctx) {
        ctx.input(0).dtype() == DType::f64 ? forward_any<double>(ctx) : forward_any<float>(ctx);
      },
      [](const KernelContext& ctx) { return inputs_are_float(ctx); },
      "1x1, stride 1, no padding, one group, dense NCHW or channels-last input: the input read in "
      "place as a GEMM operand (per image in parallel for NCHW, one GEMM over all pixels for "
      "channels-last); other calls run cpu/direct_avx512");
  register_kernel(
      "conv2d_backward_input", DeviceType::cpu, "pointwise", 35,
      [](KernelContext& ctx) {
        ctx.input(0).dtype() == DType::f64 ? backward_input_any<double>(ctx)
                                           : backward_input_any<float>(ctx);
      },
      [](const KernelContext& ctx) { return inputs_are_float(ctx); },
      "1x1, stride 1, no padding, one group: weightT x grad per image (NCHW) or grad x weight over "
      "all pixels (channels-last), no col2im; other calls run cpu/direct_avx512");
  register_kernel(
      "conv2d_backward_weight", DeviceType::cpu, "pointwise", 35,
      [](KernelContext& ctx) {
        ctx.input(0).dtype() == DType::f64 ? backward_weight_any<double>(ctx)
                                           : backward_weight_any<float>(ctx);
      },
      [](const KernelContext& ctx) { return inputs_are_float(ctx); },
      "1x1, stride 1, no padding, one group: grad x inputT per image with per-thread partial sums "
      "(NCHW) or gradT x input over all pixels (channels-last); other calls run "
      "cpu/direct_avx512");
  return true;
}();

}  // namespace
}  // namespace osprey::ops
