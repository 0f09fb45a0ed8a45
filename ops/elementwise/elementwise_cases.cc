#include "ops/elementwise/elementwise_cases.h"

namespace osprey::ops {

ValueGen uniform_values(double lo, double hi) {
  return [lo, hi](CaseRandom& rng, const Shape& shape, DType dtype) {
    return rng.uniform(shape, dtype, lo, hi);
  };
}

ValueGen away_from_zero_values(double gap, double hi) {
  return [gap, hi](CaseRandom& rng, const Shape& shape, DType dtype) {
    return rng.away_from_zero(shape, dtype, gap, hi);
  };
}

dispatch::CaseFn unary_value_cases(ValueGen gen, Attrs attrs) {
  return [gen = std::move(gen), attrs = std::move(attrs)](DType dtype, uint64_t seed) {
    CaseRandom rng(seed);
    std::vector<OpCase> cases;
    cases.push_back({"matrix", {gen(rng, {3, 4}, dtype)}, attrs});
    cases.push_back({"scalar", {gen(rng, {}, dtype)}, attrs});
    cases.push_back({"empty", {gen(rng, {0, 3}, dtype)}, attrs});
    cases.push_back({"size-1-dims", {gen(rng, {1, 5, 1}, dtype)}, attrs});
    cases.push_back({"non-contiguous", {non_contiguous(gen(rng, {4, 3}, dtype))}, attrs});
    cases.push_back({"channels-last",
                     {gen(rng, {2, 3, 2, 2}, dtype).contiguous(MemoryFormat::channels_last)},
                     attrs});
    cases.push_back({"large", {gen(rng, {70000}, dtype)}, attrs, true});
    return cases;
  };
}

}  // namespace osprey::ops
