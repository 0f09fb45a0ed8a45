// Header walks: JPEG markers up to the first start-of-frame, PNG's fixed IHDR position.
#include "data/formats/image_size.h"

#include <cstdint>
#include <fstream>
#include <vector>

#include "data/image/exif.h"

namespace osprey::data {

namespace {

bool read_bytes(std::ifstream& file, uint8_t* out, size_t n) {
  file.read(reinterpret_cast<char*>(out), static_cast<std::streamsize>(n));
  return static_cast<size_t>(file.gcount()) == n;
}

uint32_t big_endian(const uint8_t* p, int n) {
  uint32_t v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8) | p[i];
  return v;
}

bool is_start_of_frame(uint8_t marker) {
  // C0–CF except C4 (DHT), C8 (JPG extension) and CC (DAC).
  return marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
}

}  // namespace

std::optional<std::pair<int, int>> read_image_size(const std::string& path,
                                                   bool apply_exif_orientation) {
  std::ifstream file(path, std::ios::binary);
  uint8_t head[24];
  if (!file || !read_bytes(file, head, 2)) return std::nullopt;
  if (head[0] == 0x89 && head[1] == 'P') {
    static const uint8_t signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    if (!read_bytes(file, head + 2, 22)) return std::nullopt;
    for (int i = 0; i < 8; ++i) {
      if (head[i] != signature[i]) return std::nullopt;
    }
    if (head[12] != 'I' || head[13] != 'H' || head[14] != 'D' || head[15] != 'R') {
      return std::nullopt;
    }
    return std::pair<int, int>(int(big_endian(head + 16, 4)), int(big_endian(head + 20, 4)));
  }
  if (head[0] != 0xFF || head[1] != 0xD8) return std::nullopt;
  uint8_t marker[2], segment[7];
  int orientation = 1;
  bool exif_seen = false;
  std::vector<uint8_t> payload;
  while (read_bytes(file, marker, 1)) {
    if (marker[0] != 0xFF) return std::nullopt;
    do {  // fill bytes
      if (!read_bytes(file, marker + 1, 1)) return std::nullopt;
    } while (marker[1] == 0xFF);
    uint8_t m = marker[1];
    if (m == 0xD8 || m == 0x01 || (m >= 0xD0 && m <= 0xD7)) continue;  // no length field
    if (m == 0xD9 || m == 0xDA) return std::nullopt;  // end of image / scan data before a frame
    if (!read_bytes(file, segment, 2)) return std::nullopt;
    uint32_t length = big_endian(segment, 2);
    if (length < 2) return std::nullopt;
    if (is_start_of_frame(m)) {
      if (length < 7 || !read_bytes(file, segment + 2, 5)) return std::nullopt;
      int height = int(big_endian(segment + 3, 2)), width = int(big_endian(segment + 5, 2));
      if (width == 0 || height == 0) return std::nullopt;
      if (orientation_swaps_axes(orientation)) return std::pair<int, int>(height, width);
      return std::pair<int, int>(width, height);
    }
    if (apply_exif_orientation && m == 0xE1 && !exif_seen) {
      payload.resize(length - 2);
      if (!read_bytes(file, payload.data(), payload.size())) return std::nullopt;
      if (is_exif_payload(payload)) {
        exif_seen = true;
        orientation = parse_exif_orientation(payload).value;
      }
      continue;
    }
    file.seekg(length - 2, std::ios::cur);
    if (!file) return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace osprey::data
