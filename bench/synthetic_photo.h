// A VOC-like synthetic photo for the data benchmarks (image_decode_bench, data_pipeline_bench):
// what matters to a JPEG decoder is a mix of smooth areas, hard edges and noise, not the subject.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "data/image/image.h"

namespace osprey::bench {

// Gradients in each channel, a few filled discs and rectangles with hard edges, and Gaussian noise.
inline data::Image synthetic_photo(int width, int height, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  std::normal_distribution<float> noise(0.0f, 6.0f);
  data::Image image(width, height, 3);
  float base[3], gx[3], gy[3];
  for (int c = 0; c < 3; ++c) {
    base[c] = 40 + 120 * u(rng);
    gx[c] = (u(rng) - 0.5f) * 160 / width;
    gy[c] = (u(rng) - 0.5f) * 160 / height;
  }
  struct Shape {
    bool disc;
    float x, y, r, colour[3];
  };
  std::vector<Shape> shapes(6);
  for (Shape& s : shapes) {
    s = {u(rng) < 0.5f, u(rng) * width, u(rng) * height, 20 + u(rng) * 80, {}};
    for (float& c : s.colour) c = 255 * u(rng);
  }
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      float v[3];
      for (int c = 0; c < 3; ++c) v[c] = base[c] + gx[c] * x + gy[c] * y;
      for (const Shape& s : shapes) {
        const float dx = x - s.x, dy = y - s.y;
        const bool inside = s.disc ? dx * dx + dy * dy < s.r * s.r
                                   : std::abs(dx) < s.r && std::abs(dy) < 0.6f * s.r;
        if (inside) {
          for (int c = 0; c < 3; ++c) v[c] = s.colour[c] + 0.3f * (v[c] - 128);
        }
      }
      for (int c = 0; c < 3; ++c) {
        image.at(y, x, c) = static_cast<uint8_t>(std::clamp(v[c] + noise(rng), 0.0f, 255.0f));
      }
    }
  }
  return image;
}

}  // namespace osprey::bench
