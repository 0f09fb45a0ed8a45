// A contiguous CPU tensor seen as groups of adjacent kept or reduced dims, so reduction kernels
// can read any reduction of it in place (rows of the last group, walks over the others).
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "framework/core/tensor.h"

namespace osprey::ops {

// A set of dim groups walked by one linear index, row-major over the groups.
struct Walk {
  std::vector<int64_t> sizes, strides;
  int64_t count() const {
    int64_t n = 1;
    for (int64_t s : sizes) n *= s;
    return n;
  }
  int64_t offset(int64_t linear) const {
    int64_t off = 0;
    for (size_t g = sizes.size(); g-- > 0;) {
      off += (linear % sizes[g]) * strides[g];
      linear /= sizes[g];
    }
    return off;
  }
};

// A contiguous input as groups of adjacent dims that are all kept or all reduced (size-1 dims
// dropped). The last group is read as contiguous rows of `inner` elements; the other kept groups
// (in order, so they enumerate the output) and reduced groups are walked.
struct Grouping {
  Walk kept, reduced;
  int64_t inner = 1;
  bool inner_reduced = true;
};

inline Grouping group_dims(const Tensor& input, const std::vector<int64_t>& dims) {
  struct Group {
    int64_t size, stride;
    bool reduced;
  };
  std::vector<Group> groups;
  for (int64_t d = 0; d < input.dim(); ++d) {
    if (input.size(d) == 1) continue;
    bool reduced = std::find(dims.begin(), dims.end(), d) != dims.end();
    if (!groups.empty() && groups.back().reduced == reduced) {
      groups.back().size *= input.size(d);
      groups.back().stride = input.stride(d);
    } else {
      groups.push_back({input.size(d), input.stride(d), reduced});
    }
  }
  Grouping g;
  if (groups.empty()) return g;
  g.inner = groups.back().size;
  g.inner_reduced = groups.back().reduced;
  groups.pop_back();
  for (const auto& group : groups) {
    Walk& walk = group.reduced ? g.reduced : g.kept;
    walk.sizes.push_back(group.size);
    walk.strides.push_back(group.stride);
  }
  return g;
}

}  // namespace osprey::ops
