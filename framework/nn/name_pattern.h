// Matching dotted parameter names ("backbone.res4.b3.conv2.weight") against the glob patterns that
// specs use for transfer (init_from include/exclude), freezing and per-parameter lr/decay
// multipliers. `*` matches any run of characters (dots included, so "backbone.*" covers every
// name below backbone), `?` one character; everything else matches itself. A pattern must match
// the whole name.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace osprey::nn {

bool name_matches(std::string_view pattern, std::string_view name);

// True when any pattern matches (false for an empty list).
bool name_matches_any(const std::vector<std::string>& patterns, std::string_view name);

}  // namespace osprey::nn
