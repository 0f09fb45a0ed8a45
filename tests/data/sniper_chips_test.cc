// SNIPER chips on hand-built cases: the candidate grid, containment, the greedy cover, the scale
// rules (ranges, size cap, minimum side), assignment, negative-chip thresholds, the per-epoch
// stride and chip list, and the test-time plan.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "data/sniper/epoch_sampler.h"
#include "data/sniper/scale.h"
#include "data/sniper/test_plan.h"
#include "framework/core/error.h"

namespace osprey::data::sniper {
namespace {

// One fine scale at factor 1 (boxes with sqrt-area < fine_hi) and a coarse 512-long-side scale for
// the boxes with sqrt-area ≥ coarse_lo; fixed stride 56.
SniperConfig two_scale_config(double fine_hi = 80, double coarse_lo = 120) {
  SniperConfig c;
  c.scales = {{1.0, -1, -1}, {0, -1, 512}};
  c.valid_ranges = {{-1, fine_hi}, {coarse_lo, -1}};
  c.stride_min = c.stride_max = 56;
  return c;
}

TEST(SniperChips, CandidateGridFollowsTheCode) {
  std::vector<Box> chips = candidate_chips(700, 600, 512, 100);
  std::vector<Box> expected = {{188, 0, 699, 512},  {0, 88, 512, 599},
                               {188, 88, 699, 599},                        // corners
                               {0, 0, 511, 511},    {100, 0, 611, 511},    // grid (x 0,100; y 0)
                               {187, 0, 699, 511},                         // right column
                               {0, 87, 511, 599},   {100, 87, 611, 599}};  // bottom row
  EXPECT_EQ(chips, expected);
}

TEST(SniperChips, ImageSmallerThanAChipGivesTheWholeImage) {
  std::vector<Box> chips = candidate_chips(300, 200, 512, 56);
  ASSERT_EQ(chips.size(), 3u);
  for (const Box& c : chips) EXPECT_EQ(c, (Box{0, 0, 299, 199}));
  std::vector<Box> cover = greedy_cover(chips, {{10, 10, 50, 50}, {250, 150, 299, 199}});
  ASSERT_EQ(cover.size(), 1u);
  EXPECT_EQ(cover[0], (Box{0, 0, 299, 199}));
}

TEST(SniperChips, ContainmentUsesThePlusOneConvention) {
  Box chip{0, 0, 99, 99};
  EXPECT_TRUE(contains(chip, {0, 0, 99, 99}));
  EXPECT_FALSE(contains(chip, {0, 0, 100, 99}));
  EXPECT_TRUE(contains(chip, {99, 99, 99, 99}));  // a single pixel
  EXPECT_FALSE(contains(chip, {50, 50, 150, 60}));
}

TEST(SniperChips, GreedyCoverTakesTheChipWithMostBoxesFirst) {
  std::vector<Box> chips = {{0, 0, 99, 99}, {50, 0, 149, 99}, {100, 0, 199, 99}};
  // Box 0 lies only in chip 0; boxes 1-3 in chips 1 (and 1-2 also in chip 0 or 2).
  std::vector<Box> boxes = {{5, 5, 20, 20}, {60, 5, 90, 20}, {110, 5, 140, 20}, {120, 30, 145, 40}};
  std::vector<Box> cover = greedy_cover(chips, boxes);
  ASSERT_EQ(cover.size(), 2u);
  EXPECT_EQ(cover[0], chips[1]);  // 3 boxes
  EXPECT_EQ(cover[1], chips[0]);  // the remaining box 0
  // Ties go to the first chip in (shuffled) order.
  std::vector<Box> tied = greedy_cover({chips[2], chips[1]}, {{110, 5, 140, 20}});
  ASSERT_EQ(tied.size(), 1u);
  EXPECT_EQ(tied[0], chips[2]);
  EXPECT_TRUE(greedy_cover(chips, {}).empty());
}

TEST(SniperChips, BoxSpanningTwoGridChipsNeedsAnOverlappingChip) {
  // Straddles the border of two disjoint chips: in neither, so uncovered without the middle one.
  Box box{90, 10, 110, 20};
  EXPECT_TRUE(greedy_cover({{0, 0, 99, 99}, {100, 0, 199, 99}}, {box}).empty());
  std::vector<Box> cover =
      greedy_cover({{0, 0, 99, 99}, {100, 0, 199, 99}, {50, 0, 149, 99}}, {box});
  ASSERT_EQ(cover.size(), 1u);
  EXPECT_EQ(cover[0], (Box{50, 0, 149, 99}));
  // Through the whole generator on a 1000×1000 image with stride 56: the box across x = 511
  // (the first grid chip's edge) lands in a chip that contains it.
  Box across{500, 100, 530, 140};
  std::vector<Box> chips = generate_chips({across}, 1000, 1000, 512, 56, nullptr);
  ASSERT_EQ(chips.size(), 1u);
  EXPECT_TRUE(contains(chips[0], across));
}

TEST(SniperChips, ScaleFactorsInResolutionAndFactorMode) {
  EXPECT_DOUBLE_EQ(scale_factor({0, 1400, 2000}, 1000, 800), 1.75);
  EXPECT_DOUBLE_EQ(scale_factor({0, 800, 1280}, 1000, 800), 1.0);
  EXPECT_DOUBLE_EQ(scale_factor({0, -1, 512}, 1000, 800), 0.512);
  EXPECT_DOUBLE_EQ(scale_factor({0, 1400, 2000}, 3000, 1000), 2000.0 / 3000.0);  // long side caps
  EXPECT_DOUBLE_EQ(scale_factor({3.0, -1, -1}, 3000, 1000), 3.0);
  EXPECT_DOUBLE_EQ(scale_factor({0, 600, -1}, 3000, 1000), 0.6);  // no long-side cap
  EXPECT_EQ(coco_factor_scales()[1].factor, 1.667);
  ScaledSize size = scaled_size(1000, 800, 0.512);
  EXPECT_EQ(size.width, 512);
  EXPECT_EQ(size.height, 409);
}

TEST(SniperChips, BoxesOutOfRangeAtEveryScaleGiveNoChips) {
  SniperConfig config;  // the defaults: (−1,80), (32,150), (120,−1); stride 56..59
  SniperImage image{1000, 800, {}, {}, {}};
  // sqrt-area 77 but 600 long: over the size cap of scales 0 (455/1.75) and 1 (455/1), too small
  // for scale 2.
  image.gt.push_back({100, 100, 700, 110});
  // 1 pixel wide (w = int(x2 − x1) = 1): only scale 0 could take it, which needs w ≥ 2.
  image.gt.push_back({300, 300, 301, 350});
  ImageChips chips = image_chips(image, config, 56, 7, 0, 0);
  EXPECT_TRUE(chips.positive.empty());
  EXPECT_TRUE(chips.negative.empty());
}

TEST(SniperChips, SizeCapIsStrict) {
  SniperConfig config = two_scale_config(10000, 10000);
  // cap = (512 − 56 − 1) / 1 = 455: m = 454 drives a chip, m = 455 does not.
  SniperImage inside{1000, 1000, {{0, 0, 454, 10}}, {}, {}};
  SniperImage on_limit{1000, 1000, {{0, 0, 455, 10}}, {}, {}};
  ImageChips a = image_chips(inside, config, 56, 1, 0, 0);
  ASSERT_EQ(a.positive.size(), 1u);
  EXPECT_EQ(a.positive[0].gt_ids, std::vector<int>{0});
  EXPECT_TRUE(contains(a.positive[0].box, inside.gt[0]));
  EXPECT_TRUE(image_chips(on_limit, config, 56, 1, 0, 0).positive.empty());
  EXPECT_TRUE(drives_positive_chip(box_stats(inside.gt[0]), 0, 1.0, 56, config));
  EXPECT_FALSE(drives_positive_chip(box_stats(on_limit.gt[0]), 0, 1.0, 56, config));
}

TEST(SniperChips, ChipsCoverEveryInRangeBoxAndCarryTheirScale) {
  SniperConfig config = two_scale_config();
  SniperImage image{1000, 1000, {}, {}, {}};
  image.gt = {{10, 10, 40, 40}, {900, 900, 950, 960}, {100, 100, 600, 700}};  // small, small, large
  ImageChips chips = image_chips(image, config, 56, 3, 5, 2);
  std::multiset<int> assigned;
  for (const Chip& c : chips.positive) {
    for (int id : c.gt_ids) {
      assigned.insert(id);
      EXPECT_TRUE(contains(c.box, image.gt[id]));
    }
    if (c.scale_index == 0) {
      EXPECT_EQ(c.width, 512);
      EXPECT_DOUBLE_EQ(c.box[2] - c.box[0] + 1, 512);
    } else {
      EXPECT_DOUBLE_EQ(c.scale, 0.512);
      EXPECT_EQ(c.width, 512);  // the whole scaled image: 1000 · 0.512
      EXPECT_EQ(c.height, 512);
    }
  }
  EXPECT_EQ(assigned, (std::multiset<int>{0, 1, 2}));
  // Same inputs → same chips; the shuffle depends on the epoch and seed, the cover does not lose
  // boxes.
  ImageChips again = image_chips(image, config, 56, 3, 5, 2);
  ASSERT_EQ(again.positive.size(), chips.positive.size());
  for (size_t i = 0; i < chips.positive.size(); ++i) {
    EXPECT_EQ(again.positive[i].box, chips.positive[i].box);
  }
}

TEST(SniperChips, AssignmentKeepsBoxesWhoseClippedPartIsLargeEnough) {
  // The middle scale (factor 1) takes 20 ≤ a < 80; boxes under 20 are assigned there (no lower
  // bound in the assignment) but drive no chip. Scale 0 takes nothing here, scale 2 only giants.
  SniperConfig config = two_scale_config();
  config.scales = {{2.0, -1, -1}, {1.0, -1, -1}, {0, -1, 512}};
  config.valid_ranges = {{-1, 5}, {20, 80}, {10000, -1}};
  SniperImage image{2000, 2000, {}, {}, {}};
  image.gt = {{10, 10, 40, 40},       // drives the chip [0, 0, 511, 511], the only one holding it
              {500, 100, 514, 114},   // across the chip's right edge: clipped 11 wide → kept
              {511, 200, 525, 214},   // touches the edge: clipped width 0 → dropped
              {600, 600, 614, 614}};  // outside
  ImageChips chips = image_chips(image, config, 56, 3, 0, 0);
  ASSERT_EQ(chips.positive.size(), 1u);
  EXPECT_EQ(chips.positive[0].box, (Box{0, 0, 511, 511}));
  EXPECT_EQ(chips.positive[0].gt_ids, (std::vector<int>{0, 1}));
  EXPECT_EQ(chips.positive[0].scale_index, 1);
  EXPECT_TRUE(valid_for_assignment(box_stats(image.gt[1]), 1, 1.0, 56, config));
  EXPECT_FALSE(drives_positive_chip(box_stats(image.gt[1]), 1, 1.0, 56, config));
  // The finest scale has no lower bound but needs w, h ≥ 2; the coarsest only a lower bound.
  EXPECT_TRUE(drives_positive_chip(box_stats({0, 0, 2, 2}), 0, 2.0, 56, config));
  EXPECT_FALSE(drives_positive_chip(box_stats({0, 0, 1, 2}), 0, 2.0, 56, config));
  EXPECT_TRUE(drives_positive_chip(box_stats({0, 0, 20000, 20000}), 2, 0.0256, 56, config));
}

TEST(SniperChips, NegativeChipThresholds) {
  SniperConfig config = two_scale_config();
  auto cluster = [](int n, double size, double x0) {
    std::vector<Box> boxes;
    for (int k = 0; k < n; ++k) {
      double x = x0 + 3 * k;
      const double y = 100 + k;
      boxes.push_back({x, y, x + size - 1, y + size - 1});
    }
    return boxes;
  };
  // Scale 0 keeps a negative chip with more than 25 proposals.
  SniperImage image{2000, 2000, {}, cluster(26, 20, 100), {}};
  ImageChips chips = image_chips(image, config, 56, 9, 0, 0);
  ASSERT_EQ(chips.negative.size(), 1u);
  EXPECT_EQ(chips.negative[0].proposal_count, 26);
  EXPECT_EQ(chips.negative[0].scale_index, 0);
  EXPECT_TRUE(chips.negative[0].negative);
  EXPECT_TRUE(chips.negative[0].gt_ids.empty());
  image.proposals = cluster(25, 20, 100);
  EXPECT_TRUE(image_chips(image, config, 56, 9, 0, 0).negative.empty());
  // The coarse scale keeps one with more than 10.
  image.proposals = cluster(11, 300, 100);
  chips = image_chips(image, config, 56, 9, 0, 0);
  ASSERT_EQ(chips.negative.size(), 1u);
  EXPECT_EQ(chips.negative[0].scale_index, 1);
  image.proposals = cluster(10, 300, 100);
  EXPECT_TRUE(image_chips(image, config, 56, 9, 0, 0).negative.empty());
  // Proposals inside a positive chip are covered: no negative chip.
  image.proposals = cluster(30, 20, 100);
  image.gt = {{100, 100, 130, 130}};
  chips = image_chips(image, config, 56, 9, 0, 0);
  EXPECT_EQ(chips.positive.size(), 1u);
  EXPECT_TRUE(chips.negative.empty());
  config.use_negative_chips = false;
  image.gt.clear();
  EXPECT_TRUE(image_chips(image, config, 56, 9, 0, 0).negative.empty());
}

TEST(SniperChips, UncoveredGroundTruthAlsoMinesNegativeChips) {
  // As in the code, negatives cover every assignment-valid box left uncovered, ground truth too:
  // 11 boxes too small to drive a middle-scale chip (a = 14 < 20) but valid there.
  SniperConfig config = two_scale_config();
  config.scales = {{2.0, -1, -1}, {1.0, -1, -1}, {0, -1, 512}};
  config.valid_ranges = {{-1, 5}, {20, 80}, {10000, -1}};
  SniperImage image{2000, 2000, {}, {}, {}};
  for (int k = 0; k < 11; ++k) image.gt.push_back({100.0 + 5 * k, 300, 114.0 + 5 * k, 314});
  ImageChips chips = image_chips(image, config, 56, 4, 0, 0);
  EXPECT_TRUE(chips.positive.empty());
  ASSERT_EQ(chips.negative.size(), 1u);
  EXPECT_EQ(chips.negative[0].scale_index, 1);
  EXPECT_EQ(chips.negative[0].proposal_count, 11);
  EXPECT_EQ(chips.negative[0].gt_ids, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}));
  image.gt.pop_back();
  EXPECT_TRUE(image_chips(image, config, 56, 4, 0, 0).negative.empty());
}

TEST(SniperChips, StrideIsDrawnPerEpochFrom56To59) {
  ChipSampler sampler(SniperConfig{}, 42);
  std::set<int> seen;
  for (int epoch = 0; epoch < 64; ++epoch) {
    int s = sampler.stride(epoch);
    EXPECT_GE(s, 56);
    EXPECT_LE(s, 59);
    EXPECT_EQ(s, ChipSampler(SniperConfig{}, 42).stride(epoch));
    seen.insert(s);
  }
  EXPECT_EQ(seen.size(), 4u);
}

TEST(SniperChips, EpochListHasEveryPositiveChipAndAtMostTwoNegativesPerImage) {
  SniperConfig config = two_scale_config();
  config.batch_size = 4;
  std::vector<SniperImage> images;
  for (int i = 0; i < 5; ++i) {
    SniperImage im{2000, 2000, {{10.0 + i, 10, 40, 40}, {1500, 1500, 1530, 1540}}, {}, {}};
    for (int cx : {100, 700, 1300}) {  // three far-apart clusters of 30 proposals → 3 neg chips
      for (int k = 0; k < 30; ++k)
        im.proposals.push_back({cx + 2.0 * k, 900, cx + 2.0 * k + 19, 919});
    }
    images.push_back(im);
  }
  ChipSampler sampler(config, 11);
  std::vector<ImageChips> chips = sampler.epoch_chips(images, 3);
  size_t positives = 0;
  for (const ImageChips& c : chips) {
    positives += c.positive.size();
    EXPECT_EQ(c.negative.size(), 3u);
  }
  std::vector<ChipRef> list = sampler.epoch_list(chips, 3);
  EXPECT_EQ(list.size() % 4, 0u);
  EXPECT_GE(list.size(), positives + 10);
  EXPECT_LT(list.size(), positives + 10 + 4);
  std::set<std::pair<int64_t, int>> pos, neg;
  std::vector<std::set<int>> neg_per_image(images.size());
  for (const ChipRef& r : list) {
    (r.negative ? neg : pos).insert({r.image, r.chip});
    if (r.negative) neg_per_image[r.image].insert(r.chip);
  }
  EXPECT_EQ(pos.size(), positives);
  for (const auto& s : neg_per_image) EXPECT_EQ(s.size(), 2u);
  EXPECT_EQ(sampler.epoch_list(chips, 3), list);
  EXPECT_NE(sampler.epoch_list(chips, 4), list);
  EXPECT_NE(ChipSampler(config, 12).epoch_list(chips, 3), list);
  EXPECT_TRUE(sampler.epoch_list({}, 0).empty());
}

TEST(SniperChips, EpochListPaddingRepeatsAnImagesChipsInItsChipOrder) {
  SniperConfig config = two_scale_config();
  config.batch_size = 4;
  std::vector<ImageChips> chips(1);
  chips[0].positive.resize(3);
  ChipSampler sampler(config, 1);
  for (int64_t epoch = 0; epoch < 5; ++epoch) {
    std::vector<ChipRef> list = sampler.epoch_list(chips, epoch);
    ASSERT_EQ(list.size(), 4u);
    // The first three draws are a permutation of the chips; the padding draw repeats the first.
    std::set<int> first_three = {list[0].chip, list[1].chip, list[2].chip};
    EXPECT_EQ(first_three.size(), 3u);
    EXPECT_EQ(list[3].chip, list[0].chip);
  }
}

TEST(SniperChips, EpochChipsMatchPerImageChipsAtAnyThreadCount) {
  SniperConfig config = two_scale_config();
  config.stride_min = 56;
  config.stride_max = 59;
  std::vector<SniperImage> images;
  for (int i = 0; i < 9; ++i) {
    SniperImage im{1500 + 50 * i, 1200, {}, {}, {}};
    for (int k = 0; k < 12; ++k) {
      const double x = 37 * k * (i + 1) % 1400, y = 91 * k % 1100;
      im.gt.push_back({x, y, x + 10 + 7 * k, y + 12 + 5 * k});
    }
    images.push_back(im);
  }
  ChipSampler sampler(config, 21);
  std::vector<ImageChips> all = sampler.epoch_chips(images, 5);
  ASSERT_EQ(all.size(), images.size());
  for (size_t i = 0; i < images.size(); ++i) {
    ImageChips one = sampler.image_chips(images[i], int64_t(i), 5);
    ASSERT_EQ(one.positive.size(), all[i].positive.size());
    for (size_t k = 0; k < one.positive.size(); ++k) {
      EXPECT_EQ(one.positive[k].box, all[i].positive[k].box);
      EXPECT_EQ(one.positive[k].gt_ids, all[i].positive[k].gt_ids);
    }
  }
}

TEST(SniperChips, TestPlanScalesAndRanges) {
  SniperConfig config;
  std::vector<TestScalePlan> plan = test_plan(1000, 800, config);
  ASSERT_EQ(plan.size(), 3u);
  EXPECT_DOUBLE_EQ(plan[0].factor, 1.75);
  EXPECT_EQ(plan[0].width, 1750);
  EXPECT_EQ(plan[0].canvas_width, 2000);
  EXPECT_EQ(plan[0].canvas_height, 1400);
  EXPECT_DOUBLE_EQ(plan[2].factor, 0.512);
  EXPECT_EQ(plan[2].canvas_width, 512);
  EXPECT_EQ(plan[2].canvas_height, 480);
  EXPECT_EQ(plan[1].range.lo, 32);
  EXPECT_EQ(plan[1].range.hi, 180);
  // area = (x2 − x1)(y2 − y1), no +1: 90² is still ≤ hi²; 32² is not > lo².
  EXPECT_TRUE(keep_test_detection({0, 0, 90, 90}, plan[0].range));
  EXPECT_FALSE(keep_test_detection({0, 0, 91, 90}, plan[0].range));
  EXPECT_FALSE(keep_test_detection({0, 0, 32, 32}, plan[1].range));
  EXPECT_TRUE(keep_test_detection({0, 0, 33, 32}, plan[1].range));
  EXPECT_EQ(
      test_detections_in_range({{0, 0, 10, 10}, {0, 0, 50, 50}, {5, 5, 30, 30}}, plan[1].range),
      std::vector<int>{1});
  // None in range: the code keeps them all.
  EXPECT_EQ(test_detections_in_range({{0, 0, 10, 10}, {5, 5, 30, 30}}, plan[1].range),
            (std::vector<int>{0, 1}));
  EXPECT_TRUE(test_detections_in_range({{0, 0, 10, 10}}, plan[1].range, false).empty());
  EXPECT_TRUE(keep_test_detection({0, 0, 4000, 4000}, plan[2].range));
}

TEST(SniperChips, FromAnnotatedConvertsBoxesAndDropsDifficultObjects) {
  AnnotatedImage annotated;
  annotated.width = 500;
  annotated.height = 375;
  Object a, b;
  a.box = {10, 20, 110, 70};  // continuous: pixels 10…109 × 20…69
  b.box = {0, 0, 50, 50};
  b.difficult = true;
  annotated.objects = {b, a};
  SniperImage image = from_annotated(annotated, {{1, 2, 3, 4}});
  ASSERT_EQ(image.gt.size(), 1u);
  EXPECT_EQ(image.gt[0], (Box{10, 20, 109, 69}));
  EXPECT_EQ(image.object_ids, std::vector<int>{1});
  EXPECT_EQ(image.proposals.size(), 1u);
  EXPECT_EQ(from_annotated(annotated, {}, true).gt.size(), 2u);
  annotated.width = 0;
  EXPECT_THROW(from_annotated(annotated), osprey::Error);
}

TEST(SniperChips, BadConfigsAreErrors) {
  SniperConfig config;
  config.valid_ranges.pop_back();
  EXPECT_THROW(ChipSampler(config, 0), osprey::Error);
  config = SniperConfig{};
  config.stride_min = 60;
  EXPECT_THROW(ChipSampler(config, 0), osprey::Error);
  EXPECT_THROW(image_chips(SniperImage{0, 10, {}, {}, {}}, SniperConfig{}, 56, 0, 0, 0),
               osprey::Error);
}

}  // namespace
}  // namespace osprey::data::sniper
