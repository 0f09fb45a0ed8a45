// Case lists of the indexing ops: repeated indices, every dim, i32 and expanded index tensors,
// broadcast masks, non-contiguous inputs and empty index tensors.
#include "ops/common/case_helpers.h"
#include "ops/common/op_helpers.h"

namespace osprey::ops {

namespace {

Tensor indices(std::vector<int64_t> values, Shape shape) {
  return Tensor::from_vector<int64_t>(values, shape);
}

Attrs dim(int64_t d) {
  return Attrs{{"dim", d}};
}

}  // namespace

dispatch::CaseFn index_select_cases() {
  return [](DType dtype, uint64_t seed) {
    CaseRandom rng(seed);
    auto u = [&](const Shape& s) { return rng.uniform(s, dtype); };
    return std::vector<OpCase>{
        {"dim0-repeats", {u({5, 3}), indices({4, 0, 4}, {3})}, dim(0)},
        {"dim-last", {u({3, 5}), indices({1, 3}, {2})}, dim(-1)},
        {"3d-middle", {u({2, 4, 3}), indices({3, 1, 1, 0}, {4})}, dim(1)},
        {"scalar-index", {u({4, 2}), indices({2}, {})}, dim(0)},
        {"i32-index", {u({4, 2}), indices({3, 1}, {2}).to(DType::i32)}, dim(0)},
        {"non-contiguous", {non_contiguous(u({4, 3})), indices({2, 0, 3}, {3})}, dim(0)},
        {"empty-index", {u({4, 3}), indices({}, {0})}, dim(0)},
    };
  };
}

dispatch::CaseFn gather_cases() {
  return [](DType dtype, uint64_t seed) {
    CaseRandom rng(seed);
    auto u = [&](const Shape& s) { return rng.uniform(s, dtype); };
    auto idx = [&](const Shape& s, int64_t n) { return rng.uniform(s, DType::i64, 0, n); };
    return std::vector<OpCase>{
        {"dim0", {u({3, 4}), idx({2, 4}, 3)}, dim(0)},
        {"dim1", {u({3, 4}), idx({3, 6}, 4)}, dim(1)},
        {"smaller-index", {u({4, 5}), idx({2, 3}, 5)}, dim(-1)},
        {"3d", {u({2, 3, 4}), idx({2, 2, 4}, 3)}, dim(1)},
        {"non-contiguous", {non_contiguous(u({4, 3})), idx({4, 2}, 3)}, dim(1)},
        {"i32-index", {u({3, 4}), idx({3, 4}, 3).to(DType::i32)}, dim(0)},
        {"empty-index", {u({3, 4}), idx({0, 4}, 3)}, dim(0)},
    };
  };
}

dispatch::CaseFn scatter_add_cases() {
  return [](DType dtype, uint64_t seed) {
    CaseRandom rng(seed);
    auto u = [&](const Shape& s) { return rng.uniform(s, dtype); };
    auto idx = [&](const Shape& s, int64_t n) { return rng.uniform(s, DType::i64, 0, n); };
    return std::vector<OpCase>{
        {"dim0", {u({3, 4}), idx({5, 4}, 3), u({5, 4})}, dim(0)},
        {"dim1", {u({3, 4}), idx({3, 2}, 4), u({3, 2})}, dim(1)},
        {"smaller-index", {u({4, 5}), idx({2, 3}, 5), u({3, 4})}, dim(-1)},
        {"3d", {u({2, 3, 4}), idx({2, 4, 4}, 3), u({2, 4, 4})}, dim(1)},
        {"non-contiguous",
         {non_contiguous(u({4, 3})), idx({4, 3}, 3), non_contiguous(u({4, 3}))},
         dim(1)},
        {"expanded-index",
         {u({4, 3}), indices({1, 3, 3}, {3, 1}).expand({3, 3}), u({3, 3})},
         dim(0)},
        {"i32-index", {u({3, 4}), idx({2, 4}, 3).to(DType::i32), u({2, 4})}, dim(0)},
        {"empty-index", {u({3, 4}), idx({0, 4}, 3), u({0, 4})}, dim(0)},
    };
  };
}

dispatch::CaseFn masked_select_cases() {
  return [](DType dtype, uint64_t seed) {
    CaseRandom rng(seed);
    auto u = [&](const Shape& s) { return rng.uniform(s, dtype); };
    auto mask = [&](const Shape& s) { return rng.uniform(s, DType::u8, 0, 2).to(DType::boolean); };
    return std::vector<OpCase>{
        {"same-shape", {u({3, 4}), mask({3, 4})}, {}},
        {"broadcast-mask", {u({3, 4}), mask({4})}, {}},
        {"broadcast-input", {u({3, 1}), mask({3, 4})}, {}},
        {"non-contiguous", {non_contiguous(u({4, 3})), non_contiguous(mask({4, 3}))}, {}},
        {"u8-mask", {u({2, 3}), rng.uniform({2, 3}, DType::u8, 0, 2)}, {}},
        {"none-selected",
         {u({2, 3}), rng.uniform({2, 3}, DType::u8, 0, 1).to(DType::boolean)},
         {},
         true},
        {"empty", {u({0, 3}), mask({3})}, {}},
    };
  };
}

}  // namespace osprey::ops
