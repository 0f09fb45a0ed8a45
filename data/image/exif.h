// EXIF orientation of JPEGs: where a camera records that its stored pixels must be turned or
// mirrored to be displayed upright. The tag lives in the APP1 segment that starts "Exif\0\0",
// followed by a TIFF header ("II" little-endian or "MM" big-endian, the number 42, the offset of
// IFD0 from the TIFF header) and IFD0's entries (2-byte count, then 12 bytes each: tag, type,
// count, value); Orientation is tag 0x0112, type SHORT (3), count 1, value 1–8:
//   1 as stored              5 transposed (mirrored in the main diagonal)
//   2 mirrored left–right    6 rotated 90° clockwise
//   3 rotated 180°           7 transversed (mirrored in the anti-diagonal)
//   4 flipped top–bottom     8 rotated 90° counter-clockwise
// 5–8 swap width and height. decode_jpeg applies it when DecodeOptions::apply_exif_orientation is
// set (codec.h); read_image_size can report the displayed size (data/formats/image_size.h).
//
// The parsers read untrusted bytes: they check every offset and length against the segment, never
// read outside it, allocate nothing and never throw. A malformed block is reported, not repaired.
#pragma once

#include <cstdint>
#include <span>

#include "data/image/image.h"

namespace osprey::data {

struct ExifOrientation {
  int value = 1;  // 1–8; 1 when there is no Exif block, no Orientation tag or a malformed block
  // Why the Exif block was ignored (a static string: "IFD0 runs past the end of the segment",
  // ...); nullptr when it was well formed or absent.
  const char* problem = nullptr;
};

// The orientation in one APP1 segment's payload (the bytes after its 2-byte length). A payload
// that does not start with "Exif\0\0" (XMP, for instance) is not an Exif block: {1, nullptr}.
ExifOrientation parse_exif_orientation(std::span<const uint8_t> app1_payload);
bool is_exif_payload(std::span<const uint8_t> app1_payload);

// The orientation of a JPEG file from its first Exif APP1 segment, walking the markers up to the
// start of the scan; `jpeg` may be the whole file or only its first bytes (a header read). Not a
// JPEG, or a truncated header before any Exif block: {1, nullptr}.
ExifOrientation find_exif_orientation(std::span<const uint8_t> jpeg);
// find_exif_orientation(jpeg).value: 1–8, 1 when absent or malformed.
int read_exif_orientation(std::span<const uint8_t> jpeg);

inline bool orientation_swaps_axes(int orientation) {
  return orientation >= 5 && orientation <= 8;
}

// The stored `image` turned to display as `orientation` says (1–8; anything else is a value
// error). Output pixel (x, y) of the displayed W' × H' image comes from stored pixel:
//   1 (x, y)   2 (W−1−x, y)   3 (W−1−x, H−1−y)   4 (x, H−1−y)
//   5 (y, x)   6 (y, H−1−x)   7 (W−1−y, H−1−x)   8 (W−1−y, x)
Image apply_orientation(const Image& image, int orientation);

}  // namespace osprey::data
