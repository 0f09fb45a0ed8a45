// CUDA kernels of the segmented bitmask NMS (layout and host mirrors: ops/nms/segmented_nms.h).
// Both read each segment's length from the device (`lengths`, clamped to `cap`; null: every
// segment has `cap` boxes), so a caller can chain them after kernels that produce the lengths
// without a host round trip. `groups` (mask) and `order` (scan) are optional, as in the host
// mirrors: nms / batched_nms use one segment with the score order and, for batched_nms, groups.
//   segmented_nms_mask: grid (words, words, segments), kTile threads; tiles left of the diagonal
//     or past the segment's length return at once. Column boxes in shared memory, thread t
//     writes row (row_tile * 64 + t)'s word with row_word() — mask_host's loop body.
//   segmented_nms_scan: one block per segment, removed bits in shared memory (words * 8 bytes of
//     dynamic shared memory). Thread 0 resolves each 64-box block with resolve_block(), then all
//     threads write the kept indices, prefetch the next diagonal and OR the kept rows into later
//     words (kChunk rows a load batch; shared atomicOr: OR commutes, so the result is scan_host's
//     whatever the order).
#pragma once

#include <cuda_runtime.h>

#include "ops/nms/segmented_nms.h"

namespace osprey::ops::segmented_nms {

inline constexpr int kScanThreads = 512;
inline constexpr int kScanChunk = 8;

template <typename T>
__global__ void __launch_bounds__(kTile)
    segmented_nms_mask(int64_t cap, const int64_t* lengths, const T* boxes, const int64_t* groups,
                       T threshold, T offset, uint64_t* mask) {
  const int64_t s = blockIdx.z, row_tile = blockIdx.y, col_tile = blockIdx.x;
  const int64_t len = segment_length(lengths, s, cap);
  if (col_tile < row_tile || col_tile * kTile >= len) return;  // uniform over the block
  __shared__ T col[kTile * 4];
  __shared__ int64_t col_group[kTile];
  const int64_t words = words_for(cap);
  const T* seg = boxes + 4 * s * cap;
  const int64_t* seg_groups = groups != nullptr ? groups + s * cap : nullptr;
  const int64_t col_start = col_tile * kTile, row_start = row_tile * kTile;
  const int col_size = static_cast<int>(min(static_cast<int64_t>(kTile), len - col_start));
  const int row_size = static_cast<int>(min(static_cast<int64_t>(kTile), len - row_start));
  const int t = threadIdx.x;
  if (t < col_size) {
    for (int c = 0; c < 4; ++c) col[4 * t + c] = seg[4 * (col_start + t) + c];
    if (seg_groups != nullptr) col_group[t] = seg_groups[col_start + t];
  }
  __syncthreads();
  if (t >= row_size) return;
  const int64_t a = row_start + t;
  T box_a[4];
  for (int c = 0; c < 4; ++c) box_a[c] = seg[4 * a + c];
  mask[(s * cap + a) * words + col_tile] = row_word(
      box_a, a, col, col_start, col_size, threshold, offset,
      seg_groups != nullptr ? col_group : nullptr, seg_groups != nullptr ? seg_groups[a] : 0);
}

// A template (on the block size it is launched with), so that every .cu including this header
// shares one definition.
template <int Threads>
__global__ void __launch_bounds__(Threads)
    segmented_nms_scan(int64_t cap, const int64_t* lengths, const uint64_t* mask,
                       const int64_t* order, int64_t* keep, int64_t* kept) {
  extern __shared__ unsigned long long removed[];  // words_for(cap)
  __shared__ uint64_t diagonal[kTile];
  __shared__ int kept_list[kTile];
  __shared__ int kept_count;
  __shared__ uint64_t kept_bits;
  const int64_t s = blockIdx.x;
  const int64_t len = segment_length(lengths, s, cap);
  const int64_t words = words_for(cap), seg_words = words_for(len);
  const uint64_t* rows = mask + s * cap * words;
  const int t = threadIdx.x;
  for (int64_t w = t; w < seg_words; w += blockDim.x) removed[w] = 0;
  if (t < kTile && t < len) diagonal[t] = rows[t * words];
  __syncthreads();
  int64_t total = 0;  // boxes kept before this block (the same in every thread)
  for (int64_t block = 0; block < seg_words; ++block) {
    const int64_t start = block * kTile;
    const int size = static_cast<int>(min(static_cast<int64_t>(kTile), len - start));
    if (t == 0) {
      const uint64_t bits = resolve_block(static_cast<uint64_t>(removed[block]), diagonal, size);
      int listed = 0;
      for (int k = 0; k < size; ++k) {
        if (bits >> k & 1) kept_list[listed++] = k;
      }
      kept_bits = bits;
      kept_count = listed;
    }
    __syncthreads();
    const uint64_t bits = kept_bits;
    const int kept_here = kept_count;
    if (t < size && (bits >> t & 1)) {
      keep[s * cap + total + __popcll(bits & ((uint64_t{1} << t) - 1))] =
          order != nullptr ? order[s * cap + start + t] : start + t;
    }
    const int64_t next_start = start + kTile;
    uint64_t next_diagonal = 0;
    if (block + 1 < seg_words && t < kTile && next_start + t < len) {
      next_diagonal = rows[(next_start + t) * words + block + 1];
    }
    const int64_t later = seg_words - block - 1;
    const int64_t items = later * ((kept_here + kScanChunk - 1) / kScanChunk);
    for (int64_t item = t; item < items; item += blockDim.x) {
      const int64_t w = block + 1 + item % later;
      const int first = static_cast<int>(item / later) * kScanChunk;
      uint64_t loaded[kScanChunk];
#pragma unroll
      for (int j = 0; j < kScanChunk; ++j) {
        loaded[j] = first + j < kept_here ? rows[(start + kept_list[first + j]) * words + w] : 0;
      }
      uint64_t acc = 0;
#pragma unroll
      for (int j = 0; j < kScanChunk; ++j) acc |= loaded[j];
      if (acc != 0) atomicOr(&removed[w], static_cast<unsigned long long>(acc));
    }
    total += kept_here;
    __syncthreads();  // removed[] complete; diagonal and kept_list no longer read
    if (t < kTile) diagonal[t] = next_diagonal;
    __syncthreads();
  }
  if (t == 0) kept[s] = total;
}

}  // namespace osprey::ops::segmented_nms
