// The attributes of a 2-d convolution, read once and shared by the op definitions and kernels.
#pragma once

#include <cstdint>

#include "framework/dispatch/attributes.h"

namespace osprey::ops {

struct ConvGeometry {
  int64_t stride[2];
  int64_t padding[2];
  int64_t dilation[2];
  int64_t groups;

  // Reads stride/padding/dilation (one int or two) and groups; errors name `op` and the attribute.
  static ConvGeometry from_attrs(const dispatch::Attrs& attrs, const char* op);
  // The output extent along dim d (0: height, 1: width) for an input extent and a kernel extent.
  int64_t output_size(int d, int64_t in, int64_t kernel) const {
    return (in + 2 * padding[d] - dilation[d] * (kernel - 1) - 1) / stride[d] + 1;
  }
};

// Sizes of one convolution: input N×C×H×W, weight O×Cg×kH×kW, output N×O×Ho×Wo, G groups of Cg
// input and Og output channels, K = Cg·kH·kW rows of a column matrix, plane = Ho·Wo.
struct ConvSizes {
  int64_t N, C, H, W, O, kH, kW, Ho, Wo, G, Cg, Og, K, plane;
  ConvSizes(const Shape& input, const Shape& weight, const ConvGeometry& g)
      : N(input[0]),
        C(input[1]),
        H(input[2]),
        W(input[3]),
        O(weight[0]),
        kH(weight[2]),
        kW(weight[3]),
        Ho(g.output_size(0, H, kH)),
        Wo(g.output_size(1, W, kW)),
        G(g.groups),
        Cg(C / G),
        Og(O / G),
        K(Cg * kH * kW),
        plane(Ho * Wo) {}
};

}  // namespace osprey::ops
