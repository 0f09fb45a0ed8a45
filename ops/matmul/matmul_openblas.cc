// cpu/openblas and cpu/onednn kernels of matmul, bmm and linear: one sgemm/dgemm per batch entry
// (cpu/openblas: OpenBLAS for both; cpu/onednn: oneDNN's dnnl_sgemm, f32 only, chosen first when
// the build has oneDNN: 1.8-2x OpenBLAS on the Zen machine, see ops/common/cpu_gemm.h). Operands
// stored row-major or column-major in their last two dims (a transpose() of a contiguous tensor)
// go to BLAS as they are, with the matching trans flag; any other layout is copied contiguous
// first. When the right operand is one matrix shared by the whole batch and the left batch is
// evenly laid out rows (linear layers, [batch, m, k] x [k, n]) the batch folds into a single
// [batch * m, k] product. Linear writes its bias into the output and multiplies with beta = 1.
// This is the kernel to use on CPU for anything larger than a few hundred multiply-adds.
#include <cblas.h>

#include <climits>

#include "ops/common/cpu_gemm.h"
#include "ops/common/op_helpers.h"
#include "ops/copy/copy.h"
#include "ops/matmul/gemm_plan.h"

namespace osprey::ops {
namespace {

// How BLAS reads one operand: a trans flag and a leading dimension, when its layout allows.
struct BlasLayout {
  bool ok = false;
  CBLAS_TRANSPOSE trans = CblasNoTrans;
  int64_t ld = 1;
};

BlasLayout blas_layout(const MatrixView& v) {
  // A unit dim's stride is never used, so it cannot disqualify a layout.
  if ((v.cols <= 1 || v.col_stride == 1) &&
      (v.rows <= 1 || v.row_stride >= std::max<int64_t>(1, v.cols))) {
    return {true, CblasNoTrans, v.rows <= 1 ? std::max<int64_t>(1, v.cols) : v.row_stride};
  }
  if ((v.rows <= 1 || v.row_stride == 1) &&
      (v.cols <= 1 || v.col_stride >= std::max<int64_t>(1, v.rows))) {
    return {true, CblasTrans, v.cols <= 1 ? std::max<int64_t>(1, v.rows) : v.col_stride};
  }
  return {};
}

enum class Library { openblas, onednn };

// f32 through the kernel's library; f64 through OpenBLAS (oneDNN has no dgemm).
template <typename T>
void gemm(Library library, CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int64_t m, int64_t n, int64_t k,
          const T* a, int64_t lda, const T* b, int64_t ldb, T beta, T* c, int64_t ldc) {
  if constexpr (std::is_same_v<T, float>) {
    if (library == Library::onednn) {
      onednn_sgemm(ta, tb, m, n, k, a, lda, b, ldb, beta, c, ldc);
      return;
    }
    openblas_sgemm(ta, tb, m, n, k, a, lda, b, ldb, beta, c, ldc);
  } else {
    ops::gemm(ta, tb, m, n, k, a, lda, b, ldb, beta, c, ldc);
  }
}

// The operand itself when BLAS can read it, else a contiguous copy (made without the dispatcher
// so that the call's kernel key stays this kernel's).
Tensor blas_readable(const Tensor& t, const GemmPlan& plan, bool is_left) {
  if (blas_layout(matrix_view(t, plan, is_left)).ok) return t;
  Tensor copy = Tensor::empty(t.shape(), t.dtype(), t.device());
  cpu_convert_copy(copy, t);
  return copy;
}

// The stride between consecutive batch entries when the left operand's batch folds into rows.
int64_t fold_stride(const MatrixView& av, const BlasLayout& la, const MatrixView& bv,
                    const GemmPlan& plan) {
  const int64_t count = plan.batch_count();
  if (count <= 1 || la.trans != CblasNoTrans) return 0;
  for (int64_t off : bv.offsets) {
    if (off != bv.offsets[0]) return 0;
  }
  int64_t row = plan.m > 1 ? la.ld : av.offsets[1] - av.offsets[0];
  if (row < std::max<int64_t>(1, plan.k)) return 0;
  for (int64_t e = 0; e < count; ++e) {
    if (av.offsets[e] != av.offsets[0] + e * plan.m * row) return 0;
  }
  return row;
}

template <typename T>
void blas_gemm(Library library, const GemmPlan& plan, const Tensor& a, const Tensor& b,
               const Tensor& bias, const Tensor& out) {
  const int64_t m = plan.m, n = plan.n, k = plan.k, count = plan.batch_count();
  T* pc = out.data<T>();
  const int64_t total_rows = count * m;
  if (total_rows == 0 || n == 0) return;
  if (bias.defined()) {
    const T* pbias = bias.data<T>();
    const int64_t s = bias.stride(0);
    for (int64_t r = 0; r < total_rows; ++r) {
      for (int64_t j = 0; j < n; ++j) pc[r * n + j] = pbias[j * s];
    }
  } else if (k == 0) {
    std::fill(pc, pc + total_rows * n, T(0));
  }
  if (k == 0) return;  // BLAS needs lda >= 1 and would not touch C anyway
  const T beta = bias.defined() ? T(1) : T(0);
  const MatrixView av = matrix_view(a, plan, true);
  const MatrixView bv = matrix_view(b, plan, false);
  const BlasLayout la = blas_layout(av), lb = blas_layout(bv);
  const T* pa = a.data<T>();
  const T* pb = b.data<T>();
  if (int64_t row = fold_stride(av, la, bv, plan)) {
    gemm<T>(library, CblasNoTrans, lb.trans, total_rows, n, k, pa + av.offsets[0], row,
            pb + bv.offsets[0], lb.ld, beta, pc, n);
    return;
  }
  for (int64_t e = 0; e < count; ++e) {
    gemm<T>(library, la.trans, lb.trans, m, n, k, pa + av.offsets[e], la.ld, pb + bv.offsets[e],
            lb.ld, beta, pc + e * m * n, n);
  }
}

// Operands BLAS cannot read as they are are copied contiguous first.
template <Library L>
void blas_gemm_any(const GemmPlan& plan, const Tensor& a_in, const Tensor& b_in, const Tensor& bias,
                   const Tensor& out, const char* op) {
  Tensor a = blas_readable(a_in, plan, true);
  Tensor b = blas_readable(b_in, plan, false);
  OSPREY_DISPATCH_FLOAT(a.dtype(), op,
                        [&]<typename T>() { blas_gemm<T>(L, plan, a, b, bias, out); });
}

// BLAS takes 32-bit sizes in this build; larger problems go to the reference.
bool fits_blas(const KernelContext& ctx) {
  if (!inputs_are_float(ctx)) return false;
  for (const auto& t : ctx.inputs()) {
    if (!t.defined()) continue;
    for (int64_t d = 0; d < t.dim(); ++d) {
      if (t.size(d) * std::max<int64_t>(t.stride(d), 1) >= INT_MAX) return false;
    }
  }
  return true;
}

// oneDNN's sgemm: f32 only (it has no dgemm), and only in builds with oneDNN.
bool fits_onednn(const KernelContext& ctx) {
  return onednn_sgemm_available() && inputs_have_dtype(ctx, {DType::f32}) && fits_blas(ctx);
}

const bool registered = [] {
  register_cpu_gemm_kernels("onednn", 20, blas_gemm_any<Library::onednn>, fits_onednn,
                            "dnnl_sgemm per batch entry, laid out as cpu/openblas; f32, builds "
                            "with oneDNN");
  register_cpu_gemm_kernels("openblas", 10, blas_gemm_any<Library::openblas>, fits_blas,
                            "cblas_sgemm/dgemm per batch entry (trans flags for transposed "
                            "layouts, batch folded into rows when the right operand is shared); "
                            "the fast CPU path");
  return true;
}();

}  // namespace
}  // namespace osprey::ops
