// PNG through libpng. libpng reports errors through an error callback that must not return; ours
// keeps the message and longjmps back to the setjmp in the calling function, which cleans up and
// throws. Because longjmp skips destructors, every C++ object of those functions is constructed
// before setjmp.
#include <png.h>

#include <csetjmp>
#include <cstdio>
#include <cstring>

#include "data/image/codec.h"
#include "framework/core/error.h"

namespace osprey::data {

namespace {

struct PngContext {
  const uint8_t* data = nullptr;  // reading: the buffer and the read position
  size_t size = 0;
  size_t pos = 0;
  std::vector<uint8_t>* out = nullptr;  // writing
  char message[512] = {};
  char warning[256] = {};  // the last warning: libpng explains some errors in a warning first
};

// The message, followed by the last warning in parentheses when there was one ("Invalid IHDR data
// (Invalid bit depth in IHDR)").
[[noreturn]] void on_error(png_structp png, png_const_charp message) {
  auto* context = static_cast<PngContext*>(png_get_error_ptr(png));
  std::snprintf(context->message, sizeof(context->message), context->warning[0] ? "%s (%s)" : "%s",
                message, context->warning);
  png_longjmp(png, 1);
}

// Warnings alone concern ancillary chunks (colour profiles, text), never pixel data: kept only
// to explain a following error.
void on_warning(png_structp png, png_const_charp message) {
  auto* context = static_cast<PngContext*>(png_get_error_ptr(png));
  std::snprintf(context->warning, sizeof(context->warning), "%s", message);
}

void read_bytes(png_structp png, png_bytep dest, size_t length) {
  auto* context = static_cast<PngContext*>(png_get_io_ptr(png));
  if (context->size - context->pos < length) png_error(png, "unexpected end of data (truncated)");
  std::memcpy(dest, context->data + context->pos, length);
  context->pos += length;
}

void write_bytes(png_structp png, png_bytep source, size_t length) {
  auto* context = static_cast<PngContext*>(png_get_io_ptr(png));
  context->out->insert(context->out->end(), source, source + length);
}

void flush_nothing(png_structp) {}

const char* colour_type_name(int colour_type) {
  switch (colour_type) {
    case PNG_COLOR_TYPE_GRAY:
      return "grey";
    case PNG_COLOR_TYPE_GRAY_ALPHA:
      return "grey+alpha";
    case PNG_COLOR_TYPE_PALETTE:
      return "palette";
    case PNG_COLOR_TYPE_RGB:
      return "RGB";
    case PNG_COLOR_TYPE_RGB_ALPHA:
      return "RGBA";
    default:
      return "unknown colour type";
  }
}

// Sets up libpng's transformations for the request; returns the channel count they produce, or 0
// when the image cannot give palette indices.
int configure_transforms(png_structp png, png_infop info, const DecodeOptions& options) {
  const int colour_type = png_get_color_type(png, info);
  const int depth = png_get_bit_depth(png, info);
  if (png_get_interlace_type(png, info) != PNG_INTERLACE_NONE) png_set_interlace_handling(png);
  if (options.palette_indices) {
    if (colour_type == PNG_COLOR_TYPE_PALETTE) {
      if (depth < 8) png_set_packing(png);  // one index per byte
      return 1;
    }
    return colour_type == PNG_COLOR_TYPE_GRAY && depth == 8 ? 1 : 0;
  }
  const bool grey = (colour_type & PNG_COLOR_MASK_COLOR) == 0;
  const bool alpha =
      (colour_type & PNG_COLOR_MASK_ALPHA) != 0 || png_get_valid(png, info, PNG_INFO_tRNS) != 0;
  if (colour_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if (grey && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
  if (depth == 16) png_set_strip_16(png);
  const bool keep_alpha = options.keep_alpha && alpha;
  if (keep_alpha) {
    if (png_get_valid(png, info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(png);
  } else {
    png_set_strip_alpha(png);
  }
  // Grey + alpha has no 2-channel output: with alpha kept, grey becomes RGBA.
  const bool stay_grey = grey && options.keep_grey && !keep_alpha;
  if (grey && !stay_grey) png_set_gray_to_rgb(png);
  return (stay_grey ? 1 : 3) + (keep_alpha ? 1 : 0);
}

}  // namespace

Image decode_png(std::span<const uint8_t> bytes, const DecodeOptions& options,
                 const std::string& name, DecodeStats* stats) {
  OSPREY_CHECK_KIND(io, !bytes.empty(), "png '{}': empty file (0 bytes)", name);
  Image image;
  std::vector<png_bytep> rows;
  PngContext context;
  context.data = bytes.data();
  context.size = bytes.size();
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &context, on_error, on_warning);
  OSPREY_CHECK_KIND(internal, png != nullptr, "png '{}': libpng could not start", name);
  png_infop info = png_create_info_struct(png);
  // 0: decoded; 1: libpng error; 2: declared size above the cap; 3: no palette indices.
  volatile int failure = 0;
  volatile int colour_type = 0, depth = 0;
  png_uint_32 width = 0, height = 0;
  if (info == nullptr) {
    failure = 1;
    std::strcpy(context.message, "out of memory");
  } else if (setjmp(png_jmpbuf(png)) == 0) {
    png_set_read_fn(png, &context, read_bytes);
    png_read_info(png, info);
    width = png_get_image_width(png, info);
    height = png_get_image_height(png, info);
    colour_type = png_get_color_type(png, info);
    depth = png_get_bit_depth(png, info);
    if (int64_t{width} * height > options.max_pixels) {
      failure = 2;
    } else if (const int channels = configure_transforms(png, info, options); channels == 0) {
      failure = 3;
    } else {
      png_read_update_info(png, info);
      if (png_get_rowbytes(png, info) != size_t(width) * channels) {
        png_error(png, "unexpected row size after transformations");
      }
      image.width = static_cast<int>(width);
      image.height = static_cast<int>(height);
      image.channels = channels;
      image.pixels.resize(size_t(width) * height * channels);
      rows.resize(height);
      for (png_uint_32 y = 0; y < height; ++y) rows[y] = image.row(static_cast<int>(y));
      png_read_image(png, rows.data());
      png_read_end(png, nullptr);
    }
  } else {
    failure = 1;
  }
  png_destroy_read_struct(&png, info ? &info : nullptr, nullptr);
  if (failure == 1) OSPREY_THROW(io, "png '{}': {}", name, context.message);
  if (failure == 2) {
    OSPREY_THROW(io, "png '{}': declared size {}x{} exceeds the limit of {} pixels", name, width,
                 height, options.max_pixels);
  }
  if (failure == 3) {
    OSPREY_THROW(io, "png '{}': palette indices need a palette or 8-bit grey image, got {} {}-bit",
                 name, colour_type_name(colour_type), static_cast<int>(depth));
  }
  if (stats) *stats = DecodeStats{image.width, image.height, 1, 0};
  return image;
}

namespace {

// Writes `image` (rows of `channels` bytes) as colour type `colour_type`, with `palette` when it
// is a palette image.
std::vector<uint8_t> encode(const Image& image, int colour_type,
                            std::span<const PaletteColour> palette, int compression,
                            const char* what) {
  OSPREY_CHECK(compression >= 0 && compression <= 9, "{}: compression must be in [0, 9], got {}",
               what, compression);
  OSPREY_CHECK(image.width > 0 && image.height > 0 &&
                   image.pixels.size() == size_t(image.width) * image.height * image.channels,
               "{}: image {}x{}x{} holds {} bytes", what, image.width, image.height, image.channels,
               image.pixels.size());
  std::vector<uint8_t> out;
  std::vector<png_color> colours;
  for (const PaletteColour& c : palette) colours.push_back(png_color{c[0], c[1], c[2]});
  std::vector<png_bytep> rows(static_cast<size_t>(image.height));
  for (int y = 0; y < image.height; ++y) rows[y] = const_cast<uint8_t*>(image.row(y));
  PngContext context;
  context.out = &out;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &context, on_error, on_warning);
  OSPREY_CHECK_KIND(internal, png != nullptr, "{}: libpng could not start", what);
  png_infop info = png_create_info_struct(png);
  volatile bool failed = false;
  if (info == nullptr) {
    failed = true;
    std::strcpy(context.message, "out of memory");
  } else if (setjmp(png_jmpbuf(png)) == 0) {
    png_set_write_fn(png, &context, write_bytes, flush_nothing);
    png_set_compression_level(png, compression);
    png_set_IHDR(png, info, static_cast<png_uint_32>(image.width),
                 static_cast<png_uint_32>(image.height), 8, colour_type, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (!colours.empty()) png_set_PLTE(png, info, colours.data(), static_cast<int>(colours.size()));
    png_write_info(png, info);
    png_write_image(png, rows.data());
    png_write_end(png, nullptr);
  } else {
    failed = true;
  }
  png_destroy_write_struct(&png, info ? &info : nullptr);
  if (failed) OSPREY_THROW(io, "{}: {}", what, context.message);
  return out;
}

}  // namespace

std::vector<uint8_t> encode_png(const Image& image, int compression) {
  static constexpr int kColourTypes[] = {PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA,
                                         PNG_COLOR_TYPE_RGB, PNG_COLOR_TYPE_RGB_ALPHA};
  OSPREY_CHECK(image.channels >= 1 && image.channels <= 4,
               "encode_png: images must have 1 to 4 channels, got {}", image.channels);
  return encode(image, kColourTypes[image.channels - 1], {}, compression, "encode_png");
}

std::vector<uint8_t> encode_png_palette(const Image& indices,
                                        std::span<const PaletteColour> palette, int compression) {
  OSPREY_CHECK(indices.channels == 1, "encode_png_palette: index images have 1 channel, got {}",
               indices.channels);
  OSPREY_CHECK(!palette.empty() && palette.size() <= 256,
               "encode_png_palette: a palette has 1 to 256 colours, got {}", palette.size());
  for (size_t i = 0; i < indices.pixels.size(); ++i) {
    OSPREY_CHECK(indices.pixels[i] < palette.size(),
                 "encode_png_palette: index {} at x={}, y={} is outside the palette of {} colours",
                 indices.pixels[i], i % size_t(indices.width), i / size_t(indices.width),
                 palette.size());
  }
  return encode(indices, PNG_COLOR_TYPE_PALETTE, palette, compression, "encode_png_palette");
}

std::vector<PaletteColour> voc_palette() {
  std::vector<PaletteColour> palette(256);
  for (int i = 0; i < 256; ++i) {
    int bits = i;
    PaletteColour colour{0, 0, 0};
    for (int shift = 7; shift >= 0; --shift, bits >>= 3) {
      for (int c = 0; c < 3; ++c) colour[c] |= static_cast<uint8_t>(((bits >> c) & 1) << shift);
    }
    palette[i] = colour;
  }
  return palette;
}

}  // namespace osprey::data
