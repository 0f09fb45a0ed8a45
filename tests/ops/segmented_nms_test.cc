// The segmented bitmask NMS core (ops/nms/segmented_nms.h) that the CUDA rpn_proposals kernel runs:
// its host mirrors (the same tiles, words and block resolution as the CUDA kernels) against the
// greedy reference loop, segment by segment, with lengths that end inside, at and after tile
// borders, empty segments, and dense clusters so that many boxes are suppressed.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

#include "ops/nms/nms_cpu.h"
#include "ops/nms/segmented_nms.h"

namespace osprey {
namespace {

namespace seg = ops::segmented_nms;

template <typename T>
void check_against_reference(const std::vector<int64_t>& lengths, int64_t cap, T threshold,
                             T offset, uint32_t seed) {
  const auto segments = static_cast<int64_t>(lengths.size());
  std::mt19937 gen(seed);
  std::uniform_real_distribution<double> centre(0, 120), side(4, 40);
  std::vector<T> boxes(static_cast<size_t>(4 * segments * cap), T(0));
  std::vector<T> scores(static_cast<size_t>(segments * cap), T(0));
  for (int64_t s = 0; s < segments; ++s) {
    for (int64_t r = 0; r < lengths[s]; ++r) {
      const double x = centre(gen), y = centre(gen), w = side(gen), h = side(gen);
      T* b = &boxes[4 * (s * cap + r)];
      b[0] = T(x), b[1] = T(y), b[2] = T(x + w), b[3] = T(y + h);
      scores[s * cap + r] = T(1) - T(r) / T(cap + 1);  // already sorted, as the layout requires
    }
  }
  const int64_t words = seg::words_for(cap);
  std::vector<uint64_t> mask(static_cast<size_t>(segments * cap * words), 0);
  std::vector<int64_t> keep(static_cast<size_t>(segments * cap), -1), kept(segments, -1);
  seg::mask_host(segments, cap, lengths.data(), boxes.data(), nullptr, threshold, offset,
                 mask.data());
  seg::scan_host(segments, cap, lengths.data(), mask.data(), nullptr, keep.data(), kept.data());
  // The same in launch groups of `group` segments (pointer offsets, one reused mask buffer), as
  // rpn_proposals does when the masks pass the memory budget.
  for (int64_t group : {int64_t{1}, int64_t{3}}) {
    std::vector<uint64_t> group_mask(static_cast<size_t>(group * cap * words), 0);
    std::vector<int64_t> group_keep(keep.size(), -1), group_kept(kept.size(), -1);
    for (int64_t s0 = 0; s0 < segments; s0 += group) {
      const int64_t count = std::min(group, segments - s0);
      seg::mask_host(count, cap, lengths.data() + s0, boxes.data() + 4 * s0 * cap, nullptr,
                     threshold, offset, group_mask.data());
      seg::scan_host(count, cap, lengths.data() + s0, group_mask.data(), nullptr,
                     group_keep.data() + s0 * cap, group_kept.data() + s0);
    }
    EXPECT_EQ(group_kept, kept) << "group " << group;
    for (int64_t s = 0; s < segments; ++s) {
      EXPECT_TRUE(std::equal(keep.begin() + s * cap, keep.begin() + s * cap + kept[s],
                             group_keep.begin() + s * cap));
    }
  }
  for (int64_t s = 0; s < segments; ++s) {
    const std::vector<int64_t> expected = ops::nms_cpu::greedy_reference(
        &boxes[4 * s * cap], &scores[s * cap], static_cast<const int64_t*>(nullptr), lengths[s],
        threshold, offset);
    ASSERT_EQ(kept[s], static_cast<int64_t>(expected.size())) << "segment " << s;
    const std::vector<int64_t> got(keep.begin() + s * cap, keep.begin() + s * cap + kept[s]);
    EXPECT_EQ(got, expected) << "segment " << s << " of length " << lengths[s];
  }
}

TEST(SegmentedNms, MatchesGreedyReferencePerSegment) {
  check_against_reference<float>({200, 0, 64, 1, 63, 65, 128, 129}, 200, 0.5f, 0.0f, 1);
  check_against_reference<double>({300, 17, 300, 191}, 300, 0.7, 0.0, 2);
}

TEST(SegmentedNms, LowThresholdSuppressesMostAndPlusOne) {
  check_against_reference<float>({500, 250, 3}, 500, 0.1f, 1.0f, 3);
  check_against_reference<double>({70, 70}, 70, 0.0, 0.0, 4);
}

// nms / batched_nms on CUDA: one full segment (lengths null), boxes in score order with groups,
// kept indices mapped back through the order. Must equal the greedy reference on the unsorted
// input, groups and ties included.
TEST(SegmentedNms, OneSegmentWithGroupsAndOrderIsBatchedNms) {
  for (int64_t n : {1, 64, 65, 700}) {
    std::mt19937 gen(static_cast<uint32_t>(n));
    std::uniform_int_distribution<int> corner(0, 100), side(1, 40), level(0, 9), group(0, 3);
    std::vector<double> boxes, scores;
    std::vector<int64_t> groups;
    for (int64_t i = 0; i < n; ++i) {
      const double x = corner(gen), y = corner(gen);
      boxes.insert(boxes.end(), {x, y, x + side(gen), y + side(gen)});
      scores.push_back(0.1 * level(gen));  // many ties: the order must resolve them by index
      groups.push_back(group(gen));
    }
    const std::vector<int64_t> order = ops::nms_cpu::score_order(scores.data(), n);
    std::vector<double> sorted(static_cast<size_t>(4 * n));
    std::vector<int64_t> sorted_groups(static_cast<size_t>(n));
    for (int64_t a = 0; a < n; ++a) {
      std::copy_n(&boxes[4 * order[a]], 4, &sorted[4 * a]);
      sorted_groups[a] = groups[order[a]];
    }
    for (bool grouped : {false, true}) {
      std::vector<uint64_t> mask(static_cast<size_t>(n * seg::words_for(n)), 0);
      std::vector<int64_t> keep(static_cast<size_t>(n), -1), kept(1, -1);
      seg::mask_host(1, n, nullptr, sorted.data(), grouped ? sorted_groups.data() : nullptr, 0.3,
                     0.0, mask.data());
      seg::scan_host(1, n, nullptr, mask.data(), order.data(), keep.data(), kept.data());
      const std::vector<int64_t> expected = ops::nms_cpu::greedy_reference(
          boxes.data(), scores.data(), grouped ? groups.data() : nullptr, n, 0.3, 0.0);
      keep.resize(static_cast<size_t>(kept[0]));
      EXPECT_EQ(keep, expected) << "n " << n << " grouped " << grouped;
    }
  }
}

TEST(SegmentedNms, SegmentsPerLaunchKeepTheMaskInBudget) {
  EXPECT_EQ(seg::segments_per_launch(6000, 16), 16);  // the batch: 72 MB, one launch
  EXPECT_EQ(seg::segments_per_launch(21504, 16), 4);  // every anchor: 58 MB an image
  EXPECT_EQ(seg::segments_per_launch(385024, 2), 1);
  EXPECT_EQ(seg::segments_per_launch(0, 0), 1);
}

TEST(SegmentedNms, ResolveBlockKeepsInOrder) {
  // Box 0 removes box 2, box 1 removes box 3; box 4 was removed by an earlier block.
  const uint64_t diagonal[5] = {0b00100, 0b01000, 0b10000, 0, 0};
  EXPECT_EQ(seg::resolve_block(0b10000, diagonal, 5), uint64_t{0b00011});
  // A removed box removes nothing: box 2 is removed by box 0, so box 4 survives.
  EXPECT_EQ(seg::resolve_block(0, diagonal, 5), uint64_t{0b10011});
}

}  // namespace
}  // namespace osprey
