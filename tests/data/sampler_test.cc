// The per-epoch order: a permutation, fixed by (seed, epoch), different across epochs and seeds.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

#include "data/sampler.h"

namespace osprey::data {
namespace {

TEST(Sampler, EveryIndexOncePerEpoch) {
  for (int64_t n : {0, 1, 2, 7, 1000}) {
    for (int64_t epoch : {0, 1, 5}) {
      std::vector<int64_t> order = epoch_order(n, true, 42, epoch);
      ASSERT_EQ(static_cast<int64_t>(order.size()), n);
      std::sort(order.begin(), order.end());
      std::vector<int64_t> expected(static_cast<size_t>(n));
      std::iota(expected.begin(), expected.end(), int64_t{0});
      EXPECT_EQ(order, expected) << "n " << n << " epoch " << epoch;
    }
  }
}

TEST(Sampler, SameSeedSameOrderOtherwiseDifferent) {
  const auto a = epoch_order(1000, true, 42, 3);
  EXPECT_EQ(a, epoch_order(1000, true, 42, 3));
  EXPECT_NE(a, epoch_order(1000, true, 42, 4));
  EXPECT_NE(a, epoch_order(1000, true, 43, 3));
  // A shuffle, not the identity.
  int fixed = 0;
  for (int64_t i = 0; i < 1000; ++i) fixed += a[static_cast<size_t>(i)] == i;
  EXPECT_LT(fixed, 10);
}

TEST(Sampler, PositionsAreUniform) {
  // Over many epochs, index 0 lands in each tenth of the order about equally often.
  std::vector<int> tenth(10);
  for (int64_t epoch = 0; epoch < 2000; ++epoch) {
    auto order = epoch_order(50, true, 9, epoch);
    auto at = std::find(order.begin(), order.end(), 0) - order.begin();
    ++tenth[static_cast<size_t>(at / 5)];
  }
  for (int count : tenth) EXPECT_NEAR(count, 200, 60);
}

TEST(Sampler, NoShuffleIsAscending) {
  EXPECT_EQ(epoch_order(4, false, 42, 3), (std::vector<int64_t>{0, 1, 2, 3}));
}

}  // namespace
}  // namespace osprey::data
