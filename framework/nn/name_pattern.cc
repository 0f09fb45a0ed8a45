#include "framework/nn/name_pattern.h"

namespace osprey::nn {

bool name_matches(std::string_view pattern, std::string_view name) {
  // Iterative glob with backtracking to the last `*`: linear in practice, no recursion.
  size_t p = 0, n = 0;
  size_t star = std::string_view::npos, resume = 0;
  while (n < name.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == name[n])) {
      ++p;
      ++n;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = n;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      n = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool name_matches_any(const std::vector<std::string>& patterns, std::string_view name) {
  for (const auto& pattern : patterns)
    if (name_matches(pattern, name)) return true;
  return false;
}

}  // namespace osprey::nn
