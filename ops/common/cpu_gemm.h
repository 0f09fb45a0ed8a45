// CPU GEMM helpers of the convolution kernels.
// gemm: row-major C (m × n, row stride ldc; 0 means n) = op(A) (m × k) · op(B) (k × n) + beta C,
// overloaded for float and double so the CPU kernels can be written once as templates. double
// goes to OpenBLAS; float to the library sgemm_backend() names.
#pragma once

#include <cblas.h>

#include <cstdint>

namespace osprey::ops {

// The library behind f32 gemm. oneDNN's dnnl_sgemm (when the build has oneDNN) ran 1.8–2× as fast
// as Debian's OpenBLAS 0.3.21 on the 2-core Zen machine (its Haswell kernels, ~245 GFLOP/s on two
// cores against oneDNN's ~430–490 on the deformable convolution's GEMMs); OSPREY_SGEMM=openblas
// (or onednn) chooses explicitly. Read once, at the first call.
enum class SgemmBackend { openblas, onednn };
SgemmBackend sgemm_backend();
bool onednn_sgemm_available();

void gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int64_t m, int64_t n, int64_t k, const float* a,
          int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc = 0);
void gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int64_t m, int64_t n, int64_t k, const double* a,
          int64_t lda, const double* b, int64_t ldb, double beta, double* c, int64_t ldc = 0);

// The two f32 libraries by name (the matmul kernels register one kernel per library). ldc is
// explicit. onednn_sgemm throws when the build has no oneDNN.
void openblas_sgemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int64_t m, int64_t n, int64_t k,
                    const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
                    int64_t ldc);
void onednn_sgemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int64_t m, int64_t n, int64_t k,
                  const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
                  int64_t ldc);

// Keeps OpenBLAS single-threaded while OpenMP threads each run their own GEMMs. The setting is
// process-wide: a BLAS call on another thread meanwhile also runs single-threaded. (oneDNN's
// sgemm needs no such guard: called inside an OpenMP parallel region it runs on the calling
// thread alone.)
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
