// CUDA kernel of nms (and the core of batched_nms): the bitmask algorithm, on the device end to
// end, as the one-segment case of the segmented bitmask NMS (ops/nms/segmented_nms.h, whose host
// mirrors the CPU tests check). Steps, all on the current stream:
//   1. sort scores descending with ops::sort (stable radix sort: ties keep the lower index, as
//      on the CPU) and gather boxes (and groups) into that order, reading any strides;
//   2. mask kernel (segmented_nms_mask): one block per (column tile, row tile) of 64 x 64 boxes,
//      column boxes in shared memory; thread a writes the 64-bit word of box a's row: bit b set
//      when box b (b > a) has box::iou > threshold with box a (and the same group);
//   3. scan kernel (segmented_nms_scan): ONE block walks the 64-box blocks in order, the removed
//      bits in shared memory; thread 0 resolves each block from its diagonal words, then all
//      threads write the kept indices (mapped back through the score order), prefetch the next
//      diagonal and OR the kept rows into later words. Kept indices and their count are written
//      on the device; the mask never leaves it.
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
#include "ops/nms/segmented_nms_cuda.cuh"
#include "ops/sort/sort.h"

namespace osprey::ops {
namespace {

namespace seg = segmented_nms;
// The single segment's scan block: 1024 threads (rpn_proposals runs a block per image with
// fewer); more threads share the OR of kept rows into later words of up to 12000-box inputs.
constexpr int kScanThreads = 1024;

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
  const int64_t words = seg::words_for(n);
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
    // One segment of n boxes (lengths null: the segment is full), in score order.
    const dim3 grid(static_cast<unsigned>(words), static_cast<unsigned>(words), 1);
    seg::segmented_nms_mask<T><<<grid, seg::kTile, 0, stream>>>(
        n, nullptr, sorted_boxes.data<T>(), group_out, static_cast<T>(iou_threshold),
        static_cast<T>(offset), reinterpret_cast<uint64_t*>(mask.data<int64_t>()));
    OSPREY_CUDA_LAUNCH_CHECK();
  });
  seg::segmented_nms_scan<kScanThreads>
      <<<1, kScanThreads, static_cast<size_t>(words) * sizeof(uint64_t), stream>>>(
          n, nullptr, reinterpret_cast<const uint64_t*>(mask.data<int64_t>()), order_ptr,
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
