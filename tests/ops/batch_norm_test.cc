// Known values, running-stat updates, eval mode, gradients and error paths of batch_norm,
// batch_norm_backward and frozen_batch_norm.
#include <gtest/gtest.h>

#include <cmath>

#include "framework/autograd/gradcheck.h"
#include "framework/dispatch/registry.h"
#include "ops/batch_norm/batch_norm.h"
#include "ops/elementwise/elementwise.h"
#include "ops/factory/factory.h"
#include "ops/reduce/reduce.h"
#include "tests/ops/kernel_loop.h"

namespace osprey {
namespace {

using testing::error_message;
using testing::for_each_cpu_kernel;

// x[n][c][h][w] = 8n + 4c + 2h + w: channel 0 holds 0..3 and 8..11, channel 1 holds 4..7 and
// 12..15. Both have mean (channel 0) 5.5 / (channel 1) 9.5, sum of squared deviations
// 2 * (5.5² + 4.5² + 3.5² + 2.5²) = 138, biased variance 138 / 8 = 17.25, unbiased 138 / 7.
Tensor known_input() {
  return ops::arange(16.0, DType::f64).reshape({2, 2, 2, 2});
}

TEST(BatchNorm, TrainingKnownValues) {
  Tensor x = known_input();
  Tensor w = Tensor::from_vector<double>({2, 1}, {2});
  Tensor b = Tensor::from_vector<double>({0, 1}, {2});
  const double invstd = 1 / std::sqrt(17.25);
  for_each_cpu_kernel("batch_norm", [&] {
    auto r = ops::batch_norm(x, w, b, Tensor(), Tensor(), true, 0.1, 0.0);
    auto y = r.output.to_vector<double>();
    ASSERT_EQ(y.size(), 16u);
    EXPECT_NEAR(y[0], (0 - 5.5) * invstd * 2, 1e-12);    // x[0][0][0][0] = 0
    EXPECT_NEAR(y[3], (3 - 5.5) * invstd * 2, 1e-12);    // x[0][0][1][1] = 3
    EXPECT_NEAR(y[4], (4 - 9.5) * invstd + 1, 1e-12);    // x[0][1][0][0] = 4
    EXPECT_NEAR(y[11], (11 - 5.5) * invstd * 2, 1e-12);  // x[1][0][1][1] = 11
    EXPECT_NEAR(y[15], (15 - 9.5) * invstd + 1, 1e-12);  // x[1][1][1][1] = 15
    EXPECT_EQ(r.save_mean.to_vector<double>(), (std::vector<double>{5.5, 9.5}));
    for (double v : r.save_invstd.to_vector<double>()) EXPECT_NEAR(v, invstd, 1e-12);
  });
}

TEST(BatchNorm, RunningStatsUpdatedWithUnbiasedVariance) {
  for (DType dtype : {DType::f32, DType::f64}) {
    Tensor x = known_input().to(dtype);
    Tensor rm = ops::zeros({2}, dtype);
    Tensor rv = ops::ones({2}, dtype);
    const uint64_t before = rm.version();
    ops::batch_norm(x, Tensor(), Tensor(), rm, rv, true, 0.1, 1e-5);
    EXPECT_GT(rm.version(), before);
    auto mean = rm.to(DType::f64).to_vector<double>();
    auto var = rv.to(DType::f64).to_vector<double>();
    EXPECT_NEAR(mean[0], 0.1 * 5.5, 1e-6);
    EXPECT_NEAR(mean[1], 0.1 * 9.5, 1e-6);
    for (double v : var) EXPECT_NEAR(v, 0.9 + 0.1 * 138.0 / 7.0, 1e-5);
  }
}

TEST(BatchNorm, EvalUsesRunningStats) {
  Tensor x = known_input();
  Tensor rm = Tensor::from_vector<double>({1, 2}, {2});
  Tensor rv = Tensor::from_vector<double>({4, 0.25}, {2});
  const uint64_t before = rm.version();
  auto r = ops::batch_norm(x, Tensor(), Tensor(), rm, rv, false, 0.1, 0.0);
  auto y = r.output.to_vector<double>();
  EXPECT_NEAR(y[0], (0 - 1) / 2.0, 1e-12);
  EXPECT_NEAR(y[3], (3 - 1) / 2.0, 1e-12);
  EXPECT_NEAR(y[4], (4 - 2) / 0.5, 1e-12);
  EXPECT_NEAR(y[15], (15 - 2) / 0.5, 1e-12);
  EXPECT_EQ(rm.version(), before);
  EXPECT_EQ(rm.to_vector<double>(), (std::vector<double>{1, 2}));
  EXPECT_EQ(rv.to_vector<double>(), (std::vector<double>{4, 0.25}));
  EXPECT_EQ(r.save_mean.to_vector<double>(), (std::vector<double>{1, 2}));
  EXPECT_EQ(r.save_invstd.to_vector<double>(), (std::vector<double>{0.5, 2}));
}

TEST(BatchNorm, ChannelsLastMatchesContiguous) {
  Tensor x = known_input();
  Tensor w = Tensor::from_vector<double>({2, 1}, {2});
  auto a = ops::batch_norm(x, w, Tensor(), Tensor(), Tensor()).output;
  auto b =
      ops::batch_norm(x.contiguous(MemoryFormat::channels_last), w, Tensor(), Tensor(), Tensor())
          .output;
  auto av = a.to_vector<double>(), bv = b.to_vector<double>();
  for (size_t i = 0; i < av.size(); ++i) EXPECT_NEAR(av[i], bv[i], 1e-12);
}

TEST(BatchNorm, GradcheckInBothModes) {
  const auto& def = dispatch::Registry::instance().op("batch_norm");
  int training = 0, eval = 0;
  for (const auto& c : def.cases(DType::f64, 5)) {
    if (c.skip_gradcheck) continue;
    auto result = autograd::gradcheck_op("batch_norm", c);
    EXPECT_TRUE(result.ok) << c.name << ": " << result.message;
    (c.attrs.get_bool("training") ? training : eval)++;
  }
  EXPECT_GT(training, 0);
  EXPECT_GT(eval, 0);
}

TEST(BatchNorm, BackwardKnownSums) {
  // grad_bias is sum(g) and grad_weight sum(g * xhat) per channel; with g = 1 the training-mode
  // grad_input is zero (a shift of x leaves the normalised output unchanged).
  Tensor x = known_input();
  Tensor g = ops::ones({2, 2, 2, 2}, DType::f64);
  Tensor mean = Tensor::from_vector<double>({5.5, 9.5}, {2});
  Tensor invstd = Tensor::from_vector<double>({0.5, 0.5}, {2});
  for_each_cpu_kernel("batch_norm_backward", [&] {
    auto [gi, gw, gb] = ops::batch_norm_backward(g, x, Tensor(), mean, invstd, true);
    for (double v : gi.to_vector<double>()) EXPECT_NEAR(v, 0, 1e-12);
    for (double v : gw.to_vector<double>()) EXPECT_NEAR(v, 0, 1e-12);
    EXPECT_EQ(gb.to_vector<double>(), (std::vector<double>{8, 8}));
    auto [ei, ew, eb] = ops::batch_norm_backward(g, x, Tensor(), mean, invstd, false);
    for (double v : ei.to_vector<double>()) EXPECT_NEAR(v, 0.5, 1e-12);
  });
}

TEST(BatchNorm, TwoForwardsSharingRunningStatsStillBackward) {
  // The running stats are not saved for the backward, so a second training call that updates
  // them in place does not invalidate the first call's graph.
  Tensor rm = ops::zeros({2}, DType::f64);
  Tensor rv = ops::ones({2}, DType::f64);
  Tensor x = known_input().clone().set_requires_grad();
  Tensor y1 = ops::batch_norm(x, Tensor(), Tensor(), rm, rv).output;
  Tensor y2 = ops::batch_norm(x, Tensor(), Tensor(), rm, rv).output;
  ops::sum(ops::mul(ops::add(y1, y2), x)).backward();
  EXPECT_TRUE(x.grad().defined());
}

TEST(BatchNorm, ErrorsNameOpAndShapes) {
  Tensor x = known_input();
  auto msg = error_message(
      [&] { ops::batch_norm(x, ops::ones({3}, DType::f64), Tensor(), Tensor(), Tensor()); });
  EXPECT_NE(msg.find("batch_norm"), std::string::npos) << msg;
  EXPECT_NE(msg.find("weight"), std::string::npos) << msg;
  EXPECT_NE(msg.find("[3]"), std::string::npos) << msg;
  EXPECT_NE(msg.find("[2, 2, 2, 2]"), std::string::npos) << msg;
  msg = error_message([&] { ops::batch_norm(x, Tensor(), Tensor(), Tensor(), Tensor(), false); });
  EXPECT_NE(msg.find("running_mean"), std::string::npos) << msg;
  msg = error_message([&] {
    ops::batch_norm(ops::ones({1, 2}, DType::f64), Tensor(), Tensor(), Tensor(), Tensor());
  });
  EXPECT_NE(msg.find("more than 1 value per channel"), std::string::npos) << msg;
}

TEST(FrozenBatchNorm, PerChannelAffineMatchesEvalBatchNorm) {
  Tensor x = known_input();
  Tensor w = Tensor::from_vector<double>({2, 1}, {2});
  Tensor b = Tensor::from_vector<double>({0, 1}, {2});
  Tensor rm = Tensor::from_vector<double>({1, 2}, {2});
  Tensor rv = Tensor::from_vector<double>({4, 0.25}, {2});
  // scale = w / sqrt(rv) = [1, 2], shift = b - rm * scale = [-1, -3].
  Tensor scale = Tensor::from_vector<double>({1, 2}, {2});
  Tensor shift = Tensor::from_vector<double>({-1, -3}, {2});
  auto frozen = ops::frozen_batch_norm(x, scale, shift).to_vector<double>();
  auto eval = ops::batch_norm(x, w, b, rm, rv, false, 0.1, 0.0).output.to_vector<double>();
  EXPECT_NEAR(frozen[0], -1, 1e-12);
  EXPECT_NEAR(frozen[4], 4 * 2 - 3, 1e-12);
  for (size_t i = 0; i < eval.size(); ++i) EXPECT_NEAR(frozen[i], eval[i], 1e-12);
  auto msg = error_message([&] { ops::frozen_batch_norm(x, ops::ones({3}, DType::f64), shift); });
  EXPECT_NE(msg.find("frozen_batch_norm"), std::string::npos) << msg;
  EXPECT_NE(msg.find("scale"), std::string::npos) << msg;
}

}  // namespace
}  // namespace osprey
