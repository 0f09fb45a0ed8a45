// Known values of deformable_roi_pool (hand-computed bilinear samples, the clamp and skip rules,
// offsets in (x, y) order), its gradients, empty RoI lists, layouts and error paths.
#include <gtest/gtest.h>

#include <cmath>

#include "framework/autograd/engine.h"
#include "ops/common/case_helpers.h"
#include "ops/deformable_roi_pool/deformable_roi_pool.h"
#include "ops/reduce/reduce.h"
#include "tests/ops/kernel_loop.h"

namespace osprey {
namespace {

using ops::DeformableRoiPoolOptions;
using testing::error_message;
using testing::for_each_cpu_kernel;

// One 3 x 3 channel, v[y][x] = 2^(3y + x), so every bilinear mix is easy to write down.
Tensor plane() {
  return Tensor::from_vector<double>({1, 2, 4, 8, 16, 32, 64, 128, 256}, {1, 1, 3, 3});
}
Tensor rois(std::vector<double> v) {
  return Tensor::from_vector<double>(v, {static_cast<int64_t>(v.size() / 5), 5});
}
DeformableRoiPoolOptions options(int64_t size, int64_t samples, double scale = 1.0) {
  return {{size, size}, scale, samples, 0.1};
}

TEST(DeformableRoiPool, ZeroOffsetsAverageBilinearSamples) {
  // RoI (0, 0)–(1, 1) at scale 1: start −0.5, end 1.5, one bin of 2 x 2 samples at −0.5 and 0.5
  // on each axis; −0.5 is kept (not below −0.5) and clamped to 0. Samples (h, w):
  //   (0, 0) = 1, (0, 0.5) = 1.5, (0.5, 0) = 4.5, (0.5, 0.5) = (1 + 2 + 8 + 16) / 4 = 6.75.
  const double expected = (1 + 1.5 + 4.5 + 6.75) / 4;
  for_each_cpu_kernel("deformable_roi_pool", [&] {
    auto out = ops::deformable_roi_pool(plane(), rois({0, 0, 0, 1, 1}), {}, options(1, 2));
    EXPECT_EQ(out.shape(), Shape({1, 1, 1, 1}));
    EXPECT_DOUBLE_EQ(out.item<double>(), expected);
    // Explicit zero offsets give the same.
    auto zero = Tensor::empty({1, 2, 1, 1}, DType::f64).fill_(0.0);
    EXPECT_DOUBLE_EQ(ops::deformable_roi_pool(plane(), rois({0, 0, 0, 1, 1}), zero, options(1, 2))
                         .item<double>(),
                     expected);
  });
}

TEST(DeformableRoiPool, BinsAndOffsetOrder) {
  // RoI (1, 0)–(2, 2): w from 0.5 to 2.5 (roi_w 2, bins 1 wide), h from −0.5 to 2.5 (roi_h 3,
  // bins 1.5 high); one sample per bin at its corner (h, w) = (−0.5 + 1.5 i, 0.5 + j).
  const Tensor roi = rois({0, 1, 0, 2, 2});
  for_each_cpu_kernel("deformable_roi_pool", [&] {
    auto v = ops::deformable_roi_pool(plane(), roi, {}, options(2, 1)).to_vector<double>();
    EXPECT_EQ(v, (std::vector<double>{1.5, 3, 12, 24}));
    // Offsets: channel 0 moves x by tx·0.1·roi_w, channel 1 moves y by ty·0.1·roi_h.
    //   bin (0, 0): tx = 2.5 → w = 1.0, h clamped to 0 → v[0][1] = 2
    //   bin (0, 1): ty = 10/3 → h = −0.5 + 1 = 0.5, w = 1.5 → (2 + 4 + 16 + 32) / 4 = 13.5
    //   (read as (y, x) instead, bin (0, 0) would move down and bin (0, 1) right)
    auto offset = Tensor::from_vector<double>({2.5, 0, 0, 0, 0, 10.0 / 3, 0, 0}, {1, 2, 2, 2});
    auto w = ops::deformable_roi_pool(plane(), roi, offset, options(2, 1)).to_vector<double>();
    EXPECT_NEAR(w[0], 2, 1e-12);
    EXPECT_NEAR(w[1], 13.5, 1e-12);
    EXPECT_NEAR(w[2], 12, 1e-12);
    EXPECT_NEAR(w[3], 24, 1e-12);
  });
}

TEST(DeformableRoiPool, SkipsSamplesOutsideTheMap) {
  // RoI (2, 2)–(3, 3): w, h from 1.5 to 3.5, 2 x 2 samples at 1.5 and 2.5; 3.5 would be past
  // 2.5 = W − 0.5. All four are valid: 2.5 is clamped to 2. Values (h, w): (1.5, 1.5) =
  // (16 + 32 + 128 + 256) / 4 = 108, (1.5, 2) = (32 + 256) / 2 = 144, (2, 1.5) = 192, (2, 2) = 256.
  // RoI (4, 4)–(6, 6) starts at 3.5: every sample is skipped and the bin is 0.
  for_each_cpu_kernel("deformable_roi_pool", [&] {
    auto v =
        ops::deformable_roi_pool(plane(), rois({0, 2, 2, 3, 3, 0, 4, 4, 6, 6}), {}, options(1, 2))
            .to_vector<double>();
    EXPECT_DOUBLE_EQ(v[0], (108 + 144 + 192 + 256) / 4.0);
    EXPECT_EQ(v[1], 0.0);
  });
}

TEST(DeformableRoiPool, RoundsAndScalesTheBox) {
  // At scale 0.5 the RoI (1.6, 0.4)–(2.2, 1.4) rounds to (2, 0)–(2, 1): w from 0.5 to 1.0, h from
  // −0.5 to 0.5; one sample at (−0.5 → 0, 0.5) = 1.5.
  for_each_cpu_kernel("deformable_roi_pool", [&] {
    auto out =
        ops::deformable_roi_pool(plane(), rois({0, 1.6, 0.4, 2.2, 1.4}), {}, options(1, 1, 0.5));
    EXPECT_DOUBLE_EQ(out.item<double>(), 1.5);
  });
}

TEST(DeformableRoiPool, Gradients) {
  for_each_cpu_kernel("deformable_roi_pool_backward", [&] {
    // The 2 x 2-sample bin of the first test: each sample carries 1/4 to its corners.
    Tensor x = plane();
    x.set_requires_grad(true);
    ops::deformable_roi_pool(x, rois({0, 0, 0, 1, 1}), {}, options(1, 2)).backward();
    EXPECT_EQ(x.grad().to_vector<double>(),
              (std::vector<double>{0.5625, 0.1875, 0, 0.1875, 0.0625, 0, 0, 0, 0}));
    // Offsets of the BinsAndOffsetOrder RoI at zero: bin (0, 1) samples (h −0.5 → 0, w 1.5):
    // ∂v/∂w = 4 − 2 = 2, times trans_std·roi_w = 0.2; h was clamped, so its gradient is 0.
    // Bin (1, 1) samples (1, 1.5): ∂v/∂w = 32 − 16 = 16 (·0.2), ∂v/∂h = (112 + 224) / 2 (·0.3).
    Tensor offset = Tensor::empty({1, 2, 2, 2}, DType::f64).fill_(0.0);
    offset.set_requires_grad(true);
    ops::deformable_roi_pool(plane(), rois({0, 1, 0, 2, 2}), offset, options(2, 1))
        .backward(Tensor::from_vector<double>({0, 1, 0, 1}, {1, 1, 2, 2}));
    auto g = offset.grad().to_vector<double>();
    EXPECT_NEAR(g[1], 0.4, 1e-12);
    EXPECT_NEAR(g[3], 3.2, 1e-12);
    EXPECT_NEAR(g[5], 0, 1e-12);
    EXPECT_NEAR(g[7], 50.4, 1e-12);
    EXPECT_EQ(g[0], 0.0);  // grad_output 0 there
  });
}

TEST(DeformableRoiPool, ZeroRois) {
  Tensor x = plane();
  x.set_requires_grad(true);
  Tensor offset = Tensor::empty({0, 2, 7, 7}, DType::f64);
  offset.set_requires_grad(true);
  auto out = ops::deformable_roi_pool(x, Tensor::empty({0, 5}, DType::f64), offset);
  EXPECT_EQ(out.shape(), Shape({0, 1, 7, 7}));
  ops::sum(out).backward();
  EXPECT_EQ(x.grad().to_vector<double>(), std::vector<double>(9, 0.0));
  EXPECT_EQ(offset.grad().shape(), Shape({0, 2, 7, 7}));
}

TEST(DeformableRoiPool, NonContiguousInputs) {
  ops::CaseRandom rng(3);
  Tensor x = rng.uniform({2, 3, 6, 5}, DType::f64, -1, 1);
  Tensor r = rois({1, 0.5, 1, 4, 5, 0, 2, 0, 3, 3});
  Tensor offset = rng.uniform({2, 2, 3, 3}, DType::f64, -1, 1);
  auto opts = options(3, 2);
  auto expected = ops::deformable_roi_pool(x, r, offset, opts);
  auto actual = ops::deformable_roi_pool(x.contiguous(MemoryFormat::channels_last),
                                         ops::non_contiguous(r), ops::non_contiguous(offset), opts);
  EXPECT_EQ(actual.to_vector<double>(), expected.to_vector<double>());
}

// Each bad argument: the error names the op and the argument (and the offending values).
std::string pool_error(const Tensor& input, const Tensor& roi_rows, const Tensor& offset = {},
                       const DeformableRoiPoolOptions& opts = options(2, 2)) {
  return error_message([&] { ops::deformable_roi_pool(input, roi_rows, offset, opts); });
}

#define EXPECT_MESSAGE(msg, text) EXPECT_NE((msg).find(text), std::string::npos) << (msg)

TEST(DeformableRoiPoolErrors, BatchIndexOutOfRange) {
  EXPECT_MESSAGE(pool_error(plane(), rois({1, 0, 0, 1, 1})),
                 "deformable_roi_pool: rois[0] batch index 1 must be an integer in [0, 1)");
  EXPECT_MESSAGE(pool_error(plane(), rois({0, 0, 0, 1, 1, -1, 0, 0, 1, 1})),
                 "rois[1] batch index -1");
}

TEST(DeformableRoiPoolErrors, BatchIndexNotAnInteger) {
  EXPECT_MESSAGE(pool_error(plane(), rois({0.5, 0, 0, 1, 1})), "rois[0] batch index 0.5");
}

TEST(DeformableRoiPoolErrors, X2BelowX1) {
  EXPECT_MESSAGE(pool_error(plane(), rois({0, 2, 0, 1, 1})),
                 "deformable_roi_pool: rois[0] = (2, 0, 1, 1) must have x1 <= x2");
}

TEST(DeformableRoiPoolErrors, Y2BelowY1) {
  EXPECT_MESSAGE(pool_error(plane(), rois({0, 0, 2, 1, 1})), "y1 <= y2");
}

TEST(DeformableRoiPoolErrors, NanCoordinate) {
  EXPECT_MESSAGE(pool_error(plane(), rois({0, 0, NAN, 1, 1})),
                 "deformable_roi_pool: rois[0] = (0, nan, 1, 1) has a non-finite coordinate");
  EXPECT_MESSAGE(pool_error(plane(), rois({0, 0, 0, INFINITY, 1})), "non-finite coordinate");
}

TEST(DeformableRoiPoolErrors, OffsetShapeMismatch) {
  auto msg = pool_error(plane(), rois({0, 0, 0, 1, 1}),
                        Tensor::empty({1, 2, 3, 3}, DType::f64).fill_(0.0));
  EXPECT_MESSAGE(msg, "deformable_roi_pool: offset");
  EXPECT_MESSAGE(msg, "must be (K, 2, ph, pw) = [1, 2, 2, 2]");
  EXPECT_MESSAGE(pool_error(plane(), rois({0, 0, 0, 1, 1}),
                            Tensor::empty({2, 2, 2, 2}, DType::f64).fill_(0.0)),
                 "= [1, 2, 2, 2]");
}

TEST(DeformableRoiPoolErrors, RoisNotKBy5) {
  EXPECT_MESSAGE(pool_error(plane(), Tensor::empty({2, 4}, DType::f64).fill_(0.0)),
                 "deformable_roi_pool: rois must be (K, 5)");
}

TEST(DeformableRoiPoolErrors, InputNot4d) {
  EXPECT_MESSAGE(pool_error(plane().reshape({3, 3}), rois({0, 0, 0, 1, 1})),
                 "deformable_roi_pool: input must be (N, C, H, W)");
}

TEST(DeformableRoiPoolErrors, DtypeMismatch) {
  auto msg = pool_error(plane(), rois({0, 0, 0, 1, 1}).to(DType::f32));
  EXPECT_MESSAGE(msg, "deformable_roi_pool");
  EXPECT_MESSAGE(msg, "'rois'");
}

TEST(DeformableRoiPoolErrors, BadAttributes) {
  EXPECT_MESSAGE(pool_error(plane(), rois({0, 0, 0, 1, 1}), {}, {{2, 2}, 1.0, 0, 0.1}),
                 "deformable_roi_pool: sample_per_part must be positive");
  EXPECT_MESSAGE(pool_error(plane(), rois({0, 0, 0, 1, 1}), {}, {{0, 2}, 1.0, 2, 0.1}),
                 "output_size must be positive");
  EXPECT_MESSAGE(pool_error(plane(), rois({0, 0, 0, 1, 1}), {}, {{2, 2}, 0.0, 2, 0.1}),
                 "spatial_scale must be finite and > 0");
}

TEST(DeformableRoiPoolErrors, GradOutputShape) {
  auto msg = error_message([&] {
    ops::deformable_roi_pool_backward(Tensor::empty({1, 1, 3, 3}, DType::f64).fill_(0.0), plane(),
                                      rois({0, 0, 0, 1, 1}), {}, options(2, 2));
  });
  EXPECT_MESSAGE(msg, "deformable_roi_pool_backward: grad_output");
  EXPECT_MESSAGE(msg, "[1, 1, 2, 2]");
}

}  // namespace
}  // namespace osprey
