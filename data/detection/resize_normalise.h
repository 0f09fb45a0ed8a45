// The pixel path of the detection transform (detection_transform.h) in one pass: a window of an
// 8-bit RGB image is resized bilinearly, optionally mirrored and normalised straight into the
// f32 C×H×W canvas, padding included. It computes exactly what resize_bilinear (data/image/
// resize.h: the same taps and the same fixed-point blends and rounding to 8 bits), a left-right
// mirror and the transform's normalisation expression compute in three passes, without the
// intermediate images.
//
// Why it is faster: the horizontal pass runs once per source row used, from the u8 pixels into
// planar 16-bit rows (a two-row cache, as in resize_bilinear), and the vertical pass, which
// touches every output value, is a branch-free loop over contiguous values per output plane
// (blend, round, then scale and shift). The flip is folded into the column taps. The mean/std
// are applied after the rounding to 8 bits rather than folded into the blend weights, which
// would differ from the reference by up to half a grey level.
//
// Two variants compute bit-identical results:
// - scalar: portable; the compiler vectorises the vertical pass, the horizontal pass gathers
//   one pixel at a time.
// - avx512 (F, BW, VL, VBMI; chosen at run time when the CPU has them): each source row is
//   deinterleaved once into 3 planes of 16-bit values (vpermb), and for each block of 32 output
//   columns whose taps fall within 64 consecutive source pixels (any enlargement, reductions up
//   to about 2x) the two taps are two permutes (vpermt2w) of two loaded vectors, or of one
//   (vpermw) when they fall within 32 pixels (enlargements), and the blend is one pmulhrsw;
//   wider blocks are blended lane by lane. The vertical pass blends and rounds
//   32 values per instruction.
// resize_variants_test checks both against each other and against the step-by-step reference.
#pragma once

#include "data/image/image.h"

namespace osprey::data {

// Which variant runs: `best` is avx512 when the CPU has it, else scalar; asking for avx512 on a
// CPU without it is an error.
enum class ResizePath { best, scalar, avx512 };
bool resize_avx512_available();

struct ChannelNormalise {
  int source_channel[3] = {0, 1, 2};  // input channel of each output plane (RGB or BGR order)
  float value_scale = 1.0f;
  float mean[3] = {0, 0, 0};
  float inv_std[3] = {1, 1, 1};
  float pad_value = 0.0f;
};

// Window (x0, y0, width, height) of the 3-channel `image` resized to resized_width ×
// resized_height (mirrored when `flip`) and normalised, value = (v · value_scale − mean) · inv_std,
// at the top left of the 3 × out_height × out_width canvas `out`; the rest is pad_value.
void resize_flip_normalise(const Image& image, int x0, int y0, int width, int height,
                           int resized_width, int resized_height, bool flip,
                           const ChannelNormalise& normalise, int out_height, int out_width,
                           float* out, ResizePath path = ResizePath::best);

// The same pass without the normalisation: the rounded 8-bit values in RGB order, padding 0, into
// the 3 × out_height × out_width u8 canvas `out` (the detection transform's u8_images mode).
void resize_flip_u8(const Image& image, int x0, int y0, int width, int height, int resized_width,
                    int resized_height, bool flip, int out_height, int out_width, uint8_t* out,
                    ResizePath path = ResizePath::best);

}  // namespace osprey::data
