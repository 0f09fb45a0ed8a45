// The box ops and the NMS family on the GPU against the CPU: nms and batched_nms keep exactly the
// CPU's indices on large random inputs (with tied scores and the +1 convention) and give the
// same result on every run (determinism); anchor_grid (no inputs, so outside the generic parity
// test) matches the CPU; soft_nms and remove_small_boxes return GPU tensors with the CPU values.
// The generic parity test (op_parity_test.cc) runs every other case of these ops. Skips without
// a GPU.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <random>
#include <string>

#include "ops/anchor_grid/anchor_grid.h"
#include "ops/batched_nms/batched_nms.h"
#include "ops/nms/nms.h"
#include "ops/remove_small_boxes/remove_small_boxes.h"
#include "ops/soft_nms/soft_nms.h"
#include "tests/support/op_test_support.h"

namespace osprey {
namespace {

struct RandomBoxes {
  Tensor boxes, scores, groups;
};

// Boxes on an integer grid with scores from 20 levels: many exact ties in both.
RandomBoxes random_boxes(int64_t n, uint32_t seed, DType dtype) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> corner(0, 600), side(1, 120), level(0, 19), group(0, 4);
  std::vector<double> b, s;
  std::vector<int64_t> g;
  for (int64_t i = 0; i < n; ++i) {
    double x = corner(rng), y = corner(rng);
    b.insert(b.end(), {x, y, x + side(rng), y + side(rng)});
    s.push_back(0.05 * level(rng));
    g.push_back(group(rng));
  }
  return {Tensor::from_vector<double>(b, {n, 4}).to(dtype),
          Tensor::from_vector<double>(s, {n}).to(dtype), Tensor::from_vector<int64_t>(g, {n})};
}

TEST(NmsCuda, MatchesCpuAndIsDeterministic) {
  OSPREY_SKIP_WITHOUT_GPU();
  for (DType dtype : {DType::f32, DType::f64}) {
    for (int64_t n : {1, 63, 64, 65, 1000, 12000}) {
      for (bool plus_one : {false, true}) {
        RandomBoxes r = random_boxes(n, static_cast<uint32_t>(n), dtype);
        Tensor expected = ops::nms(r.boxes, r.scores, 0.5, plus_one);
        Tensor boxes = r.boxes.to(Device::cuda()), scores = r.scores.to(Device::cuda());
        Tensor first = ops::nms(boxes, scores, 0.5, plus_one);
        Tensor second = ops::nms(boxes, scores, 0.5, plus_one);
        EXPECT_TRUE(first.device().is_cuda());
        EXPECT_EQ(first.to_vector<int64_t>(), expected.to_vector<int64_t>())
            << dtype_name(dtype) << " n " << n << " plus_one " << plus_one;
        EXPECT_EQ(second.to_vector<int64_t>(), first.to_vector<int64_t>());
      }
    }
  }
}

TEST(NmsCuda, NonContiguousInputs) {
  OSPREY_SKIP_WITHOUT_GPU();
  RandomBoxes r = random_boxes(500, 7, DType::f32);
  Tensor expected = ops::nms(r.boxes, r.scores, 0.3);
  // Boxes stored transposed ([4, N] memory read as [N, 4]), scores with stride 2.
  Tensor boxes = r.boxes.transpose(0, 1).contiguous().to(Device::cuda()).transpose(0, 1);
  Tensor wide = Tensor::empty({1000}, DType::f32, Device::cuda());
  Tensor scores = wide.slice(0, 0, 1000, 2);
  scores.copy_(r.scores);
  EXPECT_EQ(ops::nms(boxes, scores, 0.3).to_vector<int64_t>(), expected.to_vector<int64_t>());
}

TEST(BatchedNmsCuda, MatchesCpuAndIsDeterministic) {
  OSPREY_SKIP_WITHOUT_GPU();
  for (int64_t n : {100, 5000}) {
    RandomBoxes r = random_boxes(n, 11, DType::f32);
    Tensor expected = ops::batched_nms(r.boxes, r.scores, r.groups, 0.4);
    Tensor b = r.boxes.to(Device::cuda()), s = r.scores.to(Device::cuda()),
           g = r.groups.to(Device::cuda());
    Tensor first = ops::batched_nms(b, s, g, 0.4);
    EXPECT_EQ(first.to_vector<int64_t>(), expected.to_vector<int64_t>()) << n;
    EXPECT_EQ(ops::batched_nms(b, s, g, 0.4).to_vector<int64_t>(), first.to_vector<int64_t>());
  }
}

TEST(NmsCuda, EmptyInputs) {
  OSPREY_SKIP_WITHOUT_GPU();
  Tensor boxes = Tensor::empty({0, 4}, DType::f32, Device::cuda());
  Tensor scores = Tensor::empty({0}, DType::f32, Device::cuda());
  EXPECT_EQ(ops::nms(boxes, scores, 0.5).shape(), (Shape{0}));
  EXPECT_EQ(
      ops::batched_nms(boxes, scores, Tensor::empty({0}, DType::i64, Device::cuda()), 0.5).shape(),
      (Shape{0}));
  EXPECT_EQ(ops::remove_small_boxes(boxes, 1.0).shape(), (Shape{0}));
}

TEST(AnchorGridCuda, MatchesCpu) {
  OSPREY_SKIP_WITHOUT_GPU();
  for (bool plus_one : {false, true}) {
    ops::AnchorGridOptions o;
    o.height = 32, o.width = 24, o.legacy_plus_one = plus_one;
    for (DType dtype : {DType::f32, DType::f64}) {
      Tensor expected = ops::anchor_grid(o, dtype);
      Tensor actual = ops::anchor_grid(o, dtype, Device::cuda());
      EXPECT_TRUE(actual.device().is_cuda());
      EXPECT_TRUE(testing::compare(actual.cpu(), expected, {0, 0}).empty()) << plus_one;
    }
  }
}

TEST(SoftNmsCuda, MatchesCpu) {
  OSPREY_SKIP_WITHOUT_GPU();
  RandomBoxes r = random_boxes(800, 3, DType::f32);
  ops::SoftNmsOptions o;
  o.sigma = 0.55, o.legacy_plus_one = true;
  auto [keep, scores] = ops::soft_nms(r.boxes, r.scores, o);
  auto [gkeep, gscores] = ops::soft_nms(r.boxes.to(Device::cuda()), r.scores.to(Device::cuda()), o);
  EXPECT_TRUE(gkeep.device().is_cuda());
  EXPECT_EQ(gkeep.to_vector<int64_t>(), keep.to_vector<int64_t>());
  EXPECT_EQ(gscores.to_vector<float>(), scores.to_vector<float>());
}

// Bad values in GPU inputs: nms and batched_nms check them on the device (no host copy before the
// kernel) and throw the CPU check's message, naming the op, the argument and the FIRST offending
// row, whichever thread found a later one first.
TEST(NmsCuda, BadValuesGiveTheCpuErrors) {
  OSPREY_SKIP_WITHOUT_GPU();
  auto message = [](const std::function<void()>& call) {
    try {
      call();
    } catch (const Error& e) {
      const std::string what = e.what();
      const size_t at = what.find("nms: ");  // from the op name on (no file / line prefix)
      return at == std::string::npos ? what : what.substr(at);
    }
    return std::string("no error");
  };
  RandomBoxes r = random_boxes(3000, 9, DType::f32);
  std::vector<float> b = r.boxes.to_vector<float>(), s = r.scores.to_vector<float>();
  std::vector<float> nan_box = b, flipped = b, nan_score = s;
  nan_box[4 * 2500 + 1] = std::nanf("");
  nan_box[4 * 2900 + 3] = std::nanf("");
  flipped[4 * 1234 + 2] = flipped[4 * 1234] - 1;
  nan_score[777] = std::nanf("");
  nan_score[2999] = std::nanf("");
  const auto boxes = [](const std::vector<float>& v) {
    return Tensor::from_vector<float>(v, {static_cast<int64_t>(v.size() / 4), 4});
  };
  const auto scores = [](const std::vector<float>& v) {
    return Tensor::from_vector<float>(v, {static_cast<int64_t>(v.size())});
  };
  const Tensor groups = r.groups;
  const std::vector<std::pair<Tensor, Tensor>> bad = {
      {boxes(nan_box), r.scores}, {boxes(flipped), r.scores}, {r.boxes, scores(nan_score)}};
  for (const auto& [bx, sc] : bad) {
    const std::string cpu = message([&] { ops::nms(bx, sc, 0.5); });
    ASSERT_NE(cpu, "no error");
    EXPECT_EQ(message([&] { ops::nms(bx.to(Device::cuda()), sc.to(Device::cuda()), 0.5); }), cpu);
    const std::string cpu_batched = message([&] { ops::batched_nms(bx, sc, groups, 0.5); });
    EXPECT_EQ(message([&] {
                ops::batched_nms(bx.to(Device::cuda()), sc.to(Device::cuda()),
                                 groups.to(Device::cuda()), 0.5);
              }),
              cpu_batched);
  }
}

}  // namespace
}  // namespace osprey
