// Deformable 2-d convolution (DCNv1 / DCNv2, torchvision's deform_conv2d) and its gradients as ops.
//
//   deform_conv2d(input, offset, weight, bias?, mask?; stride=[1,1], padding=[0,0],
//                 dilation=[1,1], groups=1, boundary="torchvision")
//     input  N × C × H × W,  weight O × (C/groups) × kH × kW,  bias O (optional)
//     offset N × 2·G·K × Ho × Wo,  mask N × G·K × Ho × Wo (optional),  K = kH·kW
//     output N × O × Ho × Wo, Ho and Wo as conv2d's (conv2d.h)
//   G, the number of offset groups, is implied by offset's channel count (2·G·K); input channel c
//   uses the offset field of group a = c / (C/G). Kernel tap k = p·kW + q (row-major). Offsets are
//   interleaved per tap as in torchvision and the DCN papers: offset channel a·2K + 2k is Δy
//   (rows), a·2K + 2k + 1 is Δx (columns). The tap samples the input at
//     y = i·sH − pH + p·dH + Δy[n, a, k, i, j],   x = j·sW − pW + q·dW + Δx[n, a, k, i, j]
//   and
//     out[n,o,i,j] = b[o] + Σ_{c,p,q} w[o,c,p,q] · m[n, a·K + k, i, j] · B(x[n, g·Cg + c]; y, x)
//   with Cg = C/groups, g = o / (O/groups), a the offset group of channel g·Cg + c, and m ≡ 1 when
//   no mask is given (DCNv1; with a mask it is DCNv2's modulation). B is bilinear interpolation:
//     y0 = ⌊y⌋, x0 = ⌊x⌋, ly = y − y0, lx = x − x0, hy = 1 − ly, hx = 1 − lx
//     B = hy·hx·X[y0, x0] + hy·lx·X[y0, x1] + ly·hx·X[y1, x0] + ly·lx·X[y1, x1]
//   The attribute `boundary` picks what happens at the edge of the map:
//     "torchvision" (default; DCNv2, torchvision, mmcv): B = 0 unless −1 < y < H and −1 < x < W;
//       y1 = y0 + 1, x1 = x0 + 1, and any corner outside [0, H) × [0, W) reads 0 (the map is
//       zero-padded by one pixel), so B falls continuously to 0 within one pixel outside the map.
//     "mxnet_v1" (DCNv1 as SNIPER's MXNet op): B = 0 unless 0 ≤ y < H and 0 ≤ x < W; when
//       y0 ≥ H − 1 the sample is clamped to the last row (y0 = y1 = H − 1, ly = 0), else
//       y1 = y0 + 1; likewise x. B therefore jumps to 0 at y < 0 and at y ≥ H.
//   With zero offsets and a unit mask the taps land on integer points and this is conv2d exactly.
//
// Gradients (g: grad_output), all as ops so that each gets fast kernels:
//   (d/dinput, d/doffset, d/dmask) = deform_conv2d_backward(g, input, offset, weight, mask?)
//     v[n,c,k,i,j] = Σ_{o in c's group} g[n,o,i,j] w[o,c,p,q]  (the columns' gradient)
//     dx: v · m scattered onto B's corners with their interpolation weights
//     dΔy[n,a,k,i,j] = Σ_{c in offset group a} v · m · ∂B/∂y, likewise dΔx with ∂B/∂x, where
//       ∂B/∂y = hx·(X[y1,x0] − X[y0,x0]) + lx·(X[y1,x1] − X[y0,x1]) (0 outside the valid region,
//       and 0 in the rows mxnet_v1 clamps, where B does not move with y); likewise ∂B/∂x
//     dm[n,a,k,i,j] = Σ_{c in offset group a} v · B
//     Without a mask, grad_mask is the gradient for an implicit all-ones mask.
//   d/dweight = deform_conv2d_backward_weight(g, input, offset, mask?; weight_size)
//     dw[o,c,p,q] = Σ_{n,i,j} g[n,o,i,j] · m · B(...)   (grad_output times the columns)
//   d/dbias   = Σ_{n,i,j} g[n,o,i,j]
// B is not differentiable where a sample sits exactly on an integer row or column (and, for
// mxnet_v1, at the jumps); there the one-sided derivative from above is returned (torchvision's
// convention). The backward ops themselves are not differentiable (no double backward).
// Inputs may have any strides; the output is channels-last when the input is, else NCHW.
#pragma once

#include <string>
#include <vector>

#include "framework/core/tensor.h"

namespace osprey::ops {

Tensor deform_conv2d(const Tensor& input, const Tensor& offset, const Tensor& weight,
                     const Tensor& bias = {}, const Tensor& mask = {},
                     const std::vector<int64_t>& stride = {1, 1},
                     const std::vector<int64_t>& padding = {0, 0},
                     const std::vector<int64_t>& dilation = {1, 1}, int64_t groups = 1,
                     const std::string& boundary = "torchvision");

struct DeformConv2dGrads {
  Tensor input, offset, mask;
};
DeformConv2dGrads deform_conv2d_backward(const Tensor& grad_output, const Tensor& input,
                                         const Tensor& offset, const Tensor& weight,
                                         const Tensor& mask, const std::vector<int64_t>& stride,
                                         const std::vector<int64_t>& padding,
                                         const std::vector<int64_t>& dilation, int64_t groups,
                                         const std::string& boundary);
Tensor deform_conv2d_backward_weight(const Tensor& grad_output, const Tensor& input,
                                     const Tensor& offset, const Tensor& mask,
                                     const std::vector<int64_t>& weight_size,
                                     const std::vector<int64_t>& stride,
                                     const std::vector<int64_t>& padding,
                                     const std::vector<int64_t>& dilation, int64_t groups,
                                     const std::string& boundary);

}  // namespace osprey::ops
