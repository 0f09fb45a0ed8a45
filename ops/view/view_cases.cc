#include <string>

#include "ops/common/case_helpers.h"
#include "ops/common/op_helpers.h"

namespace osprey::ops {

dispatch::CaseFn view_cases(const char* op) {
  std::string name = op;
  return [name](DType dtype, uint64_t seed) {
    CaseRandom rng(seed);
    std::vector<OpCase> cases;
    if (name == "view" || name == "reshape") {
      cases.push_back({"2x3x4->6x4", {rng.uniform({2, 3, 4}, dtype)}, {{"shape", Shape{6, 4}}}});
      cases.push_back({"infer", {rng.uniform({2, 3, 4}, dtype)}, {{"shape", Shape{-1, 2}}}});
      cases.push_back({"to-scalar", {rng.uniform({1}, dtype)}, {{"shape", Shape{}}}});
      cases.push_back({"empty", {rng.uniform({0, 3}, dtype)}, {{"shape", Shape{3, 0}}}});
      if (name == "reshape") {
        cases.push_back({"non-contiguous",
                         {non_contiguous(rng.uniform({3, 4}, dtype))},
                         {{"shape", Shape{12}}}});
      }
    } else if (name == "permute") {
      cases.push_back({"3d", {rng.uniform({2, 3, 4}, dtype)}, {{"dims", Shape{2, 0, 1}}}});
      cases.push_back(
          {"nchw->nhwc", {rng.uniform({2, 3, 2, 2}, dtype)}, {{"dims", Shape{0, 2, 3, 1}}}});
    } else if (name == "slice") {
      cases.push_back({"step2",
                       {rng.uniform({5, 3}, dtype)},
                       {{"dim", int64_t{0}},
                        {"start", int64_t{1}},
                        {"end", int64_t{5}},
                        {"step", int64_t{2}}}});
      cases.push_back({"negative",
                       {rng.uniform({4, 6}, dtype)},
                       {{"dim", int64_t{-1}}, {"start", int64_t{-4}}, {"end", int64_t{-1}}}});
      cases.push_back({"empty",
                       {rng.uniform({4, 3}, dtype)},
                       {{"dim", int64_t{0}}, {"start", int64_t{2}}, {"end", int64_t{2}}}});
    } else if (name == "expand") {
      cases.push_back({"row", {rng.uniform({1, 4}, dtype)}, {{"shape", Shape{3, 4}}}});
      cases.push_back({"new-dims", {rng.uniform({3, 1}, dtype)}, {{"shape", Shape{2, 3, 5}}}});
    }
    return cases;
  };
}

}  // namespace osprey::ops
