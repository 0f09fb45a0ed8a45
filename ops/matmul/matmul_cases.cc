// Case lists of matmul, bmm and linear: every operand rank combination, broadcast batches,
// transposed (BLAS trans flag) and strided (copied) layouts, and empty sizes including k = 0.
#include "ops/common/case_helpers.h"
#include "ops/common/op_helpers.h"

namespace osprey::ops {

namespace {

// Columns read with a step of 2: neither row- nor column-major, so BLAS kernels must copy.
Tensor strided_columns(CaseRandom& rng, int64_t rows, int64_t cols, DType dtype) {
  return rng.uniform({rows, cols * 2}, dtype).slice(1, 0, cols * 2, 2);
}

}  // namespace

dispatch::CaseFn matmul_cases() {
  return [](DType dtype, uint64_t seed) {
    CaseRandom rng(seed);
    auto u = [&](const Shape& s) { return rng.uniform(s, dtype); };
    std::vector<OpCase> cases;
    cases.push_back({"2d", {u({3, 4}), u({4, 5})}, {}});
    cases.push_back({"batched", {u({2, 3, 4}), u({2, 4, 5})}, {}});
    cases.push_back({"broadcast-batch", {u({2, 1, 3, 4}), u({3, 4, 2})}, {}});
    cases.push_back({"batched-x-2d", {u({2, 3, 4}), u({4, 5})}, {}});
    cases.push_back({"2d-x-batched", {u({3, 4}), u({2, 4, 5})}, {}});
    cases.push_back({"vec-x-mat", {u({4}), u({4, 5})}, {}});
    cases.push_back({"mat-x-vec", {u({3, 4}), u({4})}, {}});
    cases.push_back({"dot", {u({4}), u({4})}, {}});
    cases.push_back({"vec-x-batched", {u({4}), u({2, 4, 3})}, {}});
    cases.push_back({"batched-x-vec", {u({2, 3, 4}), u({4})}, {}});
    cases.push_back({"transposed", {non_contiguous(u({3, 4})), non_contiguous(u({4, 5}))}, {}});
    cases.push_back(
        {"transposed-batched", {non_contiguous(u({2, 3, 4})), non_contiguous(u({2, 4, 5}))}, {}});
    cases.push_back({"strided", {strided_columns(rng, 3, 4, dtype), u({4, 2})}, {}});
    cases.push_back({"expanded", {u({1, 4}).expand({3, 4}), u({4, 2})}, {}});
    cases.push_back({"non-contiguous-vec", {non_contiguous(u({4})), u({4, 3})}, {}});
    cases.push_back({"empty-rows", {u({0, 4}), u({4, 5})}, {}});
    cases.push_back({"empty-k", {u({3, 0}), u({0, 5})}, {}});
    cases.push_back({"empty-batch", {u({0, 3, 4}), u({4, 5})}, {}});
    cases.push_back({"larger", {u({33, 40}), u({40, 21})}, {}});
    return cases;
  };
}

dispatch::CaseFn bmm_cases() {
  return [](DType dtype, uint64_t seed) {
    CaseRandom rng(seed);
    auto u = [&](const Shape& s) { return rng.uniform(s, dtype); };
    std::vector<OpCase> cases;
    cases.push_back({"basic", {u({2, 3, 4}), u({2, 4, 5})}, {}});
    cases.push_back(
        {"transposed", {non_contiguous(u({2, 3, 4})), non_contiguous(u({2, 4, 5}))}, {}});
    cases.push_back({"batch-permuted", {u({3, 2, 4}).permute({1, 0, 2}), u({2, 4, 1})}, {}});
    cases.push_back({"empty-batch", {u({0, 3, 4}), u({0, 4, 2})}, {}});
    cases.push_back({"empty-k", {u({2, 3, 0}), u({2, 0, 2})}, {}});
    return cases;
  };
}

dispatch::CaseFn linear_cases() {
  return [](DType dtype, uint64_t seed) {
    CaseRandom rng(seed);
    auto u = [&](const Shape& s) { return rng.uniform(s, dtype); };
    std::vector<OpCase> cases;
    cases.push_back({"bias", {u({3, 4}), u({5, 4}), u({5})}, {}});
    cases.push_back({"no-bias", {u({3, 4}), u({5, 4})}, {}});
    cases.push_back({"batched", {u({2, 3, 4}), u({5, 4}), u({5})}, {}});
    cases.push_back({"vector-input", {u({4}), u({5, 4}), u({5})}, {}});
    cases.push_back({"non-contiguous",
                     {non_contiguous(u({3, 4})), non_contiguous(u({5, 4})), non_contiguous(u({5}))},
                     {}});
    cases.push_back({"strided-input", {strided_columns(rng, 3, 4, dtype), u({2, 4}), u({2})}, {}});
    cases.push_back({"empty-batch", {u({0, 4}), u({5, 4}), u({5})}, {}});
    cases.push_back({"no-features", {u({3, 0}), u({5, 0}), u({5})}, {}});
    return cases;
  };
}

}  // namespace osprey::ops
