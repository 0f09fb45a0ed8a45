// The CPU cores of greedy NMS, shared by nms and batched_nms (whose `groups` keep boxes of
// different groups from suppressing each other). Both visit boxes in the order of
// `score_order` (decreasing score, ties by index) and use box::iou, so they agree exactly.
#pragma once

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <type_traits>
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
// coordinates gathered into score order, structure-of-arrays and padded to whole 64-box words so
// that the inner loop is branch-free and vectorises; a sequential scan then ORs the rows of kept
// boxes into a `removed` bitset, touching n/64 words per kept box. Work: at most n^2/2 IoUs
// spread over the cores (and SIMD lanes) instead of torchvision's serial loop.

// Integers as wide as T, so that flag and group lanes match the coordinate lanes.
template <typename T>
using LaneInt = std::conditional_t<sizeof(T) == 4, int32_t, int64_t>;

template <typename T>
struct SortedBoxes {
  std::vector<T> x1, y1, x2, y2, area;
  std::vector<LaneInt<T>> group;  // dense group ids (0 .. groups - 1)
};

// One 64-bit word of row a: bits for boxes [64 w, 64 w + 64). box::iou's arithmetic, written with
// selects of computed values (max(w, 0) * max(h, 0) is box::intersection's value) so that the
// compiler vectorises it; the decisions are the reference's exactly.
template <bool Groups, typename T>
[[gnu::always_inline]] inline uint64_t overlap_word(const SortedBoxes<T>& s, int64_t a, int64_t w,
                                                    T threshold, T offset) {
  const T* __restrict x1 = s.x1.data() + w * 64;
  const T* __restrict y1 = s.y1.data() + w * 64;
  const T* __restrict x2 = s.x2.data() + w * 64;
  const T* __restrict y2 = s.y2.data() + w * 64;
  const T* __restrict area = s.area.data() + w * 64;
  using Flag = LaneInt<T>;
  const Flag* __restrict group = Groups ? s.group.data() + w * 64 : nullptr;
  const T ax1 = s.x1[a], ay1 = s.y1[a], ax2 = s.x2[a], ay2 = s.y2[a], aarea = s.area[a];
  const Flag ag = Groups ? s.group[a] : 0;
  alignas(64) Flag hit[64];
  for (int k = 0; k < 64; ++k) {
    const T iw = box::min_of(ax2, x2[k]) - box::max_of(ax1, x1[k]) + offset;
    const T ih = box::min_of(ay2, y2[k]) - box::max_of(ay1, y1[k]) + offset;
    const T inter = box::max_of(iw, T(0)) * box::max_of(ih, T(0));
    const T uni = aarea + area[k] - inter;
    const T q = inter / (uni > T(0) ? uni : T(1));
    const T iou = uni > T(0) ? q : T(0);
    Flag f = iou > threshold ? Flag(1) : Flag(0);
    if constexpr (Groups) f &= group[k] == ag ? Flag(1) : Flag(0);
    hit[k] = f;
  }
  uint64_t bits = 0;
  for (int k = 0; k < 64; ++k) bits |= static_cast<uint64_t>(hit[k]) << k;
  return bits;
}

// Row a of the mask, from the word holding box a + 1 on.
template <bool Groups, typename T>
[[gnu::always_inline]] inline void fill_row(const SortedBoxes<T>& s, int64_t a, int64_t words,
                                            T threshold, T offset, uint64_t* row) {
  const int64_t first = (a + 1) / 64;
  for (int64_t w = first; w < words; ++w) row[w] = overlap_word<Groups>(s, a, w, threshold, offset);
  // Bits of boxes at or before a in its own word are not "later" boxes.
  if (first == a / 64) row[first] &= ~((uint64_t{2} << (a % 64)) - 1);
}

// The same row compiled for AVX2 (8 floats a vector instead of SSE2's 4), picked at run time. No
// FMA: the arithmetic, and so every decision, stays the reference's.
#if defined(__x86_64__) && defined(__GNUC__)
inline bool has_avx2() {
  return __builtin_cpu_supports("avx2");
}
template <bool Groups, typename T>
[[gnu::target("avx2")]] void fill_row_avx2(const SortedBoxes<T>& s, int64_t a, int64_t words,
                                           T threshold, T offset, uint64_t* row) {
  fill_row<Groups>(s, a, words, threshold, offset, row);
}
#else
inline bool has_avx2() {
  return false;
}
template <bool Groups, typename T>
void fill_row_avx2(const SortedBoxes<T>& s, int64_t a, int64_t words, T threshold, T offset,
                   uint64_t* row) {
  fill_row<Groups>(s, a, words, threshold, offset, row);
}
#endif

template <typename T>
std::vector<int64_t> greedy_bitmask(const T* boxes, const T* scores, const int64_t* groups,
                                    int64_t n, T threshold, T offset) {
  const std::vector<int64_t> order = score_order(scores, n);
  const int64_t words = (n + 63) / 64, padded = words * 64;
  // Padding boxes are far away and empty: they overlap nothing.
  const T far = T(-1e30);
  SortedBoxes<T> s{std::vector<T>(padded, far),  std::vector<T>(padded, far),
                   std::vector<T>(padded, far),  std::vector<T>(padded, far),
                   std::vector<T>(padded, T(0)), std::vector<LaneInt<T>>(groups ? padded : 0, -1)};
  std::vector<int64_t> ids;
  if (groups) {
    ids.assign(groups, groups + n);
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  }
  for (int64_t a = 0; a < n; ++a) {
    const T* b = boxes + 4 * order[a];
    s.x1[a] = b[0], s.y1[a] = b[1], s.x2[a] = b[2], s.y2[a] = b[3];
    s.area[a] = box::area(b, offset);
    if (groups) {
      const int64_t g = groups[order[a]];
      s.group[a] =
          static_cast<LaneInt<T>>(std::lower_bound(ids.begin(), ids.end(), g) - ids.begin());
    }
  }
  // Chunks of kChunk boxes in score order: the rows of the chunk's boxes not yet removed are
  // computed in parallel, then the chunk is scanned in order. Rows of boxes an earlier chunk
  // removed are never computed (most of them when NMS suppresses much, as on RPN proposals), and
  // only kChunk rows are held at a time.
  constexpr int64_t kChunk = 256;
  std::vector<uint64_t> rows(static_cast<size_t>(kChunk * words));
  std::vector<uint64_t> removed(static_cast<size_t>(words), 0);
  std::vector<int64_t> live, keep;
  const bool avx2 = has_avx2();
  for (int64_t c0 = 0; c0 < n; c0 += kChunk) {
    const int64_t c1 = std::min(n, c0 + kChunk);
    live.clear();
    for (int64_t a = c0; a < c1; ++a) {
      if (!(removed[a / 64] >> (a % 64) & 1)) live.push_back(a);
    }
    const auto m = static_cast<int64_t>(live.size());
#pragma omp parallel for schedule(dynamic, 4) if (m * (n - c0) >= 65536)
    for (int64_t r = 0; r < m; ++r) {
      uint64_t* row = rows.data() + r * words;
      if (groups) {
        avx2 ? fill_row_avx2<true>(s, live[r], words, threshold, offset, row)
             : fill_row<true>(s, live[r], words, threshold, offset, row);
      } else {
        avx2 ? fill_row_avx2<false>(s, live[r], words, threshold, offset, row)
             : fill_row<false>(s, live[r], words, threshold, offset, row);
      }
    }
    for (int64_t r = 0; r < m; ++r) {
      const int64_t a = live[r];
      if (removed[a / 64] >> (a % 64) & 1) continue;  // removed within this chunk
      keep.push_back(order[a]);
      const uint64_t* row = rows.data() + r * words;
      for (int64_t w = (a + 1) / 64; w < words; ++w) removed[w] |= row[w];
    }
  }
  return keep;
}

}  // namespace osprey::ops::nms_cpu
