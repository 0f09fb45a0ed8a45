// The pixel size of a JPEG or PNG file from its header alone (no decoding): for datasets whose
// annotations do not give it (OpenImages' normalized boxes) when only sizes are needed, as in
// `osprey dataset stats`. JPEG: the first SOFn segment's height and width; PNG: IHDR. EXIF
// orientation is not applied (OpenImages gives rotations separately).
#pragma once

#include <optional>
#include <string>
#include <utility>

namespace osprey::data {

// {width, height}, or nullopt when the file is missing, not a JPEG/PNG, or truncated.
std::optional<std::pair<int, int>> read_image_size(const std::string& path);

}  // namespace osprey::data
