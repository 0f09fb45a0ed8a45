// cpu/reference kernels of matmul, bmm and linear: a plain triple loop per batch entry that reads
// operands through their strides and accumulates in double. Obviously right rather than fast; it
// is the oracle the BLAS kernels and the gradient checks are measured against.
#include "ops/common/op_helpers.h"
#include "ops/matmul/gemm_plan.h"

namespace osprey::ops {
namespace {

// C[e][i][j] = bias[j] + sum_p A[e][i][p] * B[e][p][j], C contiguous [batch, m, n].
template <typename T>
void reference_gemm(const GemmPlan& plan, const Tensor& a, const Tensor& b, const Tensor& bias,
                    const Tensor& out) {
  const MatrixView av = matrix_view(a, plan, true);
  const MatrixView bv = matrix_view(b, plan, false);
  const T* pa = a.data<T>();
  const T* pb = b.data<T>();
  const T* pbias = bias.defined() ? bias.data<T>() : nullptr;
  const int64_t bias_stride = bias.defined() ? bias.stride(0) : 0;
  T* pc = out.data<T>();
  const int64_t rows = plan.batch_count() * plan.m;
  const int64_t m = plan.m, n = plan.n, k = plan.k;
#pragma omp parallel for schedule(static) if (rows * n * k > 65536)
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t e = r / std::max<int64_t>(m, 1), i = r % std::max<int64_t>(m, 1);
    const T* arow = pa + av.offsets[e] + i * av.row_stride;
    const T* bmat = pb + bv.offsets[e];
    for (int64_t j = 0; j < n; ++j) {
      double acc = pbias ? static_cast<double>(pbias[j * bias_stride]) : 0.0;
      for (int64_t p = 0; p < k; ++p) {
        acc += static_cast<double>(arow[p * av.col_stride]) *
               static_cast<double>(bmat[p * bv.row_stride + j * bv.col_stride]);
      }
      pc[r * n + j] = static_cast<T>(acc);
    }
  }
}

void reference_gemm_any(const GemmPlan& plan, const Tensor& a, const Tensor& b, const Tensor& bias,
                        const Tensor& out, const char* op) {
  OSPREY_DISPATCH_FLOAT(a.dtype(), op,
                        [&]<typename T>() { reference_gemm<T>(plan, a, b, bias, out); });
}

const bool registered = [] {
  register_cpu_gemm_kernels("reference", 0, reference_gemm_any, inputs_are_float,
                            "triple loop over strided operands, double accumulation; the oracle");
  return true;
}();

}  // namespace
}  // namespace osprey::ops
