// Segmented (batched) bitmask NMS: S independent segments (one per image of rpn_proposals), each
// a list of at most `cap` boxes already sorted by decreasing score, stored at a fixed stride of
// `cap` boxes; lengths[s] <= cap boxes of segment s are live. Greedy NMS runs within each segment
// only. The same layout and the same per-step functions serve the CUDA kernels
// (ops/nms/segmented_nms_cuda.cuh) and the host mirror below, so the CPU tests check the logic
// the GPU runs:
//   mask:  mask[(s * cap + a) * words + w], words = ceil(cap / 64), is the 64-bit word w of row a
//          of segment s: bit k set when box 64 w + k (> a) of the segment has IoU > threshold
//          with box a. Only tiles with w >= a / 64 and 64 w < lengths[s] are written (the scan
//          reads no others). CUDA: one block per (column tile, row tile, segment), a thread a row.
//   scan:  per segment, the 64-box blocks in order: resolve_block() decides the block's boxes
//          from the removed word and the block's diagonal words, then the kept rows are ORed
//          into the removed words of later blocks. CUDA: one block of threads per segment.
// Output: keep[s * cap + r] = the segment-local index of segment s's r-th kept box (r <
//         kept[s]), by decreasing score. Nothing leaves the device.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "framework/core/macros.h"
#include "ops/common/box_geometry.h"

namespace osprey::ops::segmented_nms {

inline constexpr int kTile = 64;
// The longest segment the CUDA scan takes: one removed bit per box in shared memory (47 KiB of the
// 48 KiB a block may use without opting in). The mask holds segments * cap * words_for(cap) words.
inline constexpr int64_t kMaxSegmentBoxes = 47 * 1024 * 8;

OSPREY_INLINE int64_t words_for(int64_t boxes) {
  return (boxes + kTile - 1) / kTile;
}

// Segments per mask/scan launch pair: all of them unless their masks together would pass
// kMaskBudgetBytes (rpn_proposals with pre_nms_top_n = 0: 21504 boxes, 58 MB a segment); the
// next group of segments reuses the same mask buffer.
inline constexpr int64_t kMaskBudgetBytes = int64_t{256} << 20;
inline int64_t segments_per_launch(int64_t cap, int64_t segments) {
  const int64_t per_segment = std::max<int64_t>(1, cap * words_for(cap) * 8);
  return std::clamp<int64_t>(kMaskBudgetBytes / per_segment, 1, std::max<int64_t>(segments, 1));
}

// Word of row `a` (segment-local) over the column tile of `col_size` boxes starting at
// `col_start` (coordinates in `col`, 4 per box); in the diagonal tile only boxes after a count.
// With `col_groups` (the tile's group ids; batched_nms), only boxes of group `group_a` count.
template <typename T>
OSPREY_INLINE uint64_t row_word(const T* box_a, int64_t a, const T* col, int64_t col_start,
                                int col_size, T threshold, T offset,
                                const int64_t* col_groups = nullptr, int64_t group_a = 0) {
  uint64_t bits = 0;
  const int first = a >= col_start ? static_cast<int>(a - col_start) + 1 : 0;
  for (int k = first; k < col_size; ++k) {
    if (col_groups != nullptr && col_groups[k] != group_a) continue;
    if (box::iou(box_a, col + 4 * k, offset) > threshold) bits |= uint64_t{1} << k;
  }
  return bits;
}

// Segment s's length: lengths[s] clamped to cap, or cap when `lengths` is null (nms: one full
// segment whose length the host knows).
OSPREY_INLINE int64_t segment_length(const int64_t* lengths, int64_t s, int64_t cap) {
  if (lengths == nullptr) return cap;
  return lengths[s] < cap ? lengths[s] : cap;
}

// The kept bits of one block of `size` boxes whose removed bits (by earlier blocks) are `gone`;
// diagonal[k] is row k's word of this block. Sequential: box k is kept unless removed, and a
// kept box removes the later boxes its diagonal word names.
OSPREY_INLINE uint64_t resolve_block(uint64_t gone, const uint64_t* diagonal, int size) {
  uint64_t kept = 0;
  for (int k = 0; k < size; ++k) {
    if (gone >> k & 1) continue;
    kept |= uint64_t{1} << k;
    gone |= diagonal[k];
  }
  return kept;
}

// Host mirror of the CUDA mask kernel: the same tiles, the same row_word calls. groups: null, or
// one group id per box in the same layout as `boxes`.
template <typename T>
void mask_host(int64_t segments, int64_t cap, const int64_t* lengths, const T* boxes,
               const int64_t* groups, T threshold, T offset, uint64_t* mask) {
  const int64_t words = words_for(cap);
  for (int64_t s = 0; s < segments; ++s) {
    const int64_t len = segment_length(lengths, s, cap);
    const T* seg = boxes + 4 * s * cap;
    const int64_t* seg_groups = groups != nullptr ? groups + s * cap : nullptr;
    for (int64_t row_tile = 0; row_tile < words_for(len); ++row_tile) {
      for (int64_t col_tile = row_tile; col_tile < words_for(len); ++col_tile) {
        const int64_t col_start = col_tile * kTile;
        const int col_size = static_cast<int>(std::min<int64_t>(kTile, len - col_start));
        const int64_t row_end = std::min<int64_t>(len, (row_tile + 1) * kTile);
        for (int64_t a = row_tile * kTile; a < row_end; ++a) {
          mask[(s * cap + a) * words + col_tile] =
              row_word(seg + 4 * a, a, seg + 4 * col_start, col_start, col_size, threshold, offset,
                       seg_groups != nullptr ? seg_groups + col_start : nullptr,
                       seg_groups != nullptr ? seg_groups[a] : 0);
        }
      }
    }
  }
}

// Host mirror of the CUDA scan kernel (one segment per CUDA block; here one after another).
// keep[s * cap + r] = order[s * cap + local] when `order` is given (nms: back to input indices),
// else the segment-local index.
inline void scan_host(int64_t segments, int64_t cap, const int64_t* lengths, const uint64_t* mask,
                      const int64_t* order, int64_t* keep, int64_t* kept) {
  const int64_t words = words_for(cap);
  std::vector<uint64_t> removed(static_cast<size_t>(words));
  uint64_t diagonal[kTile];
  for (int64_t s = 0; s < segments; ++s) {
    const int64_t len = segment_length(lengths, s, cap), seg_words = words_for(len);
    const uint64_t* rows = mask + s * cap * words;
    std::fill(removed.begin(), removed.end(), uint64_t{0});
    int64_t total = 0;
    for (int64_t block = 0; block < seg_words; ++block) {
      const int64_t start = block * kTile;
      const int size = static_cast<int>(std::min<int64_t>(kTile, len - start));
      for (int k = 0; k < size; ++k) diagonal[k] = rows[(start + k) * words + block];
      const uint64_t bits = resolve_block(removed[block], diagonal, size);
      for (int k = 0; k < size; ++k) {
        if (!(bits >> k & 1)) continue;
        keep[s * cap + total++] = order != nullptr ? order[s * cap + start + k] : start + k;
        for (int64_t w = block + 1; w < seg_words; ++w) removed[w] |= rows[(start + k) * words + w];
      }
    }
    kept[s] = total;
  }
}

}  // namespace osprey::ops::segmented_nms
