// CUDA kernel of nms (and the core of batched_nms): the bitmask algorithm, on the device end to
// end. Steps, all on the current stream:
//   1. sort scores descending with ops::sort (stable radix sort: ties keep the lower index, as
//      on the CPU) and gather boxes (and groups) into that order, reading any strides;
//   2. mask kernel: one block per (row block, column block) of 64 x 64 boxes, column boxes in
//      shared memory; thread a writes the 64-bit word of box a's row: bit b set when box b (b > a)
//      has box::iou > threshold with box a (and the same group);
//   3. scan kernel: ONE block of 1024 threads walks the 64-box blocks in order, the removed bits
//      in shared memory. For block k one thread resolves the 64 boxes sequentially from shared
//      memory (a kept box's diagonal word removes later boxes of the block); then all threads
//      write the kept indices, prefetch block k+1's diagonal words and OR the kept rows into the
//      removed words of later blocks (8 independent loads per item, so no thread waits on one
//      load per kept box). Kept indices and their count are written on the device; the mask
//      never leaves it.
// Input values (nms's validate leaves them to this kernel for CUDA inputs): a check kernel reduces
// the first bad box row (ops/common/box_value_check.h) and the first NaN score into two device
// words (atomicMin), which ride with the kept count in ONE 24-byte read-back, the op's one host
// synchronisation (the output's length). A bad input then throws the host check's error (op,
// argument, row and values; the row is copied on that error path only). Work: n^2/2 IoUs spread
// over the GPU, then n/64 short sequential steps; deterministic (the atomics are min / OR).
#include "ops/common/box_checks.h"
#include "ops/common/box_geometry.h"
#include "ops/common/box_value_check.h"
#include "ops/common/cuda_loops.cuh"
#include "ops/nms/nms_cuda.h"
#include "ops/sort/sort.h"

namespace osprey::ops {
namespace {

constexpr int kBlockBoxes = 64;
constexpr int kScanThreads = 1024;
constexpr int kChunk = 8;  // kept rows one scan thread loads before it ORs them

// status[1] = the first row with a bad box, status[2] = the first NaN score; both start at all
// ones (none), so atomicMin keeps the lowest offending index whatever the thread order.
template <typename T>
__global__ void find_bad_inputs(int64_t n, const T* boxes, int64_t stride0, int64_t stride1,
                                const T* scores, int64_t score_stride, unsigned long long* status) {
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += step) {
    T b[4];
    for (int c = 0; c < 4; ++c) b[c] = boxes[i * stride0 + c * stride1];
    if (bad_box(b)) atomicMin(status + 1, static_cast<unsigned long long>(i));
    const T s = scores[i * score_stride];
    if (s != s) atomicMin(status + 2, static_cast<unsigned long long>(i));
  }
}

template <typename T>
__global__ void gather_sorted(int64_t n, const T* boxes, int64_t stride0, int64_t stride1,
                              const int64_t* groups, int64_t group_stride, const int64_t* order,
                              T* sorted, int64_t* sorted_groups) {
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t a = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; a < n; a += step) {
    const int64_t i = order[a];
    for (int c = 0; c < 4; ++c) sorted[4 * a + c] = boxes[i * stride0 + c * stride1];
    if (groups) sorted_groups[a] = groups[i * group_stride];
  }
}

template <typename T>
__global__ void nms_mask(int64_t n, int64_t words, const T* boxes, const int64_t* groups,
                         T threshold, T offset, uint64_t* mask) {
  const int64_t row_block = blockIdx.y, col_block = blockIdx.x;
  if (col_block < row_block) return;  // the scan reads row words at or after the diagonal only
  __shared__ T col[kBlockBoxes * 4];
  __shared__ int64_t col_group[kBlockBoxes];
  const int64_t col_start = col_block * kBlockBoxes, row_start = row_block * kBlockBoxes;
  const int col_size = static_cast<int>(min(static_cast<int64_t>(kBlockBoxes), n - col_start));
  const int row_size = static_cast<int>(min(static_cast<int64_t>(kBlockBoxes), n - row_start));
  const int t = threadIdx.x;
  if (t < col_size) {
    for (int c = 0; c < 4; ++c) col[4 * t + c] = boxes[4 * (col_start + t) + c];
    if (groups) col_group[t] = groups[col_start + t];
  }
  __syncthreads();
  if (t >= row_size) return;
  const int64_t a = row_start + t;
  T box_a[4];
  for (int c = 0; c < 4; ++c) box_a[c] = boxes[4 * a + c];
  const int64_t group_a = groups ? groups[a] : 0;
  uint64_t bits = 0;
  for (int k = row_block == col_block ? t + 1 : 0; k < col_size; ++k) {
    if (groups && col_group[k] != group_a) continue;
    if (box::iou(box_a, col + 4 * k, offset) > threshold) bits |= uint64_t{1} << k;
  }
  mask[a * words + col_block] = bits;
}

__global__ void nms_scan(int64_t n, int64_t words, const uint64_t* mask, const int64_t* order,
                         int64_t* keep, int64_t* count) {
  extern __shared__ unsigned long long removed[];  // words
  __shared__ uint64_t diagonal[kBlockBoxes];
  __shared__ int kept_list[kBlockBoxes];
  __shared__ int kept_count;
  __shared__ uint64_t kept_bits;
  const int t = threadIdx.x;
  for (int64_t w = t; w < words; w += blockDim.x) removed[w] = 0;
  if (t < kBlockBoxes && t < n) diagonal[t] = mask[t * words];
  __syncthreads();
  int64_t total = 0;  // boxes kept before this block (the same in every thread)
  for (int64_t block = 0; block < words; ++block) {
    const int64_t start = block * kBlockBoxes;
    const int size = static_cast<int>(min(static_cast<int64_t>(kBlockBoxes), n - start));
    // 1. One thread resolves the block's boxes in order, from shared memory only.
    if (t == 0) {
      uint64_t gone = removed[block], kept = 0;
      int listed = 0;
      for (int k = 0; k < size; ++k) {
        if (gone >> k & 1) continue;
        kept |= uint64_t{1} << k;
        gone |= diagonal[k];
        kept_list[listed++] = k;
      }
      kept_bits = kept;
      kept_count = listed;
    }
    __syncthreads();
    const uint64_t kept = kept_bits;
    const int kept_here = kept_count;
    // 2. In parallel: the kept indices, the next block's diagonal words (prefetched), and the
    //    kept rows ORed into later words, kChunk independent loads per item, shared atomics
    //    (OR commutes: the result does not depend on their order).
    if (t < size && (kept >> t & 1)) {
      keep[total + __popcll(kept & ((uint64_t{1} << t) - 1))] = order[start + t];
    }
    const int64_t next_start = start + kBlockBoxes;
    uint64_t next_diagonal = 0;
    if (block + 1 < words && t < kBlockBoxes && next_start + t < n) {
      next_diagonal = mask[(next_start + t) * words + block + 1];
    }
    const int64_t later = words - block - 1;
    const int64_t items = later * ((kept_here + kChunk - 1) / kChunk);
    for (int64_t item = t; item < items; item += blockDim.x) {
      const int64_t w = block + 1 + item % later;
      const int first = static_cast<int>(item / later) * kChunk;
      uint64_t rows[kChunk];
#pragma unroll
      for (int j = 0; j < kChunk; ++j) {
        rows[j] = first + j < kept_here ? mask[(start + kept_list[first + j]) * words + w] : 0;
      }
      uint64_t acc = 0;
#pragma unroll
      for (int j = 0; j < kChunk; ++j) acc |= rows[j];
      if (acc != 0) atomicOr(&removed[w], static_cast<unsigned long long>(acc));
    }
    total += kept_here;
    __syncthreads();  // removed[] complete; diagonal and kept_list no longer read
    if (t < kBlockBoxes) diagonal[t] = next_diagonal;
    __syncthreads();
  }
  if (t == 0) *count = total;
}

void nms_kernel(KernelContext& ctx) {
  check_cuda_operands(ctx);
  if (ctx.input(0).size(0) == 0) {
    ctx.output(0, {0}, DType::i64);
    return;
  }
  Tensor keep = nms_cuda_keep(ctx, Tensor());
  ctx.output(0, keep.shape(), DType::i64).copy_(keep);
}

bool nms_cuda_supports(const KernelContext& ctx) {
  const DType d = ctx.input(0).dtype();
  return (d == DType::f32 || d == DType::f64) && ctx.input(0).size(0) <= kNmsCudaMaxBoxes;
}

const bool registered = [] {
  register_kernel("nms", DeviceType::cuda, "bitmask", 0, nms_kernel, nms_cuda_supports,
                  "64x64-box IoU bitmask blocks, then a one-block scan on the device; f32/f64");
  return true;
}();

}  // namespace

Tensor nms_cuda_keep(const KernelContext& ctx, const Tensor& groups) {
  const Tensor& boxes = ctx.input(0);
  const Tensor& scores = ctx.input(1);
  const double iou_threshold = ctx.attrs().get_float("iou_threshold");
  const double offset = box_offset(ctx.attrs());
  const int64_t n = boxes.size(0);
  const int64_t words = (n + kBlockBoxes - 1) / kBlockBoxes;
  const Device device = boxes.device();
  cuda::DeviceGuard guard(device.index);
  auto order = sort(scores, 0, /*descending=*/true).second;
  cudaStream_t stream = cuda::current_stream();
  Tensor sorted_boxes = Tensor::empty({n, 4}, boxes.dtype(), device);
  Tensor sorted_groups = groups.defined() ? Tensor::empty({n}, DType::i64, device) : Tensor();
  Tensor mask = Tensor::empty({n * words}, DType::i64, device);
  Tensor keep = Tensor::empty({n}, DType::i64, device);
  // status: [kept count, first bad box row, first NaN score] — read back together, once.
  Tensor status = Tensor::empty({3}, DType::i64, device);
  auto* status_ptr = status.data<int64_t>();
  OSPREY_CUDA_CHECK(cudaMemsetAsync(status_ptr + 1, 0xff, 2 * sizeof(int64_t), stream));
  auto* order_ptr = order.data<int64_t>();  // sort's indices output is contiguous
  int64_t* group_out = groups.defined() ? sorted_groups.data<int64_t>() : nullptr;
  OSPREY_DISPATCH_FLOAT(boxes.dtype(), "nms", [&]<typename T>() {
    find_bad_inputs<T><<<cuda_detail::blocks_for(n), cuda_detail::kThreads, 0, stream>>>(
        n, static_cast<const T*>(boxes.raw_data()), boxes.stride(0), boxes.stride(1),
        static_cast<const T*>(scores.raw_data()), scores.stride(0),
        reinterpret_cast<unsigned long long*>(status_ptr));
    OSPREY_CUDA_LAUNCH_CHECK();
    gather_sorted<T><<<cuda_detail::blocks_for(n), cuda_detail::kThreads, 0, stream>>>(
        n, static_cast<const T*>(boxes.raw_data()), boxes.stride(0), boxes.stride(1),
        groups.defined() ? groups.data<int64_t>() : nullptr,
        groups.defined() ? groups.stride(0) : 0, order_ptr, sorted_boxes.data<T>(), group_out);
    OSPREY_CUDA_LAUNCH_CHECK();
    dim3 grid(static_cast<unsigned>(words), static_cast<unsigned>(words));
    nms_mask<T><<<grid, kBlockBoxes, 0, stream>>>(
        n, words, sorted_boxes.data<T>(), group_out, static_cast<T>(iou_threshold),
        static_cast<T>(offset), reinterpret_cast<uint64_t*>(mask.data<int64_t>()));
    OSPREY_CUDA_LAUNCH_CHECK();
  });
  nms_scan<<<1, kScanThreads, static_cast<size_t>(words) * sizeof(unsigned long long), stream>>>(
      n, words, reinterpret_cast<const uint64_t*>(mask.data<int64_t>()), order_ptr,
      keep.data<int64_t>(), status_ptr);
  OSPREY_CUDA_LAUNCH_CHECK();
  // The one host synchronisation: the output's length and the two input checks, 24 bytes.
  int64_t host_status[3] = {0, -1, -1};
  OSPREY_CUDA_CHECK(cudaMemcpyAsync(host_status, status_ptr, sizeof(host_status),
                                    cudaMemcpyDeviceToHost, stream));
  OSPREY_CUDA_CHECK(cudaStreamSynchronize(stream));
  const std::string& op = ctx.op().schema.name;
  if (host_status[1] >= 0) {  // error path: copy the offending row to name its values
    const std::vector<double> row =
        boxes.narrow(0, host_status[1], 1).cpu().to(DType::f64).to_vector<double>();
    throw_bad_box(op, ctx.op().schema.input_spec(0).name, host_status[1], row.data());
  }
  if (host_status[2] >= 0) throw_nan_score(op, ctx.op().schema.input_spec(1).name, host_status[2]);
  return keep.narrow(0, 0, host_status[0]);
}

}  // namespace osprey::ops
