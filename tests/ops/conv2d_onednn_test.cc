// conv2d/cpu/onednn (built only with libdnnl): the kernels run directly on every f32 case of
// conv2d and its two backward ops, also the shapes their `supports` leaves to our own kernels
// (which the generic harness would skip), and the dispatcher's per-shape choice.
#include <gtest/gtest.h>

#include "framework/autograd/grad_mode.h"
#include "framework/dispatch/registry.h"
#include "ops/common/case_helpers.h"
#include "ops/common/cpu_gemm.h"
#include "ops/conv2d/conv2d.h"
#include "tests/support/op_test_support.h"

namespace osprey {
namespace {

using dispatch::Registry;

const dispatch::Kernel* onednn_kernel(const char* op) {
  for (const auto* k : Registry::instance().kernels(op, DeviceType::cpu))
    if (k->impl == "onednn") return k;
  return nullptr;
}

#define SKIP_WITHOUT_ONEDNN() \
  if (!onednn_kernel("conv2d")) GTEST_SKIP() << "built without oneDNN (libdnnl-dev)"

class Conv2dOnednnCases : public ::testing::TestWithParam<std::string> {};

// Every case, run twice (the second run reuses the cached primitive), against the reference.
TEST_P(Conv2dOnednnCases, EveryCaseMatchesReference) {
  SKIP_WITHOUT_ONEDNN();
  const std::string& op = GetParam();
  auto& registry = Registry::instance();
  const auto& def = registry.op(op);
  const dispatch::Kernel* kernel = onednn_kernel(op.c_str());
  ASSERT_NE(kernel, nullptr);
  autograd::NoGradGuard no_grad;
  dispatch::PoisonOutputsGuard poison;
  for (const auto& c : def.cases(DType::f32, 5)) {
    registry.set_override(op, DeviceType::cpu, "reference");
    const Tensor expected = dispatch::call(op, c.inputs, c.attrs)[0];
    registry.clear_override(op, DeviceType::cpu);
    for (int run = 0; run < 2; ++run) {
      dispatch::KernelContext ctx(def, c.inputs, c.attrs, {}, Device::cpu());
      ctx.set_kernel(kernel);
      kernel->fn(ctx);
      const std::string message =
          testing::compare(ctx.outputs()[0], expected, testing::tolerance_for(DType::f32));
      EXPECT_TRUE(message.empty()) << op << " case " << c.name << " run " << run << ": " << message;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Ops, Conv2dOnednnCases,
                         ::testing::Values("conv2d", "conv2d_backward_input",
                                           "conv2d_backward_weight"),
                         [](const auto& info) { return info.param; });

Tensor conv(const Tensor& x, const Tensor& w, int64_t stride) {
  return ops::conv2d(x, w, {}, {stride, stride}, {1, 1}, {1, 1}, 1);
}

TEST(Conv2dOnednn, ChoosesOnednnForWideAndStridedF32Only) {
  SKIP_WITHOUT_ONEDNN();
  autograd::NoGradGuard no_grad;
  ops::CaseRandom rng(3);
  const Tensor wide = rng.uniform({2, 128, 6, 6}, DType::f32);
  const Tensor w_wide = rng.uniform({128, 128, 3, 3}, DType::f32);
  conv(wide, w_wide, 1);
  EXPECT_EQ(dispatch::last_kernel_key(), "conv2d/cpu/onednn");
  // Stride 2 on few channels: oneDNN.
  const Tensor narrow = rng.uniform({2, 16, 8, 8}, DType::f32);
  const Tensor w_narrow = rng.uniform({32, 16, 3, 3}, DType::f32);
  conv(narrow, w_narrow, 2);
  EXPECT_EQ(dispatch::last_kernel_key(), "conv2d/cpu/onednn");
  // Stride 1 with at most 64 channels stays on our kernels, and so does f64.
  conv(narrow, w_narrow.narrow(0, 0, 16), 1);
  EXPECT_NE(dispatch::last_kernel_key(), "conv2d/cpu/onednn");
  conv(wide.to(DType::f64), w_wide.to(DType::f64), 1);
  EXPECT_NE(dispatch::last_kernel_key(), "conv2d/cpu/onednn");
  // Gradients of a strided conv: onto 3 channels (a stem) and over 16 input channels on ours,
  // over 48 on oneDNN.
  const Tensor g = rng.uniform({2, 64, 4, 4}, DType::f32);
  const Tensor w_stem = rng.uniform({64, 3, 7, 7}, DType::f32);
  ops::conv2d_backward_input(g, w_stem, {2, 3, 8, 8}, {2, 2}, {3, 3}, {1, 1}, 1);
  EXPECT_NE(dispatch::last_kernel_key(), "conv2d_backward_input/cpu/onednn");
  ops::conv2d_backward_weight(g, rng.uniform({2, 16, 8, 8}, DType::f32), {64, 16, 3, 3}, {2, 2},
                              {1, 1}, {1, 1}, 1);
  EXPECT_NE(dispatch::last_kernel_key(), "conv2d_backward_weight/cpu/onednn");
  ops::conv2d_backward_weight(g, rng.uniform({2, 48, 8, 8}, DType::f32), {64, 48, 3, 3}, {2, 2},
                              {1, 1}, {1, 1}, 1);
  EXPECT_EQ(dispatch::last_kernel_key(), "conv2d_backward_weight/cpu/onednn");
}

// With oneDNN's sgemm behind the GEMM kernels, 1×1 convolutions onto 14×14 or more go to them,
// and so does every 1×1 weight gradient; a 1×1 forward onto 7×7 stays on oneDNN.
TEST(Conv2dOnednn, OneByOneGoesToGemmKernelsWithOnednnSgemm) {
  SKIP_WITHOUT_ONEDNN();
  if (ops::sgemm_backend() != ops::SgemmBackend::onednn) GTEST_SKIP() << "OSPREY_SGEMM=openblas";
  autograd::NoGradGuard no_grad;
  ops::CaseRandom rng(5);
  const Tensor w = rng.uniform({256, 128, 1, 1}, DType::f32);
  auto pointwise = [&](int64_t size) {
    return ops::conv2d(rng.uniform({2, 128, size, size}, DType::f32), w, {}, {1, 1}, {0, 0}, {1, 1},
                       1);
  };
  pointwise(14);
  EXPECT_EQ(dispatch::last_kernel_key(), "conv2d/cpu/pointwise");
  pointwise(7);
  EXPECT_EQ(dispatch::last_kernel_key(), "conv2d/cpu/onednn");
  ops::conv2d_backward_weight(rng.uniform({2, 256, 7, 7}, DType::f32),
                              rng.uniform({2, 128, 7, 7}, DType::f32), {256, 128, 1, 1}, {1, 1},
                              {0, 0}, {1, 1}, 1);
  EXPECT_EQ(dispatch::last_kernel_key(), "conv2d_backward_weight/cpu/pointwise");
}

// Channels-last in, channels-last out; a preset output of other strides is filled in place.
TEST(Conv2dOnednn, LayoutsAndPresetOutput) {
  SKIP_WITHOUT_ONEDNN();
  autograd::NoGradGuard no_grad;
  ops::CaseRandom rng(4);
  const Tensor x = rng.uniform({2, 80, 5, 7}, DType::f32).contiguous(MemoryFormat::channels_last);
  const Tensor w = rng.uniform({96, 80, 3, 3}, DType::f32);
  auto& registry = Registry::instance();
  registry.set_override("conv2d", DeviceType::cpu, "reference");
  const Tensor expected = conv(x, w, 1);
  registry.clear_override("conv2d", DeviceType::cpu);
  const Tensor y = conv(x, w, 1);
  EXPECT_EQ(dispatch::last_kernel_key(), "conv2d/cpu/onednn");
  EXPECT_TRUE(y.is_contiguous(MemoryFormat::channels_last));
  EXPECT_EQ(testing::compare(y, expected, testing::tolerance_for(DType::f32)), "");

  // out= a transposed buffer: neither NCHW- nor NHWC-dense (filled by a copy afterwards).
  Tensor out = Tensor::empty({2, 96, 7, 5}, DType::f32).transpose(2, 3);
  dispatch::call("conv2d", {x, w, Tensor{}},
                 dispatch::Attrs{{"stride", std::vector<int64_t>{1, 1}},
                                 {"padding", std::vector<int64_t>{1, 1}},
                                 {"dilation", std::vector<int64_t>{1, 1}},
                                 {"groups", int64_t{1}}},
                 {out});
  EXPECT_EQ(testing::compare(out, expected, testing::tolerance_for(DType::f32)), "");
}

// The weight-gradient call reuses the output gradient that the input-gradient call reordered,
// only while that tensor is unchanged.
TEST(Conv2dOnednn, BackwardPairReusesOutputGradientOnlyWhileUnchanged) {
  SKIP_WITHOUT_ONEDNN();
  autograd::NoGradGuard no_grad;
  ops::CaseRandom rng(5);
  const Tensor x = rng.uniform({2, 96, 6, 6}, DType::f32);
  const Tensor w = rng.uniform({128, 96, 3, 3}, DType::f32);
  Tensor g = rng.uniform({2, 128, 6, 6}, DType::f32);
  auto& registry = Registry::instance();
  auto reference_weight_grad = [&] {
    registry.set_override("conv2d_backward_weight", DeviceType::cpu, "reference");
    Tensor r = ops::conv2d_backward_weight(g, x, w.shape(), {1, 1}, {1, 1}, {1, 1}, 1);
    registry.clear_override("conv2d_backward_weight", DeviceType::cpu);
    return r;
  };
  const auto tol = testing::tolerance_for(DType::f32);
  for (int round = 0; round < 2; ++round) {
    ops::conv2d_backward_input(g, w, x.shape(), {1, 1}, {1, 1}, {1, 1}, 1);
    EXPECT_EQ(dispatch::last_kernel_key(), "conv2d_backward_input/cpu/onednn");
    if (round == 1) g.fill_(0.25);  // a write through an op between the two calls
    const Tensor dw = ops::conv2d_backward_weight(g, x, w.shape(), {1, 1}, {1, 1}, {1, 1}, 1);
    EXPECT_EQ(dispatch::last_kernel_key(), "conv2d_backward_weight/cpu/onednn");
    EXPECT_EQ(testing::compare(dw, reference_weight_grad(), tol), "") << "round " << round;
  }
}

}  // namespace
}  // namespace osprey
