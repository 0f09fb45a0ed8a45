// How a matmul-family call maps onto a batch of plain matrix products, shared by the op's shape
// rule and by every CPU kernel: for each batch entry, C[m, n] = A[m, k] * B[k, n], where A and B
// are read through strides (a broadcast batch dim has stride 0) and C is the contiguous output
// viewed as [batch..., m, n].
#pragma once

#include <vector>

#include "framework/core/tensor.h"
#include "framework/dispatch/kernel.h"

namespace osprey::ops {

// One operand seen as a batch of rows x cols matrices.
struct MatrixView {
  int64_t rows = 0, cols = 0;
  int64_t row_stride = 0, col_stride = 0;  // in elements
  std::vector<int64_t> offsets;            // element offset of each batch entry's matrix
};

struct GemmPlan {
  Shape batch;      // the broadcast batch shape
  Shape out_shape;  // what the op returns (1-d operands' unit dims removed)
  int64_t m = 0, n = 0, k = 0;
  int64_t batch_count() const { return shape_numel(batch); }
};

// The plan of matmul(a, b) (PyTorch rules, see matmul.h); errors name `op` and both shapes.
GemmPlan plan_matmul(const Tensor& a, const Tensor& b, const char* op);
// `t` (an operand of the plan, rank >= 1; `is_left` says which side) as matrices over plan.batch.
MatrixView matrix_view(const Tensor& t, const GemmPlan& plan, bool is_left);

// weight [out, in] viewed as [in, out] without the dispatcher (kernels call no other op, so the
// recorded kernel key of a linear call is the linear kernel's).
Tensor weight_transposed(const Tensor& weight);

// What a CPU backend supplies: write a @ b (+ bias, broadcast over rows) into `out`, a contiguous
// tensor of plan.out_shape; `op` names the op in dtype errors.
using CpuGemmFn = void (*)(const GemmPlan& plan, const Tensor& a, const Tensor& b,
                           const Tensor& bias, const Tensor& out, const char* op);
// Registers the matmul, bmm and linear CPU kernels of backend `impl` around `gemm`: each plans the
// call, lets gemm write a contiguous result and copies that into a strided out= afterwards.
void register_cpu_gemm_kernels(const char* impl, int priority, CpuGemmFn gemm,
                               dispatch::SupportsFn supports, const char* doc);

}  // namespace osprey::ops
