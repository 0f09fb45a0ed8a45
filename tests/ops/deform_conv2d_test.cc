// Known values, identities with conv2d, the two boundary rules and error paths of deform_conv2d
// and its backward ops, run on every CPU kernel.
#include <gtest/gtest.h>

#include <cmath>

#include "ops/cat/cat.h"
#include "ops/common/case_helpers.h"
#include "ops/conv2d/conv2d.h"
#include "ops/conv2d/conv2d_geometry.h"
#include "ops/deform_conv2d/deform_conv2d.h"
#include "ops/factory/factory.h"
#include "tests/ops/kernel_loop.h"

namespace osprey {
namespace {

using testing::error_message;
using testing::for_each_cpu_kernel;
using Ints = std::vector<int64_t>;

// Forces `impl` for `op` on the CPU for a scope.
struct Force {
  const char* op;
  Force(const char* op, const char* impl) : op(op) {
    dispatch::Registry::instance().set_override(op, DeviceType::cpu, impl);
  }
  ~Force() { dispatch::Registry::instance().clear_override(op, DeviceType::cpu); }
};

void expect_near_all(const Tensor& got, const Tensor& want, double tol) {
  ASSERT_EQ(got.shape(), want.shape());
  auto a = got.to_vector<double>(), b = want.to_vector<double>();
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], tol) << i;
}

void expect_values(const Tensor& t, const std::vector<double>& want) {
  auto got = t.to_vector<double>();
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-12) << i;
}

struct Geo {
  Shape input, weight;
  Ints stride, padding, dilation;
  int64_t groups;
};

std::vector<Geo> geometries() {
  return {{{2, 4, 6, 5}, {6, 2, 3, 3}, {1}, {1}, {1}, 2},
          {{1, 3, 7, 6}, {2, 3, 3, 2}, {2, 1}, {1, 0}, {1, 2}, 1},
          {{2, 2, 5, 5}, {3, 2, 1, 1}, {1}, {0}, {1}, 1}};
}

Shape out_hw(const Geo& g) {
  ops::ConvGeometry geo{};
  for (int d = 0; d < 2; ++d) {
    geo.stride[d] = g.stride.size() == 1 ? g.stride[0] : g.stride[d];
    geo.padding[d] = g.padding.size() == 1 ? g.padding[0] : g.padding[d];
    geo.dilation[d] = g.dilation.size() == 1 ? g.dilation[0] : g.dilation[d];
  }
  return {geo.output_size(0, g.input[2], g.weight[2]), geo.output_size(1, g.input[3], g.weight[3])};
}

// With zero offsets and a unit mask every tap lands on its integer grid point: the f64 reference
// is conv2d's reference bit for bit, under both boundary rules and with 1 or 2 offset groups.
TEST(DeformConv2d, ZeroOffsetsUnitMaskIsConv2dExactly) {
  ops::CaseRandom rng(3);
  for (const Geo& g : geometries()) {
    const Shape hw = out_hw(g);
    const int64_t taps = g.weight[2] * g.weight[3];
    Tensor x = rng.uniform(g.input, DType::f64);
    Tensor w = rng.uniform(g.weight, DType::f64);
    Tensor b = rng.uniform({g.weight[0]}, DType::f64);
    Tensor want;
    {
      Force f("conv2d", "reference");
      want = ops::conv2d(x, w, b, g.stride, g.padding, g.dilation, g.groups);
    }
    for (int64_t offset_groups : {int64_t{1}, int64_t{2}}) {
      if (g.input[1] % offset_groups != 0) continue;
      Tensor offset = ops::zeros({g.input[0], 2 * offset_groups * taps, hw[0], hw[1]}, DType::f64);
      Tensor mask = ops::ones({g.input[0], offset_groups * taps, hw[0], hw[1]}, DType::f64);
      for (const char* boundary : {"torchvision", "mxnet_v1"}) {
        SCOPED_TRACE(boundary);
        Force f("deform_conv2d", "reference");
        for (const Tensor& m : {mask, Tensor{}}) {
          Tensor got = ops::deform_conv2d(x, offset, w, b, m, g.stride, g.padding, g.dilation,
                                          g.groups, boundary);
          ASSERT_EQ(got.shape(), want.shape());
          auto a = got.to_vector<double>(), e = want.to_vector<double>();
          for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i], e[i]) << i;
        }
      }
      for_each_cpu_kernel("deform_conv2d", [&] {
        expect_near_all(
            ops::deform_conv2d(x, offset, w, b, mask, g.stride, g.padding, g.dilation, g.groups),
            want, 1e-12);
      });
    }
  }
}

// The gradients agree with conv2d's too (input, weight; bias trivially).
TEST(DeformConv2d, ZeroOffsetsGradientsAreConv2dGradients) {
  ops::CaseRandom rng(5);
  const Geo g = geometries()[0];
  const Shape hw = out_hw(g);
  Tensor x = rng.uniform(g.input, DType::f64);
  Tensor w = rng.uniform(g.weight, DType::f64);
  Tensor gy = rng.uniform({g.input[0], g.weight[0], hw[0], hw[1]}, DType::f64);
  Tensor offset = ops::zeros({g.input[0], 2 * 9, hw[0], hw[1]}, DType::f64);
  Tensor want_dx =
      ops::conv2d_backward_input(gy, w, g.input, g.stride, g.padding, g.dilation, g.groups);
  Tensor want_dw =
      ops::conv2d_backward_weight(gy, x, g.weight, g.stride, g.padding, g.dilation, g.groups);
  for_each_cpu_kernel("deform_conv2d_backward", [&] {
    auto grads = ops::deform_conv2d_backward(gy, x, offset, w, {}, g.stride, g.padding, g.dilation,
                                             g.groups, "torchvision");
    expect_near_all(grads.input, want_dx, 1e-12);
  });
  for_each_cpu_kernel("deform_conv2d_backward_weight", [&] {
    expect_near_all(
        ops::deform_conv2d_backward_weight(gy, x, offset, {}, g.weight, g.stride, g.padding,
                                           g.dilation, g.groups, "torchvision"),
        want_dw, 1e-12);
  });
}

// All Δx = +1 reads one column to the right: conv2d of the input shifted left by one column with
// a zero column filled in on the right; all Δy = +1 likewise shifts up by one row.
TEST(DeformConv2d, IntegerOffsetsAreShiftedConv2d) {
  ops::CaseRandom rng(9);
  Tensor x = rng.uniform({2, 3, 5, 6}, DType::f64);
  Tensor w = rng.uniform({4, 3, 3, 2}, DType::f64);
  Tensor b = rng.uniform({4}, DType::f64);
  const int64_t taps = 6, Ho = 3, Wo = 5;
  Tensor shifted_x = ops::cat({x.slice(3, 1, 6), ops::zeros({2, 3, 5, 1}, DType::f64)}, 3);
  Tensor shifted_y = ops::cat({x.slice(2, 1, 5), ops::zeros({2, 3, 1, 6}, DType::f64)}, 2);
  std::vector<double> dx(2 * 2 * taps * Ho * Wo, 0.0), dy = dx;
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t k = 0; k < taps; ++k)
      for (int64_t ij = 0; ij < Ho * Wo; ++ij) {
        dx[((n * 2 * taps) + 2 * k + 1) * Ho * Wo + ij] = 1.0;
        dy[((n * 2 * taps) + 2 * k) * Ho * Wo + ij] = 1.0;
      }
  Tensor off_x = Tensor::from_vector<double>(dx, {2, 2 * taps, Ho, Wo});
  Tensor off_y = Tensor::from_vector<double>(dy, {2, 2 * taps, Ho, Wo});
  Tensor want_x = ops::conv2d(shifted_x, w, b);
  Tensor want_y = ops::conv2d(shifted_y, w, b);
  for_each_cpu_kernel("deform_conv2d", [&] {
    for (const char* boundary : {"torchvision", "mxnet_v1"}) {
      SCOPED_TRACE(boundary);
      expect_near_all(ops::deform_conv2d(x, off_x, w, b, {}, {1}, {0}, {1}, 1, boundary), want_x,
                      1e-12);
      expect_near_all(ops::deform_conv2d(x, off_y, w, b, {}, {1}, {0}, {1}, 1, boundary), want_y,
                      1e-12);
    }
  });
}

// x = 1..9 (3×3), a 1×1 unit kernel: the output is the sampled value. Hand-computed samples:
//   (0,0) Δy = -0.5 → y = -0.5: torchvision 0.5·x[0,0] (the row above reads 0) = 0.5; v1 0
//   (0,2) Δx = +0.5 → x = 2.5 = W - 0.5: torchvision 0.5·x[0,2] = 1.5; v1 clamps: x[0,2] = 3
//   (1,2) Δy = +0.5 → y = 1.5 inside: both 0.5·(6 + 9) = 7.5
//   (2,1) Δy = +0.5 → y = 2.5 = H - 0.5: torchvision 0.5·x[2,1] = 4; v1 clamps: x[2,1] = 8
TEST(DeformConv2d, BoundaryRulesDifferAtTheEdges) {
  Tensor x = Tensor::from_vector<double>({1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 1, 3, 3});
  Tensor w = Tensor::from_vector<double>({1}, {1, 1, 1, 1});
  std::vector<double> off(2 * 9, 0.0);  // channel 0: Δy, channel 1: Δx, each 3×3
  off[0 * 9 + 0] = -0.5;
  off[1 * 9 + 2] = 0.5;
  off[0 * 9 + 5] = 0.5;
  off[0 * 9 + 7] = 0.5;
  Tensor offset = Tensor::from_vector<double>(off, {1, 2, 3, 3});
  Tensor g = ops::ones({1, 1, 3, 3}, DType::f64);
  for_each_cpu_kernel("deform_conv2d", [&] {
    expect_values(ops::deform_conv2d(x, offset, w, {}, {}, {1}, {0}, {1}, 1, "torchvision"),
                  {0.5, 2, 1.5, 4, 5, 7.5, 7, 4, 9});
    expect_values(ops::deform_conv2d(x, offset, w, {}, {}, {1}, {0}, {1}, 1, "mxnet_v1"),
                  {0, 2, 3, 4, 5, 7.5, 7, 8, 9});
  });
  // ∂/∂Δy = hx·(x[y1,x0] - x[y0,x0]) + lx·(x[y1,x1] - x[y0,x1]) and ∂/∂Δx alike, with corners
  // outside reading 0 (torchvision); v1 gives 0 for the invalid sample (0,0) and along clamped
  // directions (last row for Δy, last column for Δx). E.g. torchvision at (0,0): ∂/∂Δy =
  // x[0,0] - 0 = 1, ∂/∂Δx = 0.5·(x[0,1] - x[0,0]) = 0.5; at (1,2) (y = 1.5, x = 2):
  // ∂/∂Δx = 0.5·(0 - 6) + 0.5·(0 - 9) = -7.5.
  for_each_cpu_kernel("deform_conv2d_backward", [&] {
    auto tv = ops::deform_conv2d_backward(g, x, offset, w, {}, {1}, {0}, {1}, 1, "torchvision");
    expect_values(tv.offset.slice(1, 0, 1), {1, 3, 1.5, 3, 3, 3, -7, -8, -9});
    expect_values(tv.offset.slice(1, 1, 2), {0.5, 1, -3, 1, 1, -7.5, 1, 0.5, -9});
    auto v1 = ops::deform_conv2d_backward(g, x, offset, w, {}, {1}, {0}, {1}, 1, "mxnet_v1");
    expect_values(v1.offset.slice(1, 0, 1), {0, 3, 3, 3, 3, 3, 0, 0, 0});
    expect_values(v1.offset.slice(1, 1, 2), {0, 1, 0, 1, 1, 0, 1, 1, 0});
  });
}

// DCNv1 (no mask) is DCNv2 with an all-ones mask: same values, same gradients.
TEST(DeformConv2d, NoMaskEqualsUnitMask) {
  ops::CaseRandom rng(13);
  Tensor x = rng.uniform({2, 4, 5, 5}, DType::f64);
  Tensor offset = rng.uniform({2, 2 * 2 * 9, 5, 5}, DType::f64, -2.0, 2.0);
  Tensor w = rng.uniform({3, 4, 3, 3}, DType::f64);
  Tensor mask = ops::ones({2, 2 * 9, 5, 5}, DType::f64);
  Tensor gy = rng.uniform({2, 3, 5, 5}, DType::f64);
  for (const char* boundary : {"torchvision", "mxnet_v1"}) {
    SCOPED_TRACE(boundary);
    for_each_cpu_kernel("deform_conv2d", [&] {
      auto a = ops::deform_conv2d(x, offset, w, {}, {}, {1}, {1}, {1}, 1, boundary);
      auto b = ops::deform_conv2d(x, offset, w, {}, mask, {1}, {1}, {1}, 1, boundary);
      auto va = a.to_vector<double>(), vb = b.to_vector<double>();
      for (size_t i = 0; i < va.size(); ++i) EXPECT_EQ(va[i], vb[i]) << i;
    });
    for_each_cpu_kernel("deform_conv2d_backward", [&] {
      auto a = ops::deform_conv2d_backward(gy, x, offset, w, {}, {1}, {1}, {1}, 1, boundary);
      auto b = ops::deform_conv2d_backward(gy, x, offset, w, mask, {1}, {1}, {1}, 1, boundary);
      expect_near_all(a.input, b.input, 0);
      expect_near_all(a.offset, b.offset, 0);
      expect_near_all(a.mask, b.mask, 0);
    });
  }
}

// Autograd reaches all five inputs with their shapes.
TEST(DeformConv2d, AutogradReachesEveryInput) {
  ops::CaseRandom rng(17);
  Tensor x = rng.uniform({1, 2, 4, 4}, DType::f64).set_requires_grad();
  Tensor offset = rng.uniform({1, 18, 4, 4}, DType::f64, -1.5, 1.5).set_requires_grad();
  Tensor w = rng.uniform({3, 2, 3, 3}, DType::f64).set_requires_grad();
  Tensor b = rng.uniform({3}, DType::f64).set_requires_grad();
  Tensor mask = rng.uniform({1, 9, 4, 4}, DType::f64, 0, 1).set_requires_grad();
  ops::deform_conv2d(x, offset, w, b, mask, {1}, {1}).backward(ops::ones({1, 3, 4, 4}, DType::f64));
  EXPECT_EQ(x.grad().shape(), x.shape());
  EXPECT_EQ(offset.grad().shape(), offset.shape());
  EXPECT_EQ(w.grad().shape(), w.shape());
  EXPECT_EQ(mask.grad().shape(), mask.shape());
  expect_values(b.grad(), {16, 16, 16});
}

// The fast kernel splits a batch into balanced chunks of images, one chunk per thread at a time,
// bounded by its buffer budget (2^25 elements): here each image's columns are 256·3·3 × 60·60 ≈
// 8.3M, so the 5 images go in chunks of at most 2 (4 with one thread). The batch must give what
// each image gives on its own (one chunk, checked against the reference by the case list); weight
// gradients sum over the images.
TEST(DeformConv2d, ChunkedBatchMatchesSingleImages) {
  ops::CaseRandom rng(21);
  const int64_t N = 5, C = 256, S = 60, O = 4;
  const Shape wsize{O, C, 3, 3};
  Tensor x = rng.uniform({N, C, S, S}, DType::f32);
  Tensor offset = rng.uniform({N, 2 * 9, S, S}, DType::f32, -2.0, 2.0);
  Tensor mask = rng.uniform({N, 9, S, S}, DType::f32);
  Tensor w = rng.uniform(wsize, DType::f32, -0.05, 0.05);
  Tensor gy = rng.uniform({N, O, S, S}, DType::f32);
  Force f1("deform_conv2d", "im2col_gemm");
  Force f2("deform_conv2d_backward", "im2col_gemm");
  Force f3("deform_conv2d_backward_weight", "im2col_gemm");
  const char* tv = "torchvision";
  Tensor y = ops::deform_conv2d(x, offset, w, {}, mask, {1}, {1});
  auto grads = ops::deform_conv2d_backward(gy, x, offset, w, mask, {1}, {1}, {1}, 1, tv);
  Tensor dw = ops::deform_conv2d_backward_weight(gy, x, offset, mask, wsize, {1}, {1}, {1}, 1, tv);
  std::vector<double> dw_sum(dw.numel(), 0.0);
  for (int64_t n = 0; n < N; ++n) {
    SCOPED_TRACE(n);
    auto one = [&](const Tensor& t) { return t.narrow(0, n, 1).contiguous(); };
    expect_near_all(one(y), ops::deform_conv2d(one(x), one(offset), w, {}, one(mask), {1}, {1}),
                    1e-4);
    auto g1 = ops::deform_conv2d_backward(one(gy), one(x), one(offset), w, one(mask), {1}, {1}, {1},
                                          1, tv);
    expect_near_all(one(grads.input), g1.input, 1e-4);
    expect_near_all(one(grads.offset), g1.offset, 1e-3);
    expect_near_all(one(grads.mask), g1.mask, 1e-3);
    auto d1 = ops::deform_conv2d_backward_weight(one(gy), one(x), one(offset), one(mask), wsize,
                                                 {1}, {1}, {1}, 1, tv)
                  .to_vector<double>();
    for (size_t i = 0; i < d1.size(); ++i) dw_sum[i] += d1[i];
  }
  auto dw_all = dw.to_vector<double>();
  for (size_t i = 0; i < dw_all.size(); ++i) {
    EXPECT_NEAR(dw_all[i], dw_sum[i], 1e-4 * std::abs(dw_sum[i]) + 1e-2) << i;
  }
}

TEST(DeformConv2d, ShapeErrorsNameOpArgumentAndShapes) {
  Tensor x = Tensor::empty({1, 4, 5, 5}, DType::f32);
  Tensor w = Tensor::empty({2, 4, 3, 3}, DType::f32);
  std::string m = error_message([&] {
    ops::deform_conv2d(x, Tensor::empty({1, 17, 3, 3}, DType::f32), w);
  });
  EXPECT_NE(m.find("deform_conv2d"), std::string::npos) << m;
  EXPECT_NE(m.find("offset [1, 17, 3, 3]"), std::string::npos) << m;
  EXPECT_NE(m.find("multiple of 18"), std::string::npos) << m;

  // 3 offset groups do not divide 4 channels.
  m = error_message([&] { ops::deform_conv2d(x, Tensor::empty({1, 54, 3, 3}, DType::f32), w); });
  EXPECT_NE(m.find("offset [1, 54, 3, 3]"), std::string::npos) << m;
  EXPECT_NE(m.find("[1, 4, 5, 5]"), std::string::npos) << m;

  m = error_message([&] { ops::deform_conv2d(x, Tensor::empty({1, 18, 4, 3}, DType::f32), w); });
  EXPECT_NE(m.find("deform_conv2d: offset [1, 18, 4, 3]"), std::string::npos) << m;
  EXPECT_NE(m.find("expected [1, 18, 3, 3]"), std::string::npos) << m;

  Tensor offset = Tensor::empty({1, 36, 3, 3}, DType::f32);  // 2 offset groups
  m = error_message([&] {
    ops::deform_conv2d(x, offset, w, {}, Tensor::empty({1, 9, 3, 3}, DType::f32));
  });
  EXPECT_NE(m.find("deform_conv2d: mask f32[1, 9, 3, 3]"), std::string::npos) << m;
  EXPECT_NE(m.find("expected [1, 18, 3, 3]"), std::string::npos) << m;

  m = error_message([&] { ops::deform_conv2d(x, offset, w, {}, {}, {1}, {0}, {1}, 1, "clamp"); });
  EXPECT_NE(m.find("boundary must be \"torchvision\" or \"mxnet_v1\""), std::string::npos) << m;

  m = error_message([&] {
    ops::deform_conv2d_backward(Tensor::empty({1, 2, 4, 4}, DType::f32), x, offset, w, {}, {1}, {0},
                                {1}, 1, "torchvision");
  });
  EXPECT_NE(m.find("deform_conv2d_backward: grad_output"), std::string::npos) << m;
  EXPECT_NE(m.find("[1, 2, 3, 3]"), std::string::npos) << m;
}

}  // namespace
}  // namespace osprey
