// CPU GEMM helpers of the convolution kernels.
// gemm: row-major C (m × n, row stride ldc; 0 means n) = op(A) (m × k) · op(B) (k × n) + beta C
// through OpenBLAS, overloaded for float and double so the CPU kernels can be written once as
// templates.
#pragma once

#include <cblas.h>

#include <cstdint>

namespace osprey::ops {

inline void gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int64_t m, int64_t n, int64_t k,
                 const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
                 int64_t ldc = 0) {
  cblas_sgemm(CblasRowMajor, ta, tb, int(m), int(n), int(k), 1.0f, a, int(lda), b, int(ldb), beta,
              c, int(ldc ? ldc : n));
}

inline void gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int64_t m, int64_t n, int64_t k,
                 const double* a, int64_t lda, const double* b, int64_t ldb, double beta, double* c,
                 int64_t ldc = 0) {
  cblas_dgemm(CblasRowMajor, ta, tb, int(m), int(n), int(k), 1.0, a, int(lda), b, int(ldb), beta, c,
              int(ldc ? ldc : n));
}

// Keeps OpenBLAS single-threaded while OpenMP threads each run their own GEMMs. The setting is
// process-wide: a BLAS call on another thread meanwhile also runs single-threaded.
class SingleThreadedBlas {
 public:
  SingleThreadedBlas() : previous_(openblas_get_num_threads()) { openblas_set_num_threads(1); }
  ~SingleThreadedBlas() { openblas_set_num_threads(previous_); }
  SingleThreadedBlas(const SingleThreadedBlas&) = delete;
  SingleThreadedBlas& operator=(const SingleThreadedBlas&) = delete;

 private:
  int previous_;
};

}  // namespace osprey::ops
