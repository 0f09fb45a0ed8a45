// Values and errors of nms: greedy order, strict threshold, ties, the +1 convention, and the
// bitmask kernel against the reference on large inputs with tied scores.
#include <gtest/gtest.h>

#include <random>

#include "framework/dispatch/registry.h"
#include "ops/nms/nms.h"
#include "tests/ops/box_test_util.h"
#include "tests/support/op_test_support.h"

namespace osprey {
namespace {

using box_test::expect_error;
using box_test::f32;
using box_test::f64;
using box_test::i64;

// Two pairs of boxes overlapping with IoU 90/110 = 0.818.
Tensor two_pairs() {
  return f32({0, 0, 10, 10, 1, 0, 11, 10, 20, 20, 30, 30, 21, 20, 31, 30}, {4, 4});
}

TEST(Nms, KeepsByDecreasingScore) {
  Tensor keep = ops::nms(two_pairs(), f32({0.9f, 0.8f, 0.7f, 0.95f}, {4}), 0.5);
  EXPECT_EQ(keep.dtype(), DType::i64);
  EXPECT_EQ(keep.to_vector<int64_t>(), (std::vector<int64_t>{3, 0}));
  keep = ops::nms(two_pairs(), f32({0.9f, 0.8f, 0.7f, 0.95f}, {4}), 0.9);
  EXPECT_EQ(keep.to_vector<int64_t>(), (std::vector<int64_t>{3, 0, 1, 2}));
}

TEST(Nms, SuppressesOnlyAboveThreshold) {
  // IoU exactly 0.5: kept at threshold 0.5, suppressed just below it.
  Tensor boxes = f64({0, 0, 10, 10, 0, 0, 10, 5}, {2, 4});
  Tensor scores = f64({0.9, 0.8}, {2});
  EXPECT_EQ(ops::nms(boxes, scores, 0.5).to_vector<int64_t>(), (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(ops::nms(boxes, scores, 0.49).to_vector<int64_t>(), (std::vector<int64_t>{0}));
}

TEST(Nms, TiesKeepLowerIndex) {
  Tensor boxes = f32({5, 5, 9, 9, 0, 0, 4, 4, 0, 0, 4, 4}, {3, 4});
  Tensor keep = ops::nms(boxes, f32({0.5f, 0.5f, 0.5f}, {3}), 0.5);
  EXPECT_EQ(keep.to_vector<int64_t>(), (std::vector<int64_t>{0, 1}));
}

TEST(Nms, LegacyPlusOne) {
  // +1: areas 100 and 50, intersection 50 -> IoU 0.5; continuous: 36 / 81 = 0.444.
  Tensor boxes = f32({0, 0, 9, 9, 0, 0, 9, 4}, {2, 4});
  Tensor scores = f32({0.9f, 0.8f}, {2});
  EXPECT_EQ(ops::nms(boxes, scores, 0.45, true).to_vector<int64_t>(), (std::vector<int64_t>{0}));
  EXPECT_EQ(ops::nms(boxes, scores, 0.45).to_vector<int64_t>(), (std::vector<int64_t>{0, 1}));
}

TEST(Nms, EmptyInput) {
  Tensor keep = ops::nms(Tensor::empty({0, 4}), Tensor::empty({0}), 0.5);
  EXPECT_EQ(keep.shape(), (Shape{0}));
  EXPECT_EQ(keep.dtype(), DType::i64);
}

TEST(Nms, BitmaskMatchesReferenceWithTies) {
  std::mt19937 rng(3);
  std::uniform_int_distribution<int> corner(0, 300), side(1, 60), level(0, 9);
  const int64_t n = 3000;
  std::vector<float> b, s;
  for (int64_t i = 0; i < n; ++i) {
    float x = corner(rng), y = corner(rng);
    b.insert(b.end(), {x, y, x + side(rng), y + side(rng)});
    s.push_back(0.1f * level(rng));
  }
  Tensor boxes = f32(b, {n, 4}), scores = f32(s, {n});
  auto& registry = dispatch::Registry::instance();
  for (bool plus_one : {false, true}) {
    registry.set_override("nms", DeviceType::cpu, "reference");
    Tensor expected = ops::nms(boxes, scores, 0.6, plus_one);
    registry.set_override("nms", DeviceType::cpu, "bitmask");
    Tensor actual = ops::nms(boxes, scores, 0.6, plus_one);
    registry.clear_override("nms", DeviceType::cpu);
    EXPECT_GT(expected.numel(), 100);
    EXPECT_LT(expected.numel(), n);
    EXPECT_EQ(actual.to_vector<int64_t>(), expected.to_vector<int64_t>());
  }
}

TEST(Nms, Errors) {
  Tensor scores = f32({0.9f, 0.8f}, {2});
  expect_error(
      [&] {
        ops::nms(f32({0, 0, 10, 10, 5, 0, 4, 10}, {2, 4}), scores, 0.5);
      },
      {"nms", "'boxes'", "box 1", "x2 < x1"});
  expect_error(
      [&] {
        ops::nms(f32({0, 0, 10, 10, 0, NAN, 4, 10}, {2, 4}), scores, 0.5);
      },
      {"nms", "'boxes'", "box 1", "NaN"});
  expect_error(
      [&] {
        ops::nms(f32({0, 0, 10, 10, 0, 0, 4, 10}, {2, 4}), f32({1, 2, 3}, {3}), 0.5);
      },
      {"nms", "'scores'", "[2]", "f32[3]"});
  expect_error(
      [&] {
        ops::nms(f32({0, 0, 10, 10, 0, 0}, {2, 3}), scores, 0.5);
      },
      {"nms", "'boxes'", "[N, 4]", "f32[2, 3]"});
  expect_error(
      [&] {
        ops::nms(f32({0, 0, 10, 10, 0, 0, 4, 10}, {2, 4}), f32({1, NAN}, {2}), 0.5);
      },
      {"nms", "'scores'", "NaN"});
  expect_error(
      [&] {
        ops::nms(f32({0, 0, 10, 10}, {1, 4}), f64({1}, {1}), 0.5);
      },
      {"nms", "'scores'", "dtype"});
  expect_error(
      [&] {
        ops::nms(i64({0, 0, 10, 10}, {1, 4}), i64({1}, {1}), 0.5);
      },
      {"nms", "'boxes'", "floating"});
}

}  // namespace
}  // namespace osprey
