// Values and errors of batched_nms: groups never suppress each other; order by score overall.
#include <gtest/gtest.h>

#include <random>

#include "framework/dispatch/registry.h"
#include "ops/batched_nms/batched_nms.h"
#include "ops/nms/nms.h"
#include "tests/ops/box_test_util.h"

namespace osprey {
namespace {

using box_test::expect_error;
using box_test::f32;
using box_test::i64;

Tensor pair_boxes() {  // IoU 90 / 110
  return f32({0, 0, 10, 10, 1, 0, 11, 10, 40, 40, 50, 50}, {3, 4});
}

TEST(BatchedNms, GroupsDoNotSuppressEachOther) {
  Tensor scores = f32({0.5f, 0.9f, 0.7f}, {3});
  EXPECT_EQ(ops::batched_nms(pair_boxes(), scores, i64({0, 1, 0}, {3}), 0.5).to_vector<int64_t>(),
            (std::vector<int64_t>{1, 2, 0}));
  EXPECT_EQ(ops::batched_nms(pair_boxes(), scores, i64({3, 3, 3}, {3}), 0.5).to_vector<int64_t>(),
            (std::vector<int64_t>{1, 2}));
}

TEST(BatchedNms, EqualsNmsPerGroup) {
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> corner(0, 200), side(5, 60), score(0, 1);
  std::uniform_int_distribution<int64_t> group(0, 3);
  const int64_t n = 800;
  std::vector<float> b, s;
  std::vector<int64_t> g;
  for (int64_t i = 0; i < n; ++i) {
    float x = corner(rng), y = corner(rng);
    b.insert(b.end(), {x, y, x + side(rng), y + side(rng)});
    s.push_back(score(rng));
    g.push_back(group(rng));
  }
  auto& registry = dispatch::Registry::instance();
  for (const char* impl : {"reference", "bitmask", "per_group"}) {
    registry.set_override("batched_nms", DeviceType::cpu, impl);
    std::vector<int64_t> keep =
        ops::batched_nms(f32(b, {n, 4}), f32(s, {n}), i64(g, {n}), 0.5).to_vector<int64_t>();
    registry.clear_override("batched_nms", DeviceType::cpu);
    // Per group: plain nms on that group's boxes gives the group's kept boxes, in order.
    for (int64_t want = 0; want < 4; ++want) {
      std::vector<float> gb, gs;
      std::vector<int64_t> members;
      for (int64_t i = 0; i < n; ++i) {
        if (g[i] != want) continue;
        members.push_back(i);
        gb.insert(gb.end(), b.begin() + 4 * i, b.begin() + 4 * i + 4);
        gs.push_back(s[i]);
      }
      const auto m = static_cast<int64_t>(members.size());
      std::vector<int64_t> expected;
      for (int64_t k : ops::nms(f32(gb, {m, 4}), f32(gs, {m}), 0.5).to_vector<int64_t>()) {
        expected.push_back(members[k]);
      }
      std::vector<int64_t> actual;
      for (int64_t k : keep) {
        if (g[k] == want) actual.push_back(k);
      }
      EXPECT_EQ(actual, expected) << impl << " group " << want;
    }
    for (size_t k = 1; k < keep.size(); ++k) EXPECT_GE(s[keep[k - 1]], s[keep[k]]) << impl;
  }
}

TEST(BatchedNms, Empty) {
  Tensor keep = ops::batched_nms(Tensor::empty({0, 4}), Tensor::empty({0}),
                                 Tensor::empty({0}, DType::i64), 0.5);
  EXPECT_EQ(keep.shape(), (Shape{0}));
}

TEST(BatchedNms, Errors) {
  Tensor scores = f32({0.5f, 0.9f, 0.7f}, {3});
  expect_error(
      [&] {
        ops::batched_nms(pair_boxes(), scores, f32({0, 1, 0}, {3}), 0.5);
      },
      {"batched_nms", "'idxs'", "i64", "f32[3]"});
  expect_error(
      [&] {
        ops::batched_nms(pair_boxes(), scores, i64({0, 1}, {2}), 0.5);
      },
      {"batched_nms", "'idxs'", "[3]", "i64[2]"});
  expect_error(
      [&] {
        ops::batched_nms(pair_boxes(), f32({1, 2}, {2}), i64({0, 1, 0}, {3}), 0.5);
      },
      {"batched_nms", "'scores'", "[3]"});
  expect_error(
      [&] {
        ops::batched_nms(f32({0, 0, 10, 10, 5, 5, 1, 1, 0, 0, 1, 1}, {3, 4}), scores,
                         i64({0, 1, 0}, {3}), 0.5);
      },
      {"batched_nms", "'boxes'", "box 1", "x2 < x1"});
}

}  // namespace
}  // namespace osprey
