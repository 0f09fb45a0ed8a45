#include "ops/common/cpu_gemm.h"

#include <cstdlib>
#include <string_view>

#include "framework/core/error.h"

#ifdef OSPREY_WITH_DNNL
#include <oneapi/dnnl/dnnl.h>
#endif

namespace osprey::ops {

bool onednn_sgemm_available() {
#ifdef OSPREY_WITH_DNNL
  return true;
#else
  return false;
#endif
}

SgemmBackend sgemm_backend() {
  static const SgemmBackend backend = [] {
    const char* env = std::getenv("OSPREY_SGEMM");
    const std::string_view name = env ? env : "";
    if (name.empty()) {
      return onednn_sgemm_available() ? SgemmBackend::onednn : SgemmBackend::openblas;
    }
    OSPREY_CHECK(name == "openblas" || name == "onednn",
                 "OSPREY_SGEMM='{}': expected 'openblas' or 'onednn'", name);
    OSPREY_CHECK(name == "openblas" || onednn_sgemm_available(),
                 "OSPREY_SGEMM=onednn: this build has no oneDNN (libdnnl-dev, OSPREY_DNNL=ON)");
    return name == "onednn" ? SgemmBackend::onednn : SgemmBackend::openblas;
  }();
  return backend;
}

void openblas_sgemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int64_t m, int64_t n, int64_t k,
                    const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
                    int64_t ldc) {
  cblas_sgemm(CblasRowMajor, ta, tb, int(m), int(n), int(k), 1.0f, a, int(lda), b, int(ldb), beta,
              c, int(ldc));
}

void onednn_sgemm([[maybe_unused]] CBLAS_TRANSPOSE ta, [[maybe_unused]] CBLAS_TRANSPOSE tb,
                  [[maybe_unused]] int64_t m, [[maybe_unused]] int64_t n,
                  [[maybe_unused]] int64_t k, [[maybe_unused]] const float* a,
                  [[maybe_unused]] int64_t lda, [[maybe_unused]] const float* b,
                  [[maybe_unused]] int64_t ldb, [[maybe_unused]] float beta,
                  [[maybe_unused]] float* c, [[maybe_unused]] int64_t ldc) {
#ifdef OSPREY_WITH_DNNL
  const dnnl_status_t status =
      dnnl_sgemm(ta == CblasTrans ? 'T' : 'N', tb == CblasTrans ? 'T' : 'N', m, n, k, 1.0f, a, lda,
                 b, ldb, beta, c, ldc);
  OSPREY_CHECK_KIND(internal, status == dnnl_success,
                    "dnnl_sgemm failed (status {}) for m={} n={} k={} lda={} ldb={} ldc={}",
                    int(status), m, n, k, lda, ldb, ldc);
#else
  OSPREY_THROW(internal, "onednn_sgemm: this build has no oneDNN");
#endif
}

void gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int64_t m, int64_t n, int64_t k, const float* a,
          int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  if (sgemm_backend() == SgemmBackend::onednn) {
    onednn_sgemm(ta, tb, m, n, k, a, lda, b, ldb, beta, c, ldc ? ldc : n);
  } else {
    openblas_sgemm(ta, tb, m, n, k, a, lda, b, ldb, beta, c, ldc ? ldc : n);
  }
}

void gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int64_t m, int64_t n, int64_t k, const double* a,
          int64_t lda, const double* b, int64_t ldb, double beta, double* c, int64_t ldc) {
  cblas_dgemm(CblasRowMajor, ta, tb, int(m), int(n), int(k), 1.0, a, int(lda), b, int(ldb), beta, c,
              int(ldc ? ldc : n));
}

}  // namespace osprey::ops
