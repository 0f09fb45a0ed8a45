// The augmentation of detection and segmentation samples: the image, its boxes and its label mask
// go through the same geometry, so every box keeps framing its object and every mask pixel keeps
// its image pixel. Steps, in this order:
//   1. random crop (with probability crop_probability): a window whose width and height are
//      uniform fractions in [crop_min_fraction, 1] of the image's, at a uniform position. Boxes
//      are cut to the window; a box with no area left inside, or with less than crop_min_visible
//      of its area inside, is dropped; one that lost any area is clipped. Both are counted.
//   2. resize: to exactly fixed_width × fixed_height, or by the scale that brings the shorter side
//      to one of `short_sides` (one drawn per sample: multi-scale training) while keeping the
//      longer side at most max_side; that scale is then multiplied by a factor uniform in
//      [scale_jitter_min, scale_jitter_max]. Image bilinear, mask nearest neighbour, boxes scaled.
//   3. random horizontal flip (probability 1/2): x → W − x for boxes.
//   4. photometric jitter: brightness (v·b), contrast (blend with the image's mean grey) and
//      saturation (blend with each pixel's grey), factors uniform in [1 − x, 1 + x], then hue,
//      shift uniform in [−hue, hue] (a fraction of the circle), applied in that order with
//      rounding and clamping to [0, 255] after each (torchvision's ColorJitter in a fixed order).
//      Hue, per pixel of u8 values (r, g, b): M = max, m = min, C = M − m; greys (C = 0) stay;
//      h = (g − b)/C if M = r, (b − r)/C + 2 if M = g, else (r − g)/C + 4 (the hexcone sector
//      position); h ← (h + 6·shift) mod 6, i = floor(h), f = h − i; with rise = m + C·f and
//      fall = M − C·f, i = 0..5 gives (M, rise, m) (fall, M, m) (m, M, rise) (m, fall, M)
//      (rise, m, M) (M, m, fall), each rounded to u8. This is RGB→HSV (V = M/255, S = C/M,
//      H = h/6), H + shift mod 1, HSV→RGB, ×255 (Python's colorsys) with the algebra done: value
//      and chroma are kept exactly, so a shift of ±1/3 maps pure red to pure green / blue.
//      torchvision's tensor path truncates instead of rounding, so its u8 results can be one
//      lower.
//   5. to a C×H×W f32 tensor in RGB or BGR order: value = (v · value_scale − mean[c]) / std[c],
//      mean/std given in the output order. SNIPER: bgr, value_scale 1, mean (103.939, 116.779,
//      123.68); torchvision: rgb, value_scale 1/255, mean (0.485, 0.456, 0.406), std (0.229,
//      0.224, 0.225).
//   6. pad at the bottom and right to at least pad_width × pad_height, then up to a multiple of
//      pad_multiple: image with pad_value (after normalisation, SNIPER's zeros), mask with 255
//      (void). Boxes do not move.
//
// u8_images mode (issue 5, loader speed): steps 1–4 as above, then the rounded 8-bit pixels as a
// 3×H×W u8 tensor, always in RGB order, padded with 0; bgr, value_scale, mean, std and pad_value
// are not applied. The normalisation runs after the loader as framework ops, on whichever device
// the batch went to: normalise_batch (data/detection/normalise_batch.h), which, given the batch's
// image_sizes, gives exactly what the f32 mode gives (padding included).
//
// Every random choice is a pure function of (seed, epoch, dataset index) (data/sample_random.h),
// drawn by choose(); apply() with a given choice is deterministic, so tests and resumed runs can
// replay a sample.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "data/detection/annotation.h"
#include "data/image/image.h"
#include "framework/core/tensor.h"

namespace osprey::data {

struct DetectionTransformConfig {
  float crop_probability = 0.0f;
  float crop_min_fraction = 1.0f;  // in (0, 1]
  float crop_min_visible = 0.0f;   // in [0, 1]
  std::vector<int> short_sides{};  // empty: no shorter-side resize
  int max_side = 0;                // 0: no cap (alone, it only shrinks images that exceed it)
  int fixed_width = 0;             // both set: resize to exactly this size
  int fixed_height = 0;
  float scale_jitter_min = 1.0f;
  float scale_jitter_max = 1.0f;
  bool flip = false;
  float brightness = 0.0f;  // in [0, 1)
  float contrast = 0.0f;
  float saturation = 0.0f;
  float hue = 0.0f;  // in [0, 0.5], a fraction of the full hue circle
  bool bgr = false;
  float value_scale = 1.0f;
  std::vector<float> mean{};  // per output channel, or one value for all; empty means 0
  std::vector<float> std{};   // likewise; empty means 1
  int pad_width = 0;
  int pad_height = 0;
  int pad_multiple = 0;  // 0 or 1: no rounding up
  float pad_value = 0.0f;
  bool u8_images = false;  // see above; the f32 output is the default
};

// The random choices of one sample.
struct DetectionChoice {
  bool crop = false;  // the window below is used only when set
  int crop_x = 0, crop_y = 0, crop_width = 0, crop_height = 0;
  int out_width = 0, out_height = 0;  // after the resize (the input or crop size without one)
  bool flip = false;
  float brightness = 1.0f, contrast = 1.0f, saturation = 1.0f;
  float hue = 0.0f;  // the hue shift, a fraction of the circle
  bool operator==(const DetectionChoice&) const = default;
};

struct DetectionSample {
  Image image;                  // 3-channel RGB (a 1-channel grey image is taken as R = G = B)
  std::vector<Object> objects;  // boxes in image pixels
  Image mask;                   // 1 channel, the image's size; empty when there is none
  // Set by sources that replace corrupt samples (detection_loader.h): how many were passed over,
  // and the dataset index actually read when that is not the one asked for (else -1).
  int skipped = 0;
  int64_t index = -1;
};

struct DetectionResult {
  Tensor image;                   // C×H×W f32 (u8 in u8_images mode), padded
  std::vector<Object> objects;    // the surviving objects, boxes in output pixels
  std::vector<int> source_index;  // for each surviving object, its index in the input
  Tensor mask;                    // H×W u8 padded with 255; undefined without an input mask
  int valid_width = 0;            // the image area of the canvas; the rest is padding
  int valid_height = 0;
  float scale_x = 1.0f, scale_y = 1.0f;  // output pixels per input (crop) pixel
  int dropped = 0;                       // objects removed by the crop
  int clipped = 0;                       // objects cut by the crop and kept
};

class DetectionTransform {
 public:
  explicit DetectionTransform(DetectionTransformConfig config);
  const DetectionTransformConfig& config() const { return config_; }

  DetectionChoice choose(uint64_t seed, int64_t epoch, int64_t index, int width, int height) const;
  // The pixels go through one fused resize/flip/normalise pass (resize_normalise.h) unless there
  // is photometric jitter; `reference_pixels` forces the step-by-step path (crop, resize_bilinear,
  // photometric, normalise table), which the fused pass must match (tests compare them).
  DetectionResult apply(const DetectionSample& sample, const DetectionChoice& choice,
                        bool reference_pixels = false) const;
  DetectionResult apply(const DetectionSample& sample, uint64_t seed, int64_t epoch,
                        int64_t index) const;

  // apply() in parts, for callers that place the pixels themselves (the loader writes them straight
  // into its batch): the objects, scales, counts and valid size (image and mask undefined); the
  // padded size apply() gives the image, (height, width); and the pixels written into a 3 × out_h
  // × out_w canvas (at least canvas_size()) with its mask, when the sample has one and mask_out is
  // given, into an out_h × out_w canvas — the image at the top left, the rest padding.
  DetectionResult apply_boxes(const DetectionSample& sample, const DetectionChoice& choice) const;
  std::pair<int, int> canvas_size(const DetectionChoice& choice) const;
  void write_pixels(const DetectionSample& sample, const DetectionChoice& choice, int out_h,
                    int out_w, float* image_out, uint8_t* mask_out,
                    bool reference_pixels = false) const;
  // write_pixels for the u8_images mode (the config's flag is not consulted): RGB, padding 0.
  void write_pixels_u8(const DetectionSample& sample, const DetectionChoice& choice, int out_h,
                       int out_w, uint8_t* image_out, uint8_t* mask_out,
                       bool reference_pixels = false) const;

  // The resized size of a width × height image at jitter factor `jitter` for short_sides entry
  // `side_index` (the deterministic part of choose()).
  std::pair<int, int> resized_size(int width, int height, int side_index, float jitter) const;

 private:
  void check(const DetectionSample& sample, const DetectionChoice& choice) const;
  float mean_of(int channel) const;
  float std_of(int channel) const;
  // Crop, resize and photometric jitter step by step (the reference pixel path), before the
  // flip and the normalisation.
  Image reference_image(const Image& input, const DetectionChoice& choice) const;
  // The mask's crop, resize and flip into its canvas.
  void write_mask_pixels(const DetectionSample& sample, const DetectionChoice& choice, int out_h,
                         int out_w, uint8_t* mask_out) const;
  // The 3-channel `image` (mirrored when `flip`) normalised into a 3×out_h×out_w canvas.
  void write_normalised(const Image& image, bool flip, int out_h, int out_w, float* out) const;
  DetectionTransformConfig config_;
};

// The boxes of `objects` as an N×4 f32 tensor (x1, y1, x2, y2).
Tensor boxes_tensor(const std::vector<Object>& objects);

}  // namespace osprey::data
