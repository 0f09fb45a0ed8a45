// Schemas and cases of the comparisons eq, ne, lt, le, gt, ge (not differentiable).
#include "ops/elementwise/compare.h"

#include "framework/dispatch/registry.h"
#include "ops/common/case_helpers.h"
#include "ops/common/op_helpers.h"

namespace osprey::ops {
namespace {

// Half of each case's values tie so that the <= / >= / == edges are exercised.
std::vector<OpCase> compare_cases(DType dtype, uint64_t seed) {
  CaseRandom rng(seed);
  std::vector<OpCase> cases;
  Tensor a = rng.uniform({3, 4}, dtype, -3.0, 3.0);
  Tensor b = rng.uniform({3, 4}, dtype, -3.0, 3.0);
  Tensor ties = b.clone();
  ties.slice(1, 0, 2).copy_(a.slice(1, 0, 2));
  cases.push_back({"same-shape-with-ties", {a, ties}, {}});
  cases.push_back({"broadcast-row", {a, rng.uniform({4}, dtype, -3.0, 3.0)}, {}});
  cases.push_back(
      {"broadcast-both", {rng.uniform({3, 1, 2}, dtype), rng.uniform({1, 5, 1}, dtype)}, {}});
  cases.push_back({"scalar", {a, a.select(0, 1).select(0, 2).clone()}, {}});
  cases.push_back({"empty", {rng.uniform({0, 3}, dtype), rng.uniform({1, 3}, dtype)}, {}});
  cases.push_back({"non-contiguous", {non_contiguous(a), non_contiguous(ties)}, {}});
  cases.push_back({"large", {rng.uniform({70000}, dtype), rng.uniform({70000}, dtype)}, {}, true});
  return cases;
}

const bool registered = [] {
  auto& r = dispatch::Registry::instance();
  for (auto [name, doc] : {std::pair{"eq", "input == other"}, std::pair{"ne", "input != other"},
                           std::pair{"lt", "input < other"}, std::pair{"le", "input <= other"},
                           std::pair{"gt", "input > other"}, std::pair{"ge", "input >= other"}}) {
    OpDef def;
    def.schema = {name, {{"input", false}, {"other", false}}, {}, {{"output", false}}, doc};
    def.validate = [](const KernelContext& ctx) {
      check_same_dtype(ctx);
      broadcast_shapes(ctx.input(0).shape(), ctx.input(1).shape(), ctx.op().schema.name.c_str());
    };
    def.cases = compare_cases;
    r.add_op(std::move(def));
  }
  return true;
}();

Tensor compare(const char* op, const Tensor& input, const Tensor& other) {
  DType d = promote_types(input.dtype(), other.dtype());
  return dispatch::call1(op, {input.to(d), other.to(d)});
}

}  // namespace

Tensor eq(const Tensor& input, const Tensor& other) {
  return compare("eq", input, other);
}
Tensor ne(const Tensor& input, const Tensor& other) {
  return compare("ne", input, other);
}
Tensor lt(const Tensor& input, const Tensor& other) {
  return compare("lt", input, other);
}
Tensor le(const Tensor& input, const Tensor& other) {
  return compare("le", input, other);
}
Tensor gt(const Tensor& input, const Tensor& other) {
  return compare("gt", input, other);
}
Tensor ge(const Tensor& input, const Tensor& other) {
  return compare("ge", input, other);
}

}  // namespace osprey::ops
