#include "data/fashion_scenes/scene_composer.h"

#include <algorithm>
#include <array>
#include <cmath>

#include "data/fashion_scenes/scene_random.h"
#include "framework/core/error.h"
#include "ops/common/box_geometry.h"

namespace osprey::data::fashion_scenes {
namespace {

constexpr int kSide = 28;
constexpr double kTwoPi = 6.283185307179586;

using Rgb = std::array<float, 3>;

// A saturated colour from a random hue (HSV with s, v given).
Rgb hsv_colour(double h, double s, double v) {
  const double c = v * s, hp = h * 6.0, x = c * (1.0 - std::abs(std::fmod(hp, 2.0) - 1.0));
  double r = 0, g = 0, b = 0;
  switch (static_cast<int>(hp) % 6) {
    case 0:
      r = c, g = x;
      break;
    case 1:
      r = x, g = c;
      break;
    case 2:
      g = c, b = x;
      break;
    case 3:
      g = x, b = c;
      break;
    case 4:
      r = x, b = c;
      break;
    default:
      r = c, b = x;
      break;
  }
  const double m = v - c;
  return {float(255 * (r + m)), float(255 * (g + m)), float(255 * (b + m))};
}

Rgb muted_colour(SceneRandom& rng) {
  return hsv_colour(rng.uniform(), rng.uniform(0.1, 0.5), rng.uniform(0.3, 0.85));
}

// Background into a float RGB buffer: gradient between two muted colours (+ gratings and value
// noise when textured). Gratings are separable: sin(a + b) = sin a cos b + cos a sin b.
void draw_background(const SceneConfig& cfg, SceneRandom& rng, std::vector<float>& rgb) {
  const int W = cfg.width, H = cfg.height;
  const Rgb c0 = muted_colour(rng), c1 = muted_colour(rng);
  const double angle = rng.uniform(0, kTwoPi), gx = std::cos(angle), gy = std::sin(angle);
  const double norm = std::abs(gx) * W + std::abs(gy) * H;
  const double offset = -(std::min(0.0, gx) * W + std::min(0.0, gy) * H);  // gradient in [0, 1]
  const bool textured = cfg.background != Background::plain;
  std::vector<float> texture(size_t(W) * H, 0.0f);
  if (textured) {
    for (int g = 0; g < 2; ++g) {
      const double period = rng.log_uniform(6, 64), theta = rng.uniform(0, kTwoPi);
      const double kx = kTwoPi / period * std::cos(theta), ky = kTwoPi / period * std::sin(theta);
      const double phase = rng.uniform(0, kTwoPi), amp = rng.uniform(6, 22);
      std::vector<float> sa(W), ca(W), sb(H), cb(H);
      for (int x = 0; x < W; ++x)
        sa[x] = float(std::sin(kx * x + phase)), ca[x] = float(std::cos(kx * x + phase));
      for (int y = 0; y < H; ++y) sb[y] = float(std::sin(ky * y)), cb[y] = float(std::cos(ky * y));
      for (int y = 0; y < H; ++y) {
        float* t = texture.data() + size_t(y) * W;
        const float s = float(amp) * cb[y], c = float(amp) * sb[y];
        for (int x = 0; x < W; ++x) t[x] += sa[x] * s + ca[x] * c;
      }
    }
    // Value noise: a coarse grid of random values, bilinearly interpolated.
    const int cell = rng.integer(8, 32), gw = W / cell + 2, gh = H / cell + 2;
    const double amp = rng.uniform(8, 24);
    std::vector<float> grid(size_t(gw) * gh);
    for (float& v : grid) v = float(amp * (2 * rng.uniform() - 1));
    // Interpolate in y once per row (gw values), then in x with per-column weights.
    std::vector<int> ix(W);
    std::vector<float> wx(W), row(gw);
    for (int x = 0; x < W; ++x) {
      ix[x] = x / cell;
      wx[x] = float(x - ix[x] * cell) / cell;
    }
    for (int y = 0; y < H; ++y) {
      const int iy = y / cell;
      const float wy = float(y - iy * cell) / cell;
      const float* g0 = grid.data() + size_t(iy) * gw;
      const float* g1 = g0 + gw;
      for (int i = 0; i < gw; ++i) row[i] = g0[i] + wy * (g1[i] - g0[i]);
      float* t = texture.data() + size_t(y) * W;
      for (int x = 0; x < W; ++x) t[x] += row[ix[x]] + wx[x] * (row[ix[x] + 1] - row[ix[x]]);
    }
  }
  rgb.assign(size_t(W) * H * 3, 0.0f);
  std::vector<float> ux(W);
  for (int x = 0; x < W; ++x) ux[x] = float((gx * x + offset) / norm);
  for (int y = 0; y < H; ++y) {
    const float uy = float(gy * y / norm);
    const float* t = texture.data() + size_t(y) * W;
    float* p = rgb.data() + size_t(y) * W * 3;
    for (int x = 0; x < W; ++x, p += 3) {
      const float u = std::clamp(ux[x] + uy, 0.0f, 1.0f);
      for (int c = 0; c < 3; ++c) p[c] = c0[c] + (c1[c] - c0[c]) * u + t[x];
    }
  }
}

// The 28×28 item resized bilinearly (pixel centres aligned) to w×h intensities.
void resize_item(const uint8_t* item, int w, int h, std::vector<float>& out) {
  out.resize(size_t(w) * h);
  std::vector<int> x0(w), x1(w);
  std::vector<float> wx(w);
  for (int x = 0; x < w; ++x) {
    const float u = std::clamp((x + 0.5f) * kSide / w - 0.5f, 0.0f, float(kSide - 1));
    x0[x] = int(u);
    x1[x] = std::min(x0[x] + 1, kSide - 1);
    wx[x] = u - x0[x];
  }
  for (int y = 0; y < h; ++y) {
    const float v = std::clamp((y + 0.5f) * kSide / h - 0.5f, 0.0f, float(kSide - 1));
    const int y0 = int(v), y1 = std::min(y0 + 1, kSide - 1);
    const float wy = v - y0;
    const uint8_t* r0 = item + y0 * kSide;
    const uint8_t* r1 = item + y1 * kSide;
    float* o = out.data() + size_t(y) * w;
    for (int x = 0; x < w; ++x) {
      const float top = r0[x0[x]] + wx[x] * (r0[x1[x]] - r0[x0[x]]);
      const float bottom = r1[x0[x]] + wx[x] * (r1[x1[x]] - r1[x0[x]]);
      o[x] = top + wy * (bottom - top);
    }
  }
}

// The part of a w×h frame at (left, top) that lies on the W×H canvas, in frame coordinates:
// [x0, x1) × [y0, y1).
struct Visible {
  int x0, x1, y0, y1;
};
Visible visible_part(int w, int h, int left, int top, int W, int H) {
  return {std::max(0, -left), std::min(w, W - left), std::max(0, -top), std::min(h, H - top)};
}

// Blends the visible part of intensities `item` (w×h at (left, top)) in `colour` over the RGB
// buffer, with alpha `opacity` · I / 255.
void blend_item(const std::vector<float>& item, int w, Visible v, int left, int top, Rgb colour,
                float opacity, int canvas_w, std::vector<float>& rgb) {
  for (int y = v.y0; y < v.y1; ++y) {
    float* p = rgb.data() + ((size_t(top + y)) * canvas_w + left + v.x0) * 3;
    const float* in = item.data() + size_t(y) * w;
    for (int x = v.x0; x < v.x1; ++x, p += 3) {
      const float a = in[x] * (1.0f / 255.0f);
      const float alpha = opacity * a, shade = 0.3f + 0.7f * a;
      for (int c = 0; c < 3; ++c) p[c] += alpha * (colour[c] * shade - p[c]);
    }
  }
}

// Tight box, in frame coordinates [x0, x1) × [y0, y1), of the mask pixels (I > threshold) inside
// `v`; x1 = 0 when there are none.
Visible mask_box(const std::vector<float>& item, int w, Visible v, int threshold) {
  Visible box{v.x1, 0, v.y1, 0};
  for (int y = v.y0; y < v.y1; ++y) {
    const float* in = item.data() + size_t(y) * w;
    for (int x = v.x0; x < v.x1; ++x) {
      if (in[x] > threshold) {
        box.x0 = std::min(box.x0, x), box.x1 = std::max(box.x1, x + 1);
        box.y0 = std::min(box.y0, y), box.y1 = std::max(box.y1, y + 1);
      }
    }
  }
  return box;
}

void draw_clutter(const SceneConfig& cfg, const ItemSource& items, SceneRandom& rng,
                  std::vector<float>& rgb, std::vector<float>& scratch) {
  for (int f = 0; f < cfg.clutter_fragments; ++f) {
    const uint8_t* item = items.images + rng.below(items.count) * kSide * kSide;
    const int size = rng.integer(16, std::max(16, std::min(cfg.width, cfg.height) / 3));
    resize_item(item, size, size, scratch);
    // Keep a random half of the frame, so fragments read as texture, not as whole items.
    const bool vertical = rng.uniform() < 0.5;
    const int w = vertical ? size / 2 : size, h = vertical ? size : size / 2;
    std::vector<float> part(size_t(w) * h);
    const int ox = vertical ? rng.integer(0, size - w) : 0,
              oy = vertical ? 0 : rng.integer(0, size - h);
    for (int y = 0; y < h; ++y) {
      for (int x = 0; x < w; ++x) part[size_t(y) * w + x] = scratch[size_t(y + oy) * size + x + ox];
    }
    const int left = rng.integer(0, cfg.width - w), top = rng.integer(0, cfg.height - h);
    blend_item(part, w, Visible{0, w, 0, h}, left, top, muted_colour(rng),
               float(rng.uniform(0.2, 0.4)), cfg.width, rgb);
  }
}

// Marks void: pixels within `radius` (square) of a boundary between two different labels.
void add_void_band(int W, int H, int radius, Image& object_mask, Image& class_mask) {
  if (radius <= 0) return;
  const uint8_t* m = object_mask.pixels.data();
  std::vector<uint8_t> edge(size_t(W) * H, 0);
  for (int y = 0; y < H; ++y) {
    for (int x = 0; x < W; ++x) {
      const size_t i = size_t(y) * W + x;
      if (x + 1 < W && m[i] != m[i + 1]) edge[i] = edge[i + 1] = 1;
      if (y + 1 < H && m[i] != m[i + W]) edge[i] = edge[i + W] = 1;
    }
  }
  // A boundary pixel pair covers the 2 pixels at the boundary; dilating by radius − 1 on each side
  // gives a band 2·radius wide.
  const int r = radius - 1;
  std::vector<uint8_t> rows(edge.size(), 0);
  for (int y = 0; y < H; ++y) {
    int last = -1000000;
    for (int x = 0; x < W; ++x) {  // forward then backward sweep: distance to nearest edge in row
      if (edge[size_t(y) * W + x]) last = x;
      if (x - last <= r) rows[size_t(y) * W + x] = 1;
    }
    last = 1000000;
    for (int x = W - 1; x >= 0; --x) {
      if (edge[size_t(y) * W + x]) last = x;
      if (last - x <= r) rows[size_t(y) * W + x] = 1;
    }
  }
  for (int x = 0; x < W; ++x) {
    int last = -1000000;
    for (int y = 0; y < H; ++y) {
      if (rows[size_t(y) * W + x]) last = y;
      if (y - last <= r) edge[size_t(y) * W + x] = 1;
    }
    last = 1000000;
    for (int y = H - 1; y >= 0; --y) {
      if (rows[size_t(y) * W + x]) last = y;
      if (last - y <= r) edge[size_t(y) * W + x] = 1;
    }
  }
  for (size_t i = 0; i < edge.size(); ++i) {
    if (edge[i]) object_mask.pixels[i] = class_mask.pixels[i] = 255;
  }
}

}  // namespace

Scene compose_scene(const SceneConfig& cfg, const ItemSource& items, uint64_t seed, int64_t index) {
  OSPREY_CHECK(items.count > 0, "fashion-scenes: no Fashion-MNIST items to compose from");
  const int W = cfg.width, H = cfg.height;
  SceneRandom rng(seed, index);
  std::vector<float> rgb, scratch;
  draw_background(cfg, rng, rgb);
  if (cfg.background == Background::cluttered) draw_clutter(cfg, items, rng, rgb, scratch);

  Scene scene;
  scene.class_mask = Image(W, H, 1);
  scene.object_mask = Image(W, H, 1);
  const int n = cfg.centred ? 1 : rng.integer(cfg.min_objects, cfg.max_objects);
  for (int k = 0; k < n; ++k) {
    const int64_t item_id = rng.below(items.count);
    const int label = static_cast<int>(items.labels[item_id]);
    const double aspect = std::exp(rng.uniform(-1, 1) * std::log1p(cfg.aspect_jitter));
    const double size = cfg.centred ? cfg.centred_fill * std::min(W, H)
                                    : rng.log_uniform(cfg.min_size, cfg.max_size);
    const int w = std::clamp(int(std::lround(size * std::sqrt(aspect))), 2, W);
    const int h = std::clamp(int(std::lround(size / std::sqrt(aspect))), 2, H);
    const Rgb colour =
        cfg.colourise ? hsv_colour(rng.uniform(), rng.uniform(0.55, 1.0), rng.uniform(0.7, 1.0))
                      : Rgb{255, 255, 255};
    resize_item(items.images + item_id * kSide * kSide, w, h, scratch);
    const Visible whole{0, w, 0, h};
    const Visible full = mask_box(scratch, w, whole, cfg.mask_threshold);
    if (full.x1 == 0) continue;  // nothing above the threshold: an invisible item gets no box
    // A truncated object's frame may leave the canvas by up to half its size.
    const bool may_truncate = !cfg.centred && rng.uniform() < cfg.truncation;
    int left = (W - w) / 2, top = (H - h) / 2;
    Visible v = whole, box = full;
    bool placed = cfg.centred;
    for (int t = 0; !placed && t < cfg.placement_tries; ++t) {
      left = may_truncate ? rng.integer(-w / 2, W - w + w / 2) : rng.integer(0, W - w);
      top = may_truncate ? rng.integer(-h / 2, H - h + h / 2) : rng.integer(0, H - h);
      v = visible_part(w, h, left, top, W, H);
      box = mask_box(scratch, w, v, cfg.mask_threshold);
      if (box.x1 == 0) continue;  // the visible part holds no mask pixel
      const float b[4] = {float(left + box.x0), float(top + box.y0), float(left + box.x1),
                          float(top + box.y1)};
      placed = true;
      for (const Object& o : scene.objects) {
        if (ops::box::iou(b, o.box.data(), 0.0f) > cfg.max_overlap) placed = false;
      }
    }
    if (!placed) continue;
    blend_item(scratch, w, v, left, top, colour, 1.0f, W, rgb);
    const auto object_index = static_cast<uint8_t>(scene.objects.size() + 1);
    for (int y = v.y0; y < v.y1; ++y) {
      for (int x = v.x0; x < v.x1; ++x) {
        if (scratch[size_t(y) * w + x] > cfg.mask_threshold) {
          scene.class_mask.at(top + y, left + x, 0) = static_cast<uint8_t>(label + 1);
          scene.object_mask.at(top + y, left + x, 0) = object_index;
        }
      }
    }
    Object object;
    object.box = {float(left + box.x0), float(top + box.y0), float(left + box.x1),
                  float(top + box.y1)};
    object.class_id = label;
    object.truncated =
        box.x0 != full.x0 || box.x1 != full.x1 || box.y0 != full.y0 || box.y1 != full.y1;
    scene.objects.push_back(object);
    scene.item_ids.push_back(item_id);
    if (scene.objects.size() >= 254) break;  // object indices must stay below void (255)
  }
  if (cfg.centred && !scene.objects.empty()) scene.image_label = scene.objects[0].class_id;
  add_void_band(W, H, cfg.void_radius, scene.object_mask, scene.class_mask);

  scene.image = Image(W, H, 3);
  for (size_t i = 0; i < rgb.size(); ++i) {
    scene.image.pixels[i] = static_cast<uint8_t>(std::clamp(rgb[i], 0.0f, 255.0f) + 0.5f);
  }
  return scene;
}

}  // namespace osprey::data::fashion_scenes
