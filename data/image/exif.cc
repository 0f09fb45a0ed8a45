// The Exif Orientation parsers (bounds-checked byte reads, no allocation) and the pixel transform
// of the eight orientations.
#include "data/image/exif.h"

#include <algorithm>
#include <cstddef>
#include <cstring>

#include "framework/core/error.h"

namespace osprey::data {

namespace {

constexpr uint8_t kExifHeader[6] = {'E', 'x', 'i', 'f', 0, 0};
constexpr uint16_t kOrientationTag = 0x0112;
constexpr uint16_t kTypeShort = 3;

// Reads 2- and 4-byte integers of the TIFF block in its byte order; callers check the bounds.
struct TiffReader {
  std::span<const uint8_t> tiff;
  bool little_endian;
  uint32_t read(size_t at, int n) const {
    uint32_t v = 0;
    for (int i = 0; i < n; ++i) {
      const uint32_t byte = tiff[at + (little_endian ? n - 1 - i : i)];
      v = (v << 8) | byte;
    }
    return v;
  }
};

ExifOrientation malformed(const char* problem) {
  return {1, problem};
}

}  // namespace

bool is_exif_payload(std::span<const uint8_t> app1_payload) {
  return app1_payload.size() >= sizeof(kExifHeader) &&
         std::memcmp(app1_payload.data(), kExifHeader, sizeof(kExifHeader)) == 0;
}

ExifOrientation parse_exif_orientation(std::span<const uint8_t> app1_payload) {
  if (!is_exif_payload(app1_payload)) return {};
  const std::span<const uint8_t> tiff = app1_payload.subspan(sizeof(kExifHeader));
  if (tiff.size() < 8) return malformed("the TIFF header is truncated");
  TiffReader r{tiff, tiff[0] == 'I'};
  if (!((tiff[0] == 'I' && tiff[1] == 'I') || (tiff[0] == 'M' && tiff[1] == 'M'))) {
    return malformed("the TIFF byte order is neither II nor MM");
  }
  if (r.read(2, 2) != 42) return malformed("the TIFF header lacks the number 42");
  const uint64_t ifd = r.read(4, 4);
  if (ifd < 8 || ifd + 2 > tiff.size()) return malformed("the IFD0 offset is out of range");
  const uint64_t entries = r.read(ifd, 2);
  if (ifd + 2 + 12 * entries > tiff.size()) {
    return malformed("IFD0 runs past the end of the segment");
  }
  for (uint64_t i = 0; i < entries; ++i) {
    const size_t entry = ifd + 2 + 12 * i;
    if (r.read(entry, 2) != kOrientationTag) continue;
    if (r.read(entry + 2, 2) != kTypeShort) return malformed("Orientation is not of type SHORT");
    if (r.read(entry + 4, 4) != 1) return malformed("Orientation's count is not 1");
    const int value = static_cast<int>(r.read(entry + 8, 2));  // left-justified in the 4 bytes
    if (value < 1 || value > 8) return malformed("Orientation is not in 1-8");
    return {value, nullptr};
  }
  return {};
}

ExifOrientation find_exif_orientation(std::span<const uint8_t> jpeg) {
  if (jpeg.size() < 2 || jpeg[0] != 0xFF || jpeg[1] != 0xD8) return {};
  size_t at = 2;
  while (at + 4 <= jpeg.size()) {
    if (jpeg[at] != 0xFF) return {};
    const uint8_t marker = jpeg[at + 1];
    if (marker == 0xFF) {  // a fill byte
      ++at;
      continue;
    }
    if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD8)) {  // no length field
      at += 2;
      continue;
    }
    if (marker == 0xD9 || marker == 0xDA) return {};  // end of image, start of scan
    const size_t length = size_t(jpeg[at + 2]) << 8 | jpeg[at + 3];
    if (length < 2) return {};
    const size_t end = at + 2 + length;
    if (marker == 0xE1) {
      // A truncated read still shows whether the segment is Exif; a truncated Exif block is
      // malformed (its IFD runs past what there is).
      const std::span<const uint8_t> payload =
          jpeg.subspan(at + 4, std::min(end, jpeg.size()) - (at + 4));
      if (is_exif_payload(payload)) return parse_exif_orientation(payload);
    }
    at = end;
  }
  return {};
}

int read_exif_orientation(std::span<const uint8_t> jpeg) {
  return find_exif_orientation(jpeg).value;
}

Image apply_orientation(const Image& image, int orientation) {
  OSPREY_CHECK(orientation >= 1 && orientation <= 8,
               "apply_orientation: orientation must be in 1-8, got {}", orientation);
  OSPREY_CHECK(image.channels >= 1 && image.channels <= 4,
               "apply_orientation: images have 1 to 4 channels, got {}", image.channels);
  if (orientation == 1) return image;
  // The stored pixel of displayed (x, y), the header's table as coefficients: sx = cx·(W − 1) +
  // xx·x + xy·y, sy = cy·(H − 1) + yx·x + yy·y, for {cx, xx, xy, cy, yx, yy}.
  static constexpr int kMap[9][6] = {{},
                                     {0, 1, 0, 0, 0, 1},
                                     {1, -1, 0, 0, 0, 1},
                                     {1, -1, 0, 1, 0, -1},
                                     {0, 1, 0, 1, 0, -1},
                                     {0, 0, 1, 0, 1, 0},
                                     {0, 0, 1, 1, -1, 0},
                                     {1, 0, -1, 1, -1, 0},
                                     {1, 0, -1, 0, 1, 0}};
  const int* m = kMap[orientation];
  const ptrdiff_t w = image.width, h = image.height, c = image.channels;
  const bool swap = orientation_swaps_axes(orientation);
  Image out(static_cast<int>(swap ? h : w), static_cast<int>(swap ? w : h), image.channels);
  // Byte offsets in the stored image: of displayed (0, 0), and per step in x and in y.
  const ptrdiff_t start = (m[3] * (h - 1) * w + m[0] * (w - 1)) * c;
  const ptrdiff_t step_x = (m[4] * w + m[1]) * c, step_y = (m[5] * w + m[2]) * c;
  // In 64 × 64 tiles: for 5–8 a displayed row walks a stored column, and a tile's columns stay
  // in cache between its rows.
  constexpr int kTile = 64;
  const uint8_t* source = image.pixels.data();
  auto copy = [&]<int C>() {
    for (int y0 = 0; y0 < out.height; y0 += kTile) {
      for (int x0 = 0; x0 < out.width; x0 += kTile) {
        const int y1 = std::min(out.height, y0 + kTile), x1 = std::min(out.width, x0 + kTile);
        for (int y = y0; y < y1; ++y) {
          uint8_t* dst = out.row(y) + size_t(x0) * C;
          const uint8_t* src = source + start + y * step_y + x0 * step_x;
          for (int x = x0; x < x1; ++x, dst += C, src += step_x) {
            for (int k = 0; k < C; ++k) dst[k] = src[k];
          }
        }
      }
    }
  };
  if (c == 1) {
    copy.operator()<1>();
  } else if (c == 2) {
    copy.operator()<2>();
  } else if (c == 3) {
    copy.operator()<3>();
  } else {
    copy.operator()<4>();
  }
  return out;
}

}  // namespace osprey::data
