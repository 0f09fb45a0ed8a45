// Resizing and cropping of 8-bit HWC images, the geometric steps of the detection transforms.
// Pixel centres sit at (x + 0.5, y + 0.5) (the continuous box convention of
// data/detection/annotation.h), so output pixel x samples the input at
// (x + 0.5) · in_width / out_width − 0.5: a box (x1, y1, x2, y2) maps to the same content at
// (x1 · sx, y1 · sy, x2 · sx, y2 · sy), sx = out_width / in_width.
#pragma once

#include "data/image/image.h"

namespace osprey::data {

// Bilinear interpolation (OpenCV's INTER_LINEAR, PyTorch's align_corners = false); samples outside
// the image take the nearest edge pixel. No anti-aliasing: shrinking by more than 2× skips pixels,
// which is what detection pipelines (Detectron, SNIPER) do too.
Image resize_bilinear(const Image& image, int width, int height);
// Nearest neighbour: output pixel x copies input pixel floor((x + 0.5) · in_width / out_width).
// For label masks, whose values are class indices that must not be blended.
Image resize_nearest(const Image& image, int width, int height);
// The window of `width` × `height` pixels whose top-left pixel is (x, y); it must lie inside the
// image.
Image crop(const Image& image, int x, int y, int width, int height);
// Mirrored left-right.
Image flip_horizontal(const Image& image);

}  // namespace osprey::data
