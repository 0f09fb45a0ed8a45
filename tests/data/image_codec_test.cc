// JPEG and PNG codecs: round trips keep the pixels (exactly for PNG, closely for JPEG), the
// decode options give the channels and sizes they promise (grey, alpha, palette indices, DCT
// scaling, CMYK), and a corpus of bad files written here gives io errors naming file and reason.
#include <gtest/gtest.h>

#include <cstdio>  // jpeglib.h needs FILE and size_t declared first

#include <jpeglib.h>
#include <zlib.h>

#include <cmath>
#include <cstdlib>

#include "data/image/codec.h"
#include "tests/data/data_test_support.h"

namespace osprey::data {
namespace {

using testing::expect_error;

// Smooth gradients with a bright rectangle: JPEG-friendly content with a known structure.
Image test_image(int width, int height, int channels) {
  Image image(width, height, channels);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      const bool inside = x >= width / 4 && x < width / 2 && y >= height / 4 && y < height / 2;
      for (int c = 0; c < channels; ++c) {
        image.at(y, x, c) = inside ? 230 : static_cast<uint8_t>((x * 2 + y + c * 60) % 200);
      }
    }
  }
  return image;
}

double mean_abs_difference(const Image& a, const Image& b) {
  EXPECT_EQ(a.pixels.size(), b.pixels.size());
  double sum = 0;
  for (size_t i = 0; i < a.pixels.size(); ++i) sum += std::abs(a.pixels[i] - b.pixels[i]);
  return sum / static_cast<double>(a.pixels.size());
}

TEST(ImageCodec, JpegRoundTripKeepsThePixelsClose) {
  const Image rgb = test_image(64, 48, 3);
  const std::vector<uint8_t> bytes = encode_jpeg(rgb, 95);
  EXPECT_EQ(sniff_image_format(bytes, "x"), ImageFormat::jpeg);
  DecodeStats stats;
  const Image decoded = decode_image(bytes, {}, "x", &stats);
  EXPECT_EQ(decoded.width, 64);
  EXPECT_EQ(decoded.height, 48);
  EXPECT_EQ(decoded.channels, 3);
  EXPECT_LT(mean_abs_difference(rgb, decoded), 4.0);
  EXPECT_EQ(stats.source_width, 64);
  EXPECT_EQ(stats.scale_denom, 1);
  EXPECT_EQ(stats.warnings, 0);
}

TEST(ImageCodec, GreyJpegIsExpandedToRgbOrKeptGrey) {
  const Image grey = test_image(40, 30, 1);
  const std::vector<uint8_t> bytes = encode_jpeg(grey, 95);
  const Image rgb = decode_jpeg(bytes);
  ASSERT_EQ(rgb.channels, 3);
  for (int y = 0; y < 30; ++y) {
    for (int x = 0; x < 40; ++x) {
      EXPECT_EQ(rgb.at(y, x, 0), rgb.at(y, x, 1));
      EXPECT_EQ(rgb.at(y, x, 0), rgb.at(y, x, 2));
    }
  }
  const Image kept = decode_jpeg(bytes, {.keep_grey = true});
  ASSERT_EQ(kept.channels, 1);
  EXPECT_LT(mean_abs_difference(grey, kept), 2.0);
  for (size_t i = 0; i < kept.pixels.size(); ++i) ASSERT_EQ(kept.pixels[i], rgb.pixels[3 * i]);
}

TEST(ImageCodec, JpegDctScalingPicksTheLargestFactorAboveTheMinimum) {
  const std::vector<uint8_t> bytes = encode_jpeg(test_image(500, 375, 3), 90);
  DecodeStats stats;
  Image half = decode_jpeg(bytes, {.scale_denom = 2}, "x", &stats);
  EXPECT_EQ(half.width, 250);
  EXPECT_EQ(half.height, 188);  // ceil(375 / 2)
  EXPECT_EQ(stats.scale_denom, 2);
  EXPECT_EQ(stats.source_height, 375);
  // 1/8 gives 63×47, below the minimum; 1/4 gives 125×94.
  Image quarter = decode_jpeg(bytes, {.min_width = 100, .min_height = 80}, "x", &stats);
  EXPECT_EQ(quarter.width, 125);
  EXPECT_EQ(quarter.height, 94);
  EXPECT_EQ(stats.scale_denom, 4);
  EXPECT_EQ(decode_jpeg(bytes, {.min_width = 400}).width, 500);
  EXPECT_EQ(decode_jpeg(bytes, {.min_height = 40}).width, 63);
  // The downscaled image is the average of the full one: compare with a 4×4 box filter.
  const Image full = decode_jpeg(bytes);
  double error = 0;
  for (int y = 0; y < 93; ++y) {
    for (int x = 0; x < 125; ++x) {
      int sum = 0;
      for (int dy = 0; dy < 4; ++dy) {
        for (int dx = 0; dx < 4; ++dx) sum += full.at(4 * y + dy, 4 * x + dx, 1);
      }
      error += std::abs(sum / 16.0 - quarter.at(y, x, 1));
    }
  }
  EXPECT_LT(error / (93 * 125), 4.0);
  expect_error([&] { decode_jpeg(bytes, {.scale_denom = 3}, "a.jpg"); }, ErrorKind::value,
               "jpeg 'a.jpg': scale_denom must be 0 (automatic), 1, 2, 4 or 8, got 3");
}

// An Adobe-style CMYK JPEG (inverted ink values) of one flat colour per half.
std::vector<uint8_t> cmyk_jpeg() {
  jpeg_compress_struct cinfo;
  jpeg_error_mgr errors;
  cinfo.err = jpeg_std_error(&errors);
  jpeg_create_compress(&cinfo);
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&cinfo, &buffer, &size);
  cinfo.image_width = 16;
  cinfo.image_height = 16;
  cinfo.input_components = 4;
  cinfo.in_color_space = JCS_CMYK;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, 100, TRUE);
  jpeg_start_compress(&cinfo, TRUE);
  std::vector<uint8_t> row(16 * 4);
  for (int x = 0; x < 16; ++x) {
    // Left: pure cyan ink (C = 255) → RGB (0, 255, 255); right: half black (K = 128) → grey 127.
    const uint8_t ink[4] = {static_cast<uint8_t>(x < 8 ? 255 : 0), 0, 0,
                            static_cast<uint8_t>(x < 8 ? 0 : 128)};
    for (int c = 0; c < 4; ++c) row[4 * x + c] = static_cast<uint8_t>(255 - ink[c]);
  }
  while (cinfo.next_scanline < 16) {
    JSAMPROW r = row.data();
    jpeg_write_scanlines(&cinfo, &r, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  std::vector<uint8_t> bytes(buffer, buffer + size);
  std::free(buffer);
  return bytes;
}

TEST(ImageCodec, CmykJpegBecomesRgb) {
  const Image rgb = decode_jpeg(cmyk_jpeg());
  ASSERT_EQ(rgb.channels, 3);
  EXPECT_NEAR(rgb.at(8, 2, 0), 0, 3);
  EXPECT_NEAR(rgb.at(8, 2, 1), 255, 3);
  EXPECT_NEAR(rgb.at(8, 2, 2), 255, 3);
  for (int c = 0; c < 3; ++c) EXPECT_NEAR(rgb.at(8, 13, c), 127, 3);
}

TEST(ImageCodec, PngRoundTripsAreExact) {
  for (int channels : {1, 2, 3, 4}) {
    const Image image = test_image(33, 17, channels);
    const std::vector<uint8_t> bytes = encode_png(image, 1);
    EXPECT_EQ(sniff_image_format(bytes, "x"), ImageFormat::png);
    const bool alpha = channels % 2 == 0;
    const Image kept = decode_image(bytes, {.keep_grey = true, .keep_alpha = true});
    // Grey + alpha has no 2-channel output: it comes back as RGBA.
    ASSERT_EQ(kept.channels, channels == 2 ? 4 : channels);
    const Image rgb = decode_png(bytes);
    ASSERT_EQ(rgb.channels, 3);
    for (int y = 0; y < 17; ++y) {
      for (int x = 0; x < 33; ++x) {
        for (int c = 0; c < 3; ++c) {
          const int source = channels < 3 ? 0 : c;  // grey is repeated over R, G, B
          ASSERT_EQ(rgb.at(y, x, c), image.at(y, x, source)) << channels;
          if (channels != 2) {
            ASSERT_EQ(kept.at(y, x, std::min(c, kept.channels - 1)),
                      image.at(y, x, std::min(c, channels - 1)));
          }
        }
        if (alpha) {
          ASSERT_EQ(kept.at(y, x, 3), image.at(y, x, channels - 1));
        }
      }
    }
  }
}

TEST(ImageCodec, PalettePngGivesIndicesOrColours) {
  Image mask(20, 10, 1);
  for (int y = 0; y < 10; ++y) {
    for (int x = 0; x < 20; ++x) mask.at(y, x, 0) = x < 5 ? 0 : (x < 15 ? 1 + y : 255);
  }
  const std::vector<PaletteColour> palette = voc_palette();
  EXPECT_EQ(palette[1], (PaletteColour{128, 0, 0}));
  EXPECT_EQ(palette[15], (PaletteColour{192, 128, 128}));
  EXPECT_EQ(palette[255], (PaletteColour{224, 224, 192}));
  const std::vector<uint8_t> bytes = encode_png_palette(mask, palette);
  const Image indices = decode_png(bytes, {.palette_indices = true});
  ASSERT_EQ(indices.channels, 1);
  EXPECT_EQ(indices.pixels, mask.pixels);
  const Image colours = decode_png(bytes);
  ASSERT_EQ(colours.channels, 3);
  for (int c = 0; c < 3; ++c) {
    EXPECT_EQ(colours.at(3, 7, c), palette[4][c]);
    EXPECT_EQ(colours.at(3, 17, c), palette[255][c]);
  }
  // Small palettes are stored with fewer bits per index and unpacked to one byte per index.
  Image small(9, 3, 1);
  for (size_t i = 0; i < small.pixels.size(); ++i) small.pixels[i] = static_cast<uint8_t>(i % 3);
  const std::vector<PaletteColour> three{{0, 0, 0}, {10, 20, 30}, {40, 50, 60}};
  EXPECT_EQ(decode_png(encode_png_palette(small, three), {.palette_indices = true}).pixels,
            small.pixels);
  // An 8-bit grey mask (saved without a palette) is taken as indices too.
  EXPECT_EQ(decode_png(encode_png(mask), {.palette_indices = true}).pixels, mask.pixels);
  expect_error([&] { encode_png_palette(small, std::span(three).first(2)); }, ErrorKind::value,
               "encode_png_palette: index 2 at x=2, y=0 is outside the palette of 2 colours");
}

TEST(ImageCodec, EncodersRejectBadImages) {
  expect_error([] { encode_jpeg(test_image(4, 4, 4)); }, ErrorKind::value,
               "encode_jpeg: images must have 1 (grey) or 3 (RGB) channels, got 4");
  expect_error([] { encode_jpeg(test_image(4, 4, 3), 0); }, ErrorKind::value,
               "encode_jpeg: quality must be in [1, 100], got 0");
  expect_error([] { encode_png(Image()); }, ErrorKind::value,
               "encode_png: images must have 1 to 4 channels, got 0");
}

// Overwrites the big-endian 32-bit value at `offset` of a PNG and fixes the chunk's CRC (the
// chunk starts at `chunk`: length, type, data, CRC).
void patch_png(std::vector<uint8_t>& png, size_t chunk, size_t offset, uint32_t value) {
  for (int i = 0; i < 4; ++i) png[offset + i] = static_cast<uint8_t>(value >> (24 - 8 * i));
  const uint32_t length = (uint32_t{png[chunk]} << 24) | (png[chunk + 1] << 16) |
                          (png[chunk + 2] << 8) | png[chunk + 3];
  const uint32_t crc = static_cast<uint32_t>(crc32(0, png.data() + chunk + 4, length + 4));
  for (int i = 0; i < 4; ++i) {
    png[chunk + 8 + length + i] = static_cast<uint8_t>(crc >> (24 - 8 * i));
  }
}

// A PNG built by hand: IHDR (width, height, bit depth, colour type), an optional PLTE, one IDAT of
// `rows` (each row's bytes, the filter byte 0 added here) and IEND.
std::vector<uint8_t> handmade_png(uint32_t width, uint32_t height, uint8_t depth,
                                  uint8_t colour_type,
                                  const std::vector<std::vector<uint8_t>>& rows,
                                  const std::vector<uint8_t>& palette = {}) {
  std::vector<uint8_t> png{0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  auto put32 = [](std::vector<uint8_t>& out, uint32_t v) {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(v >> (24 - 8 * i)));
  };
  auto chunk = [&](const char* type, const std::vector<uint8_t>& data) {
    put32(png, static_cast<uint32_t>(data.size()));
    std::vector<uint8_t> body(type, type + 4);
    body.insert(body.end(), data.begin(), data.end());
    png.insert(png.end(), body.begin(), body.end());
    put32(png, static_cast<uint32_t>(crc32(0, body.data(), static_cast<uInt>(body.size()))));
  };
  std::vector<uint8_t> ihdr;
  put32(ihdr, width);
  put32(ihdr, height);
  ihdr.insert(ihdr.end(), {depth, colour_type, 0, 0, 0});
  chunk("IHDR", ihdr);
  if (!palette.empty()) chunk("PLTE", palette);
  std::vector<uint8_t> raw;
  for (const auto& row : rows) {
    raw.push_back(0);
    raw.insert(raw.end(), row.begin(), row.end());
  }
  std::vector<uint8_t> packed(compressBound(static_cast<uLong>(raw.size())));
  uLongf size = static_cast<uLongf>(packed.size());
  compress(packed.data(), &size, raw.data(), static_cast<uLong>(raw.size()));
  packed.resize(size);
  chunk("IDAT", packed);
  chunk("IEND", {});
  return png;
}

TEST(ImageCodec, SixteenBitAndLowBitDepthPngs) {
  // 16-bit grey, 2×1: values 0x1234 and 0xABCD keep their high bytes.
  const std::vector<uint8_t> grey16 = handmade_png(2, 1, 16, 0, {{0x12, 0x34, 0xab, 0xcd}});
  const Image grey = decode_png(grey16, {.keep_grey = true});
  EXPECT_EQ(grey.pixels, (std::vector<uint8_t>{0x12, 0xab}));
  // A mask saved as 16-bit grey cannot be read as 8-bit class indices.
  expect_error([&] { decode_png(grey16, {.palette_indices = true}, "m.png"); }, ErrorKind::io,
               "png 'm.png': palette indices need a palette or 8-bit grey image, got grey 16-bit");
  // 1-bit grey expands to 0 / 255.
  const Image bits = decode_png(handmade_png(4, 1, 1, 0, {{0b10100000}}), {.keep_grey = true});
  EXPECT_EQ(bits.pixels, (std::vector<uint8_t>{255, 0, 255, 0}));
  // 2-bit palette indices 0..3, unpacked one per byte.
  const std::vector<uint8_t> palette{0, 0, 0, 10, 20, 30, 40, 50, 60, 70, 80, 90};
  const std::vector<uint8_t> two_bit = handmade_png(4, 1, 2, 3, {{0b00011011}}, palette);
  EXPECT_EQ(decode_png(two_bit, {.palette_indices = true}).pixels,
            (std::vector<uint8_t>{0, 1, 2, 3}));
  EXPECT_EQ(decode_png(two_bit).pixels,
            (std::vector<uint8_t>{0, 0, 0, 10, 20, 30, 40, 50, 60, 70, 80, 90}));
  // A palette image without its palette.
  expect_error([&] { decode_png(handmade_png(4, 1, 2, 3, {{0}}), {}, "nopal.png"); }, ErrorKind::io,
               "png 'nopal.png': IDAT: Missing PLTE before IDAT");
}

class BadImageFiles : public testing::TempDirTest {
 protected:
  std::string write(const std::string& name, const std::vector<uint8_t>& bytes) {
    write_file_bytes(path(name), bytes);
    return path(name);
  }
};

TEST_F(BadImageFiles, EachGivesAnErrorNamingFileAndReason) {
  const std::vector<uint8_t> jpeg = encode_jpeg(test_image(64, 48, 3), 90);
  const std::vector<uint8_t> png = encode_png(test_image(64, 48, 3));

  std::string file = write("empty.jpg", {});
  expect_error([&] { read_image(file); }, ErrorKind::io,
               "image '" + file + "': empty file (0 bytes)");
  expect_error([&] { decode_jpeg({}, {}, "e.jpg"); }, ErrorKind::io,
               "jpeg 'e.jpg': empty file (0 bytes)");
  expect_error([&] { read_image(path("missing.png")); }, ErrorKind::not_found,
               "cannot open '" + path("missing.png") + "': No such file or directory");
  expect_error([&] { read_image(dir_.string()); }, ErrorKind::io,
               "cannot read '" + dir_.string() + "': not a file");

  file = write("gif.jpg", {'G', 'I', 'F', '8', '9', 'a', 1, 0, 1});
  expect_error(
      [&] { read_image(file); }, ErrorKind::io,
      "image '" + file + "': not a JPEG or PNG file (first bytes: 47 49 46 38 39 61 01 00)");
  expect_error([&] { decode_jpeg(read_file_bytes(file), {}, file); }, ErrorKind::io,
               "jpeg '" + file + "': Not a JPEG file: starts with 0x47 0x49");
  expect_error([&] { decode_png(read_file_bytes(file), {}, file); }, ErrorKind::io,
               "png '" + file + "': Not a PNG file");

  // Truncated inside the entropy-coded data: libjpeg's "premature end" warning is an error when
  // strict, and counted otherwise.
  file = write("truncated.jpg", std::vector<uint8_t>(jpeg.begin(), jpeg.begin() + jpeg.size() / 2));
  expect_error([&] { read_image(file); }, ErrorKind::io,
               "jpeg '" + file + "': Premature end of JPEG file");
  DecodeStats stats;
  const Image partial = read_image(file, {.strict = false}, &stats);
  EXPECT_EQ(partial.width, 64);
  EXPECT_GE(stats.warnings, 1);
  // Truncated inside the header: not even the lenient decoder finds an image.
  file = write("header.jpg", std::vector<uint8_t>(jpeg.begin(), jpeg.begin() + 100));
  expect_error([&] { read_image(file); }, ErrorKind::io,
               "jpeg '" + file + "': Premature end of JPEG file");
  expect_error([&] { read_image(file, {.strict = false}); }, ErrorKind::io,
               "jpeg '" + file + "': JPEG datastream contains no image");

  // 60000×60000 declared in the SOF0 marker (FF C0: length, precision, height, width).
  std::vector<uint8_t> huge = jpeg;
  size_t sof = 2;
  while (!(huge[sof] == 0xff && huge[sof + 1] == 0xc0)) ++sof;
  for (size_t offset : {sof + 5, sof + 7}) {
    huge[offset] = 60000 >> 8;
    huge[offset + 1] = 60000 & 0xff;
  }
  file = write("huge.jpg", huge);
  expect_error(
      [&] { read_image(file); }, ErrorKind::io,
      "jpeg '" + file + "': declared size 60000x60000 exceeds the limit of 134217728 pixels");
  expect_error(
      [&] { read_image(write("small_cap.jpg", jpeg), {.max_pixels = 1000}); }, ErrorKind::io,
      "jpeg '" + path("small_cap.jpg") + "': declared size 64x48 exceeds the limit of 1000 pixels");

  // PNG: IHDR is the chunk at byte 8, its data (width, height, depth, colour type, ...) at 16.
  std::vector<uint8_t> huge_png = png;
  patch_png(huge_png, 8, 16, 100000);
  patch_png(huge_png, 8, 20, 100000);
  file = write("huge.png", huge_png);
  expect_error(
      [&] { read_image(file); }, ErrorKind::io,
      "png '" + file + "': declared size 100000x100000 exceeds the limit of 134217728 pixels");

  file = write("truncated.png", std::vector<uint8_t>(png.begin(), png.begin() + png.size() / 2));
  expect_error([&] { read_image(file); }, ErrorKind::io,
               "png '" + file + "': unexpected end of data (truncated)");

  std::vector<uint8_t> bad_crc = png;
  bad_crc[17] ^= 1;  // a width byte, without fixing the CRC
  file = write("crc.png", bad_crc);
  expect_error([&] { read_image(file); }, ErrorKind::io, "png '" + file + "': IHDR: CRC error");

  std::vector<uint8_t> bad_depth = png;
  bad_depth[24] = 3;  // bit depth 3 does not exist
  patch_png(bad_depth, 8, 16, 64);
  file = write("depth.png", bad_depth);
  expect_error(
      [&] { read_image(file); }, ErrorKind::io,
      "png '" + file + "': Invalid IHDR data (Invalid color type/bit depth combination in IHDR)");

  file = write("rgb_mask.png", png);
  expect_error(
      [&] { read_image(file, {.palette_indices = true}); }, ErrorKind::io,
      "png '" + file + "': palette indices need a palette or 8-bit grey image, got RGB 8-bit");
}

// Corrupt bytes anywhere and truncation at any length give an image or an osprey::Error, never a
// crash, an abort or another exception type.
TEST(ImageCodec, CorruptAndTruncatedBuffersNeverAbort) {
  const std::vector<uint8_t> jpeg = encode_jpeg(test_image(64, 48, 3), 90);
  const std::vector<uint8_t> png = encode_png(test_image(64, 48, 3));
  uint32_t state = 12345;
  auto random = [&] {
    state = state * 1664525u + 1013904223u;
    return state >> 8;
  };
  int errors = 0, decoded = 0;
  for (const std::vector<uint8_t>* original : {&jpeg, &png}) {
    for (int trial = 0; trial < 300; ++trial) {
      std::vector<uint8_t> bytes = *original;
      if (trial % 3 == 0) {
        bytes.resize(random() % bytes.size());
      } else {
        for (int k = 0; k < 1 + trial % 4; ++k)
          bytes[random() % bytes.size()] ^= 1 + random() % 255;
      }
      for (bool strict : {true, false}) {
        try {
          DecodeOptions options;
          options.strict = strict;
          decode_image(bytes, options, "fuzz");
          ++decoded;
        } catch (const Error&) {
          ++errors;
        }
      }
    }
  }
  EXPECT_GT(errors, 100);
  EXPECT_GT(decoded, 10);
}

}  // namespace
}  // namespace osprey::data
