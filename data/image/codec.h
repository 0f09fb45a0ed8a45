// Decoding and encoding of JPEG (libjpeg-turbo's libjpeg API) and PNG (libpng), from and to memory
// buffers and files. Every decoder produces, and every encoder consumes, an 8-bit HWC `Image`
// (data/image/image.h).
//
// Errors: a file that cannot be decoded — empty, truncated, wrong magic, corrupt data, a declared
// size above `DecodeOptions::max_pixels`, a bit depth or colour type that the request cannot
// give — throws an osprey::Error of kind `io` whose message names the file (or the buffer's name)
// and the reason, e.g. "jpeg 'a.jpg': Premature end of JPEG file". The libraries' own errors are
// caught through setjmp/longjmp error managers: nothing aborts or prints.
//
// JPEG warnings: libjpeg reports data it could recover from — a truncated scan ("Premature end of
// JPEG file"), a corrupt Huffman code, extraneous bytes before a marker — as warnings and goes on
// decoding, filling what is missing with grey. With `strict` (the default) a warning is an error,
// because a half-grey training image is worse than a missing one; with strict = false the image is
// returned as libjpeg decoded it and `DecodeStats::warnings` counts the warnings.
// A malformed Exif block (read only with apply_exif_orientation) counts as one more warning: an
// error when strict, otherwise ignored (the pixels stay as stored) and counted.
// PNG warnings (ancillary chunks: an sRGB profile, a bad tEXt) never concern pixels and are
// ignored; anything wrong with pixel data (CRC of a critical chunk, truncated IDAT) is an error.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "data/image/image.h"

namespace osprey::data {

struct DecodeOptions {
  // Grey JPEGs and grey PNGs decode to 1 channel instead of being expanded to RGB. Colour images
  // stay RGB either way.
  bool keep_grey = false;
  // PNGs with an alpha channel (or a tRNS transparency chunk) decode to RGBA; otherwise alpha is
  // dropped. JPEGs have no alpha.
  bool keep_alpha = false;
  // PNG: decode to 1 channel of raw palette indices instead of colours, the way segmentation
  // masks are stored (VOC: class index per pixel, 255 = void). Palette images of any bit depth
  // and 8-bit grey images (masks saved without a palette) are accepted; anything else is an error.
  bool palette_indices = false;
  // JPEG DCT-domain downscaling, which skips most of the inverse DCT and upsampling work: the
  // output is ceil(width / d) × ceil(height / d) for d = scale_denom in {1, 2, 4, 8}. With
  // scale_denom = 0 the largest d in {8, 4, 2} whose output is still at least min_width ×
  // min_height is chosen (1 when neither minimum is set or none fits). PNG ignores these.
  int scale_denom = 0;
  int min_width = 0;
  int min_height = 0;
  // Declared width × height above this is an error raised before any pixel memory is allocated:
  // a corrupt or hostile header must not make the loader allocate gigabytes. 2^27 pixels is 384
  // MiB of RGB, far above any detection dataset's images.
  int64_t max_pixels = int64_t{1} << 27;
  // JPEG: libjpeg warnings are errors (see above).
  bool strict = true;
  // JPEG: turn the pixels as the Exif Orientation tag says (data/image/exif.h), so width and
  // height swap for orientations 5-8; min_width / min_height then apply to the turned image.
  // Off by default, as in PIL's Image.open and torchvision's decode_jpeg: the boxes and masks of
  // detection datasets (VOC, COCO, OpenImages) are given on the stored pixel grid, and turning
  // the pixels alone would move every object away from its box. PNGs are never turned.
  bool apply_exif_orientation = false;
};

// What a decode found besides the pixels.
struct DecodeStats {
  int source_width = 0;  // the size declared in the file (before DCT scaling)
  int source_height = 0;
  int scale_denom = 1;  // the DCT scaling used (JPEG), 1 for PNG
  int warnings = 0;     // libjpeg warnings seen (only non-zero with strict = false)
  // The Exif orientation applied (1–8); 1 without apply_exif_orientation, without an Exif block
  // or when the block is malformed (then counted in warnings). source_width / source_height stay
  // the stored size.
  int orientation = 1;
};

enum class ImageFormat { jpeg, png };

// The format from the first bytes (JPEG: FF D8 FF, PNG: the 8-byte signature); throws an io error
// naming `name` for empty buffers and anything else (quoting the first bytes).
ImageFormat sniff_image_format(std::span<const uint8_t> bytes, const std::string& name);

// `name` only appears in error messages (a path, or "<memory>").
Image decode_jpeg(std::span<const uint8_t> bytes, const DecodeOptions& options = {},
                  const std::string& name = "<memory>", DecodeStats* stats = nullptr);
Image decode_png(std::span<const uint8_t> bytes, const DecodeOptions& options = {},
                 const std::string& name = "<memory>", DecodeStats* stats = nullptr);
// Either format, by its magic bytes.
Image decode_image(std::span<const uint8_t> bytes, const DecodeOptions& options = {},
                   const std::string& name = "<memory>", DecodeStats* stats = nullptr);

// Whole files; errors name the path.
std::vector<uint8_t> read_file_bytes(const std::string& path);
void write_file_bytes(const std::string& path, std::span<const uint8_t> bytes);
Image read_image(const std::string& path, const DecodeOptions& options = {},
                 DecodeStats* stats = nullptr);

// JPEG of a 1-channel (grey) or 3-channel (RGB) image at `quality` in [1, 100] (4:2:0 chroma
// subsampling for RGB, libjpeg's default).
std::vector<uint8_t> encode_jpeg(const Image& image, int quality = 90);
// PNG of a grey (1), grey + alpha (2), RGB (3) or RGBA (4) image; `compression` is zlib's level
// 0-9.
std::vector<uint8_t> encode_png(const Image& image, int compression = 6);

using PaletteColour = std::array<uint8_t, 3>;
// An 8-bit palette PNG of the 1-channel index image `indices`; every index must be below
// palette.size() (at most 256 colours).
std::vector<uint8_t> encode_png_palette(const Image& indices,
                                        std::span<const PaletteColour> palette,
                                        int compression = 6);
// PASCAL VOC's 256-colour map (class c's colour from the bits of c spread over the high bits of
// R, G and B; index 255, void, is (224, 224, 192)).
std::vector<PaletteColour> voc_palette();

}  // namespace osprey::data
