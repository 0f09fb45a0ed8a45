// cuda/im2col_gemm kernels of deform_conv2d and its backward ops: the CPU im2col_gemm scheme
// (deform_conv2d_im2col.cc) on the device, on the current stream. Images go in chunks (columns
// buffer bounded to kColumnBudget elements); per chunk:
//   deformable im2col, one thread per (image, channel, tap, output pixel), sampling with
//   bilinear_corners (deform_conv2d_geometry.h, shared with the CPU kernel); one cuBLAS gemm per
//   conv group over the chunk (row-major C = A·B run as column-major Cᵀ = Bᵀ·Aᵀ; f32 uses TF32
//   only when cuda::allow_tf32(), through the handle's math mode);
//   grad_input: col2im scattering colgrad · m onto the four corners with atomic adds — NOT
//     deterministic: float sums land in arrival order, so results may differ from run to run
//     (and from the CPU) in the last bits;
//   grad_offset, grad_mask: one thread per (image, offset group, tap, output pixel) summing over
//     the group's channels — deterministic.
// f32 and f64, like the reference. Inputs are made contiguous first; strided outputs are computed
// contiguous and copied in.
#include <climits>

#include "framework/autograd/grad_mode.h"
#include "ops/common/cuda_index.cuh"
#include "ops/common/cuda_launch.cuh"
#include "ops/common/cuda_loops.cuh"
#include "ops/common/op_helpers.h"
#include "ops/deform_conv2d/deform_conv2d_geometry.h"

namespace osprey::ops {
namespace {

constexpr int64_t kColumnBudget = int64_t{1} << 26;  // elements of the columns buffer per chunk

// What a device kernel needs of the geometry (plain values, copied by launch).
struct DeviceGeo {
  int64_t C, H, W, O, kW, Ho, Wo, taps, offset_groups, Coff, plane;
  int64_t stride[2], padding[2], dilation[2];
  bool mxnet_v1;
};

DeviceGeo device_geo(const DeformGeometry& d) {
  DeviceGeo g{};
  g.C = d.C;
  g.H = d.H;
  g.W = d.W;
  g.O = d.O;
  g.kW = d.kW;
  g.Ho = d.Ho;
  g.Wo = d.Wo;
  g.taps = d.taps;
  g.offset_groups = d.offset_groups;
  g.Coff = d.Coff;
  g.plane = d.Ho * d.Wo;
  for (int k = 0; k < 2; ++k) {
    g.stride[k] = d.conv.stride[k];
    g.padding[k] = d.conv.padding[k];
    g.dilation[k] = d.conv.dilation[k];
  }
  g.mxnet_v1 = d.boundary == DeformBoundary::mxnet_v1;
  return g;
}

// The sample of image n, offset group a, tap k at output pixel ij.
template <typename T>
__device__ BilinearCorners<T> sample(const DeviceGeo& g, const T* offset, int64_t n, int64_t a,
                                     int64_t k, int64_t ij) {
  const int64_t i = ij / g.Wo, j = ij % g.Wo, p = k / g.kW, q = k % g.kW;
  const T* dy = offset + ((n * g.offset_groups + a) * g.taps + k) * 2 * g.plane;
  const T y = static_cast<T>(i * g.stride[0] - g.padding[0] + p * g.dilation[0]) + dy[ij];
  const T x = static_cast<T>(j * g.stride[1] - g.padding[1] + q * g.dilation[1]) + dy[g.plane + ij];
  return bilinear_corners<T>(y, x, g.H, g.W, g.mxnet_v1);
}

template <typename T>
__device__ T mask_at(const DeviceGeo& g, const T* mask, int64_t n, int64_t a, int64_t k,
                     int64_t ij) {
  return mask ? mask[((n * g.offset_groups + a) * g.taps + k) * g.plane + ij] : T(1);
}

// Element e of a (B, count, taps, plane) range: image b (of the chunk), channel or offset group
// c, tap k, output pixel ij.
struct TapIndex {
  int64_t b, c, k, ij;
};
__device__ TapIndex tap_index(const DeviceGeo& g, int64_t e, int64_t count) {
  return {e / (g.plane * g.taps * count), (e / (g.plane * g.taps)) % count, (e / g.plane) % g.taps,
          e % g.plane};
}

// col[(c·taps + k)][b·plane + ij] for images n0 + b, b < B.
template <typename T>
__global__ void im2col_kernel(DeviceGeo g, const T* x, const T* offset, const T* mask, int64_t n0,
                              int64_t B, T* col) {
  const int64_t width = B * g.plane;
  for (int64_t e = grid_first(), total = B * g.C * g.taps * g.plane; e < total; e += grid_step()) {
    const auto [b, c, k, ij] = tap_index(g, e, g.C);
    const int64_t n = n0 + b, a = c / g.Coff;
    const BilinearCorners<T> s = sample(g, offset, n, a, k, ij);
    const T* X = x + (n * g.C + c) * g.H * g.W;
    T v = 0;
    for (int t = 0; t < 4; ++t) v += s.weight[t] * X[s.index[t]];
    col[(c * g.taps + k) * width + b * g.plane + ij] = v * mask_at(g, mask, n, a, k, ij);
  }
}

// grad_input += colgrad · m on the corners (atomics: several taps share a pixel).
template <typename T>
__global__ void col2im_kernel(DeviceGeo g, const T* colgrad, const T* offset, const T* mask,
                              int64_t n0, int64_t B, T* grad_input) {
  const int64_t width = B * g.plane;
  for (int64_t e = grid_first(), total = B * g.C * g.taps * g.plane; e < total; e += grid_step()) {
    const auto [b, c, k, ij] = tap_index(g, e, g.C);
    const int64_t n = n0 + b, a = c / g.Coff;
    const BilinearCorners<T> s = sample(g, offset, n, a, k, ij);
    const T v =
        colgrad[(c * g.taps + k) * width + b * g.plane + ij] * mask_at(g, mask, n, a, k, ij);
    T* dX = grad_input + (n * g.C + c) * g.H * g.W;
    for (int t = 0; t < 4; ++t) {
      if (s.weight[t] != T(0)) cuda_atomic_add(dX + s.index[t], s.weight[t] * v);
    }
  }
}

// grad_offset and grad_mask, one thread per (image, offset group, tap, output pixel).
template <typename T>
__global__ void offset_mask_kernel(DeviceGeo g, const T* x, const T* colgrad, const T* offset,
                                   const T* mask, int64_t n0, int64_t B, T* grad_offset,
                                   T* grad_mask) {
  const int64_t width = B * g.plane;
  for (int64_t e = grid_first(), total = B * g.offset_groups * g.taps * g.plane; e < total;
       e += grid_step()) {
    const auto [b, a, k, ij] = tap_index(g, e, g.offset_groups);
    const int64_t n = n0 + b;
    const BilinearCorners<T> s = sample(g, offset, n, a, k, ij);
    T gy = 0, gx = 0, gm = 0;
    for (int64_t c = a * g.Coff; c < (a + 1) * g.Coff; ++c) {
      const T* X = x + (n * g.C + c) * g.H * g.W;
      const T v = colgrad[(c * g.taps + k) * width + b * g.plane + ij];
      T val = 0, dy = 0, dx = 0;
      for (int t = 0; t < 4; ++t) {
        const T px = X[s.index[t]];
        val += s.weight[t] * px;
        dy += s.dweight_dy[t] * px;
        dx += s.dweight_dx[t] * px;
      }
      gm += v * val;
      gy += v * dy;
      gx += v * dx;
    }
    const T m = mask_at(g, mask, n, a, k, ij);
    const int64_t row = (n * g.offset_groups + a) * g.taps + k;
    grad_offset[row * 2 * g.plane + ij] = gy * m;
    grad_offset[(row * 2 + 1) * g.plane + ij] = gx * m;
    grad_mask[row * g.plane + ij] = gm;
  }
}

// rows[o][b·plane + ij] = t[n0 + b][o][ij].
template <typename T>
__global__ void gather_rows_kernel(DeviceGeo g, const T* t, int64_t n0, int64_t B, T* rows) {
  for (int64_t e = grid_first(), total = B * g.O * g.plane; e < total; e += grid_step()) {
    const int64_t ij = e % g.plane, o = (e / g.plane) % g.O, b = e / (g.plane * g.O);
    rows[o * B * g.plane + b * g.plane + ij] = t[e + n0 * g.O * g.plane];
  }
}

// y[n0 + b][o][ij] = rows[o][b·plane + ij] + bias[o].
template <typename T>
__global__ void scatter_rows_kernel(DeviceGeo g, const T* rows, const T* bias, int64_t bias_stride,
                                    int64_t n0, int64_t B, T* y) {
  for (int64_t e = grid_first(), total = B * g.O * g.plane; e < total; e += grid_step()) {
    const int64_t ij = e % g.plane, o = (e / g.plane) % g.O, b = e / (g.plane * g.O);
    y[e + n0 * g.O * g.plane] =
        rows[o * B * g.plane + b * g.plane + ij] + (bias ? bias[o * bias_stride] : T(0));
  }
}

int i32(int64_t v) {
  OSPREY_CHECK(v <= INT_MAX,
               "deform_conv2d/cuda/im2col_gemm: size {} exceeds cuBLAS's 32-bit range", v);
  return static_cast<int>(v);
}

// Row-major C (m × n) = op(A) · op(B) + beta·C as column-major Cᵀ = op(B)ᵀ · op(A)ᵀ.
void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
          const float* b, int64_t ldb, float beta, float* c) {
  const float one = 1.0f;
  OSPREY_CUBLAS_CHECK(cublasSgemm(cuda::cublas_handle(), tb ? CUBLAS_OP_T : CUBLAS_OP_N,
                                  ta ? CUBLAS_OP_T : CUBLAS_OP_N, i32(n), i32(m), i32(k), &one, b,
                                  i32(ldb), a, i32(lda), &beta, c, i32(n)));
}
void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const double* a, int64_t lda,
          const double* b, int64_t ldb, double beta, double* c) {
  const double one = 1.0;
  OSPREY_CUBLAS_CHECK(cublasDgemm(cuda::cublas_handle(), tb ? CUBLAS_OP_T : CUBLAS_OP_N,
                                  ta ? CUBLAS_OP_T : CUBLAS_OP_N, i32(n), i32(m), i32(k), &one, b,
                                  i32(ldb), a, i32(lda), &beta, c, i32(n)));
}

struct Plan {
  DeformGeometry d;
  DeviceGeo g;
  int64_t G, Og, K, chunk;
  explicit Plan(const DeformGeometry& geo) : d(geo), g(device_geo(geo)) {
    G = d.conv.groups;
    Og = d.O / G;
    K = d.Cg * d.taps;
    const int64_t per_image = std::max<int64_t>(1, d.C * d.taps * g.plane);
    const int64_t most = std::max<int64_t>(1, kColumnBudget / per_image);
    const int64_t chunks = std::max<int64_t>(1, (d.N + most - 1) / most);
    chunk = std::max<int64_t>(1, (d.N + chunks - 1) / chunks);
  }
  // Device buffers for one chunk, like `x`: columns [C·taps][chunk·plane] and rows
  // [O][chunk·plane].
  Tensor columns(const Tensor& x) const {
    return Tensor::empty({d.C * d.taps * chunk * g.plane}, x.dtype(), x.device());
  }
  Tensor rows(const Tensor& x) const {
    return Tensor::empty({d.O * chunk * g.plane}, x.dtype(), x.device());
  }
};

Tensor contiguous_or_none(const Tensor& t) {
  return t.defined() ? t.contiguous() : Tensor{};
}

template <typename T>
const T* ptr(const Tensor& t) {
  return t.defined() ? static_cast<const T*>(t.raw_data()) : nullptr;
}
template <typename T>
T* mut(const Tensor& t) {
  return static_cast<T*>(t.raw_data());
}

void zero(const Tensor& t, cudaStream_t stream) {
  if (t.numel() > 0) OSPREY_CUDA_CHECK(cudaMemsetAsync(t.raw_data(), 0, t.nbytes(), stream));
}

using cuda_detail::blocks_for;
using cuda_detail::kThreads;

// col = the deformable im2col of images n0 .. n0 + B - 1 (forward and grad_weight).
template <typename T>
void launch_im2col(const Plan& s, const Tensor& x, const Tensor& offset, const Tensor& mask,
                   int64_t n0, int64_t B, const Tensor& col, cudaStream_t stream) {
  im2col_kernel<T><<<blocks_for(B * s.d.C * s.d.taps * s.g.plane), kThreads, 0, stream>>>(
      s.g, ptr<T>(x), ptr<T>(offset), ptr<T>(mask), n0, B, mut<T>(col));
  OSPREY_CUDA_LAUNCH_CHECK();
}

// rows = grad_output of images n0 .. n0 + B - 1 as [O][B·plane] (grad_input and grad_weight).
template <typename T>
void launch_gather_rows(const Plan& s, const Tensor& grad, int64_t n0, int64_t B,
                        const Tensor& rows, cudaStream_t stream) {
  gather_rows_kernel<T><<<blocks_for(B * s.d.O * s.g.plane), kThreads, 0, stream>>>(
      s.g, ptr<T>(grad), n0, B, mut<T>(rows));
  OSPREY_CUDA_LAUNCH_CHECK();
}

template <typename T>
void forward_kernel(KernelContext& ctx) {
  const Tensor x = ctx.input(0).contiguous();
  const Tensor offset = ctx.input(1).contiguous();
  const Tensor w = ctx.input(2).contiguous();
  const Tensor& bias = ctx.input(3);
  const Tensor mask = contiguous_or_none(ctx.input(4));
  const Plan s(
      DeformGeometry::from(ctx.attrs(), x.shape(), w.shape(), offset.shape(), "deform_conv2d"));
  const DeformGeometry& d = s.d;
  Tensor& out = ctx.output(0, d.output_shape(), x.dtype(), deform_layout(ctx.input(0)));
  if (out.numel() == 0) return;
  const Tensor res = dense_like(out);
  cudaStream_t stream = cuda::current_stream();
  const Tensor col = s.columns(x), rows = s.rows(x);
  for (int64_t n0 = 0; n0 < d.N; n0 += s.chunk) {
    const int64_t B = std::min(s.chunk, d.N - n0), width = B * s.g.plane;
    launch_im2col<T>(s, x, offset, mask, n0, B, col, stream);
    for (int64_t g = 0; g < s.G; ++g) {
      T* dst = mut<T>(rows) + g * s.Og * width;
      if (s.K == 0) {
        OSPREY_CUDA_CHECK(cudaMemsetAsync(dst, 0, s.Og * width * sizeof(T), stream));
        continue;
      }
      gemm(false, false, s.Og, width, s.K, ptr<T>(w) + g * s.Og * s.K, s.K,
           ptr<T>(col) + g * s.K * width, width, T(0), dst);
    }
    scatter_rows_kernel<T><<<blocks_for(B * d.O * s.g.plane), kThreads, 0, stream>>>(
        s.g, ptr<T>(rows), ptr<T>(bias), bias.defined() ? bias.stride(0) : 0, n0, B, mut<T>(res));
    OSPREY_CUDA_LAUNCH_CHECK();
  }
  store_dense(res, out);
}

template <typename T>
void backward_weight_kernel(KernelContext& ctx) {
  const Tensor grad = ctx.input(0).contiguous();
  const Tensor x = ctx.input(1).contiguous();
  const Tensor offset = ctx.input(2).contiguous();
  const Tensor mask = contiguous_or_none(ctx.input(3));
  const Shape weight_size = ctx.attrs().get_ints("weight_size");
  const Plan s(DeformGeometry::from(ctx.attrs(), x.shape(), weight_size, offset.shape(),
                                    "deform_conv2d_backward_weight"));
  const DeformGeometry& d = s.d;
  Tensor& out = ctx.output(0, weight_size, grad.dtype());
  if (out.numel() == 0) return;
  const Tensor res = dense_like(out);
  cudaStream_t stream = cuda::current_stream();
  zero(res, stream);
  const Tensor col = s.columns(x), rows = s.rows(x);
  for (int64_t n0 = 0; n0 < d.N; n0 += s.chunk) {
    const int64_t B = std::min(s.chunk, d.N - n0), width = B * s.g.plane;
    launch_im2col<T>(s, x, offset, mask, n0, B, col, stream);
    launch_gather_rows<T>(s, grad, n0, B, rows, stream);
    for (int64_t g = 0; g < s.G; ++g) {
      gemm(false, true, s.Og, s.K, width, ptr<T>(rows) + g * s.Og * width, width,
           ptr<T>(col) + g * s.K * width, width, T(1), mut<T>(res) + g * s.Og * s.K);
    }
  }
  store_dense(res, out);
}

template <typename T>
void backward_kernel(KernelContext& ctx) {
  const Tensor grad = ctx.input(0).contiguous();
  const Tensor x = ctx.input(1).contiguous();
  const Tensor offset = ctx.input(2).contiguous();
  const Tensor w = ctx.input(3).contiguous();
  const Tensor mask = contiguous_or_none(ctx.input(4));
  const Plan s(DeformGeometry::from(ctx.attrs(), x.shape(), w.shape(), offset.shape(),
                                    "deform_conv2d_backward"));
  const DeformGeometry& d = s.d;
  Tensor& out_input = ctx.output(0, x.shape(), x.dtype(), deform_layout(ctx.input(1)));
  Tensor& out_offset = ctx.output(1, offset.shape(), x.dtype());
  Tensor& out_mask = ctx.output(2, d.mask_shape(), x.dtype());
  const Tensor gi = dense_like(out_input), go = dense_like(out_offset), gm = dense_like(out_mask);
  cudaStream_t stream = cuda::current_stream();
  zero(gi, stream);
  zero(go, stream);
  zero(gm, stream);
  if (d.C > 0 && d.N > 0) {
    const Tensor colgrad = s.columns(x), rows = s.rows(x);
    for (int64_t n0 = 0; n0 < d.N; n0 += s.chunk) {
      const int64_t B = std::min(s.chunk, d.N - n0), width = B * s.g.plane;
      launch_gather_rows<T>(s, grad, n0, B, rows, stream);
      for (int64_t g = 0; g < s.G; ++g) {
        T* dst = mut<T>(colgrad) + g * s.K * width;
        if (s.Og == 0) {
          OSPREY_CUDA_CHECK(cudaMemsetAsync(dst, 0, s.K * width * sizeof(T), stream));
          continue;
        }
        gemm(true, false, s.K, width, s.Og, ptr<T>(w) + g * s.Og * s.K, s.K,
             ptr<T>(rows) + g * s.Og * width, width, T(0), dst);
      }
      col2im_kernel<T><<<blocks_for(B * d.C * d.taps * s.g.plane), kThreads, 0, stream>>>(
          s.g, ptr<T>(colgrad), ptr<T>(offset), ptr<T>(mask), n0, B, mut<T>(gi));
      OSPREY_CUDA_LAUNCH_CHECK();
      offset_mask_kernel<T>
          <<<blocks_for(B * d.offset_groups * d.taps * s.g.plane), kThreads, 0, stream>>>(
              s.g, ptr<T>(x), ptr<T>(colgrad), ptr<T>(offset), ptr<T>(mask), n0, B, mut<T>(go),
              mut<T>(gm));
      OSPREY_CUDA_LAUNCH_CHECK();
    }
  }
  store_dense(gi, out_input);
  store_dense(go, out_offset);
  store_dense(gm, out_mask);
}

const bool registered = [] {
  auto fp = [](const KernelContext& ctx) { return inputs_are_float(ctx); };
  register_kernel("deform_conv2d", DeviceType::cuda, "im2col_gemm", 10,
                  on_cuda_by_float_dtype<forward_kernel<float>, forward_kernel<double>>, fp,
                  "deformable im2col kernel + cuBLAS gemm per group over chunks of images");
  register_kernel("deform_conv2d_backward", DeviceType::cuda, "im2col_gemm", 10,
                  on_cuda_by_float_dtype<backward_kernel<float>, backward_kernel<double>>, fp,
                  "cuBLAS gemm (weightT x grad), col2im with atomic adds (not deterministic), "
                  "per-tap offset/mask sums");
  register_kernel(
      "deform_conv2d_backward_weight", DeviceType::cuda, "im2col_gemm", 10,
      on_cuda_by_float_dtype<backward_weight_kernel<float>, backward_weight_kernel<double>>, fp,
      "deformable im2col kernel + cuBLAS gemm (grad x colT) over chunks of images");
  return true;
}();

}  // namespace
}  // namespace osprey::ops
