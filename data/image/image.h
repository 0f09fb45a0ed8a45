// A decoded 8-bit image in host memory: rows of interleaved channels (height × width × channels),
// the layout every decoder produces and every encoder consumes. Channels: 1 (grey, or class indices
// of a palette mask), 3 (RGB) or 4 (RGBA). Conversion to a C×H×W tensor happens in the transforms.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace osprey::data {

struct Image {
  int width = 0;
  int height = 0;
  int channels = 0;
  std::vector<uint8_t> pixels;  // height * width * channels bytes, row-major, channels interleaved

  Image() = default;
  Image(int w, int h, int c) : width(w), height(h), channels(c), pixels(size_t(w) * h * c) {}
  uint8_t* row(int y) { return pixels.data() + size_t(y) * width * channels; }
  const uint8_t* row(int y) const { return pixels.data() + size_t(y) * width * channels; }
  uint8_t& at(int y, int x, int c) { return pixels[(size_t(y) * width + x) * channels + c]; }
  uint8_t at(int y, int x, int c) const { return pixels[(size_t(y) * width + x) * channels + c]; }
  bool empty() const { return pixels.empty(); }
};

}  // namespace osprey::data
