// The CPU cores of greedy NMS, shared by nms and batched_nms (whose `groups` keep boxes of
// different groups from suppressing each other). Both visit boxes in the order of
// `score_order` (decreasing score, ties by index) and use box::iou, so they agree exactly.
#pragma once

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <vector>

#include "ops/common/box_geometry.h"

namespace osprey::ops::nms_cpu {

// Indices 0..n-1 by decreasing score; equal scores keep increasing index (stable).
template <typename T>
std::vector<int64_t> score_order(const T* scores, int64_t n) {
  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), int64_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [scores](int64_t a, int64_t b) { return scores[a] > scores[b]; });
  return order;
}

// The obviously right O(N^2) greedy loop. boxes: contiguous [n, 4]; groups: null or [n].
template <typename T>
std::vector<int64_t> greedy_reference(const T* boxes, const T* scores, const int64_t* groups,
                                      int64_t n, T threshold, T offset) {
  const std::vector<int64_t> order = score_order(scores, n);
  std::vector<char> suppressed(n, 0);
  std::vector<int64_t> keep;
  for (int64_t a = 0; a < n; ++a) {
    const int64_t i = order[a];
    if (suppressed[i]) continue;
    keep.push_back(i);
    for (int64_t b = a + 1; b < n; ++b) {
      const int64_t j = order[b];
      if (groups && groups[i] != groups[j]) continue;
      if (box::iou(boxes + 4 * i, boxes + 4 * j, offset) > threshold) suppressed[j] = 1;
    }
  }
  return keep;
}

// Sort, then the IoU bitmask: row a (in score order) has bit b set when box b (b > a) overlaps
// box a above the threshold. Rows are independent and computed in parallel (OpenMP) from
// coordinates gathered into score order, structure-of-arrays so the inner loop vectorises; a
// sequential scan then ORs the rows of kept boxes into a `removed` bitset, touching n/64 words
// per kept box. Work: n^2/2 IoUs spread over the cores instead of torchvision's serial loop.
std::vector<int64_t> bitmask_scan(const std::vector<uint64_t>& mask, int64_t n, int64_t words,
                                  const std::vector<int64_t>& order);

template <typename T>
std::vector<int64_t> greedy_bitmask(const T* boxes, const T* scores, const int64_t* groups,
                                    int64_t n, T threshold, T offset) {
  const std::vector<int64_t> order = score_order(scores, n);
  const int64_t words = (n + 63) / 64;
  std::vector<T> x1(n), y1(n), x2(n), y2(n), area(n);
  std::vector<int64_t> group(groups ? n : 0);
  for (int64_t a = 0; a < n; ++a) {
    const T* b = boxes + 4 * order[a];
    x1[a] = b[0], y1[a] = b[1], x2[a] = b[2], y2[a] = b[3];
    area[a] = box::area(b, offset);
    if (groups) group[a] = groups[order[a]];
  }
  std::vector<uint64_t> mask(static_cast<size_t>(n) * words, 0);
#pragma omp parallel for schedule(dynamic, 16) if (n >= 256)
  for (int64_t a = 0; a < n; ++a) {
    uint64_t* row = mask.data() + a * words;
    for (int64_t w = (a + 1) / 64; w < words; ++w) {
      const int64_t lo = std::max(w * 64, a + 1), hi = std::min(w * 64 + 64, n);
      uint64_t bits = 0;
      for (int64_t b = lo; b < hi; ++b) {
        // box::iou's formula on the gathered arrays (same operations, same rounding).
        const T iw = box::min_of(x2[a], x2[b]) - box::max_of(x1[a], x1[b]) + offset;
        const T ih = box::min_of(y2[a], y2[b]) - box::max_of(y1[a], y1[b]) + offset;
        const T inter = iw > T(0) && ih > T(0) ? iw * ih : T(0);
        const T uni = area[a] + area[b] - inter;
        const T iou = uni > T(0) ? inter / uni : T(0);
        const bool same_group = !groups || group[a] == group[b];
        bits |= static_cast<uint64_t>(iou > threshold && same_group) << (b - w * 64);
      }
      row[w] = bits;
    }
  }
  return bitmask_scan(mask, n, words, order);
}

}  // namespace osprey::ops::nms_cpu
