// The f32 GEMM libraries behind the CPU kernels (ops/common/cpu_gemm.h): OpenBLAS and oneDNN's
// sgemm agree with a plain triple loop for every transpose pair, a row stride ldc > n, and
// accumulation with beta = 1; OSPREY_SGEMM's default is oneDNN when the build has it.
#include "ops/common/cpu_gemm.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <random>
#include <vector>

namespace osprey::ops {
namespace {

struct Problem {
  int64_t m = 13, n = 21, k = 37, ldc = 25;
  std::vector<float> a, b, c;
};

// C (m × n, row stride ldc) = op(A) op(B) + beta C, in double, op(A) stored k × m when transposed.
std::vector<double> expected(const Problem& p, bool ta, bool tb, float beta) {
  std::vector<double> c(p.c.begin(), p.c.end());
  for (int64_t i = 0; i < p.m; ++i) {
    for (int64_t j = 0; j < p.n; ++j) {
      double sum = 0;
      for (int64_t l = 0; l < p.k; ++l) {
        const double a = ta ? p.a[l * p.m + i] : p.a[i * p.k + l];
        const double b = tb ? p.b[j * p.k + l] : p.b[l * p.n + j];
        sum += a * b;
      }
      c[i * p.ldc + j] = sum + beta * c[i * p.ldc + j];
    }
  }
  return c;
}

Problem make_problem(unsigned seed) {
  Problem p;
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1, 1);
  p.a.resize(p.m * p.k);
  p.b.resize(p.k * p.n);
  p.c.resize(p.m * p.ldc);
  for (float& v : p.a) v = u(rng);
  for (float& v : p.b) v = u(rng);
  for (float& v : p.c) v = u(rng);
  return p;
}

using Sgemm = void (*)(CBLAS_TRANSPOSE, CBLAS_TRANSPOSE, int64_t, int64_t, int64_t, const float*,
                       int64_t, const float*, int64_t, float, float*, int64_t);

void check_library(Sgemm sgemm) {
  for (bool ta : {false, true}) {
    for (bool tb : {false, true}) {
      for (float beta : {0.0f, 1.0f}) {
        Problem p = make_problem(7);
        const std::vector<double> want = expected(p, ta, tb, beta);
        sgemm(ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, p.m, p.n, p.k,
              p.a.data(), ta ? p.m : p.k, p.b.data(), tb ? p.k : p.n, beta, p.c.data(), p.ldc);
        for (int64_t i = 0; i < p.m; ++i) {
          for (int64_t j = 0; j < p.ldc; ++j) {
            // Columns past n are padding of the row stride: untouched.
            const double tolerance = j < p.n ? 1e-5 : 0.0;
            EXPECT_NEAR(p.c[i * p.ldc + j], want[i * p.ldc + j], tolerance)
                << "ta " << ta << " tb " << tb << " beta " << beta << " at " << i << "," << j;
          }
        }
      }
    }
  }
}

TEST(CpuGemm, OpenblasMatchesPlainLoop) {
  check_library(openblas_sgemm);
}

TEST(CpuGemm, OnednnMatchesPlainLoop) {
  if (!onednn_sgemm_available()) GTEST_SKIP() << "built without oneDNN (libdnnl-dev)";
  check_library(onednn_sgemm);
}

TEST(CpuGemm, DefaultBackendIsOnednnWhenBuiltWithIt) {
  if (std::getenv("OSPREY_SGEMM") != nullptr) GTEST_SKIP() << "OSPREY_SGEMM is set";
  EXPECT_EQ(sgemm_backend(),
            onednn_sgemm_available() ? SgemmBackend::onednn : SgemmBackend::openblas);
}

TEST(CpuGemm, DispatchingOverloadUsesDefaultRowStride) {
  Problem p = make_problem(11);
  p.ldc = p.n;
  p.c.assign(p.m * p.n, 0.0f);
  const std::vector<double> want = expected(p, false, false, 0.0f);
  gemm(CblasNoTrans, CblasNoTrans, p.m, p.n, p.k, p.a.data(), p.k, p.b.data(), p.n, 0.0f,
       p.c.data());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(p.c[i], want[i], 1e-5) << i;
}

}  // namespace
}  // namespace osprey::ops
