// The pixel size of a JPEG or PNG file from its header alone (no decoding): for datasets whose
// annotations do not give it (OpenImages' normalized boxes) when only sizes are needed, as in
// `osprey dataset stats`. JPEG: the first SOFn segment's height and width; PNG: IHDR. The Exif
// orientation is not applied by default (OpenImages gives rotations separately, and annotations
// are on the stored pixel grid); with apply_exif_orientation, a JPEG whose first Exif APP1 segment
// (data/image/exif.h) says 5-8 reports its displayed size, height and width swapped, the size
// decode_jpeg gives with DecodeOptions::apply_exif_orientation. A malformed Exif block is ignored
// (the stored size).
#pragma once

#include <optional>
#include <string>
#include <utility>

namespace osprey::data {

// {width, height}, or nullopt when the file is missing, not a JPEG/PNG, or truncated.
std::optional<std::pair<int, int>> read_image_size(const std::string& path,
                                                   bool apply_exif_orientation = false);

}  // namespace osprey::data
