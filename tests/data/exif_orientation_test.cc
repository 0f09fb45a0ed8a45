// EXIF orientation: JPEGs made here get a hand-built Exif APP1 segment spliced in after SOI; every
// orientation, in both byte orders, must turn the decoded pixels exactly as the stored image turned
// by this test's own flips and transposes, and a 3×2 pattern of flat cells must read as written
// out by hand; malformed blocks (every truncation, bad offsets, types, counts, values) never
// crash, are counted as warnings and are errors only when strict; DCT scaling composes with the
// turn; header reads (read_exif_orientation, read_image_size) agree with the decoder.
#include "data/image/exif.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "data/formats/image_size.h"
#include "data/image/codec.h"
#include "tests/data/data_test_support.h"

namespace osprey::data {
namespace {

using Bytes = std::vector<uint8_t>;
using testing::expect_error;

// Offsets in the payload exif_payload() builds: "Exif\0\0", the TIFF header at 6 (IFD0 offset
// field at 6 + 4), IFD0 at 6 + 8 with two entries (Make, then Orientation) and a zero next-IFD
// offset; 44 bytes.
constexpr size_t kTiff = 6, kIfdOffsetField = kTiff + 4, kIfd = kTiff + 8;
constexpr size_t kOrientationEntry = kIfd + 2 + 12;
constexpr size_t kPayloadSize = kIfd + 2 + 2 * 12 + 4;

// The APP1 payload of an Exif block whose IFD0 holds Make = "Osp" and Orientation = `orientation`,
// in little-endian ("II") or big-endian ("MM") byte order.
Bytes exif_payload(int orientation, bool little_endian) {
  Bytes p = {'E', 'x', 'i', 'f', 0, 0};
  auto put = [&](uint32_t v, int n) {
    for (int i = 0; i < n; ++i) {
      const int shift = 8 * (little_endian ? i : n - 1 - i);
      p.push_back(static_cast<uint8_t>(v >> shift));
    }
  };
  p.push_back(little_endian ? 'I' : 'M');
  p.push_back(little_endian ? 'I' : 'M');
  put(42, 2);
  put(8, 4);  // IFD0 right after the header
  put(2, 2);  // two entries
  put(0x010F, 2), put(2, 2), put(4, 4), p.insert(p.end(), {'O', 's', 'p', 0});  // Make, ASCII
  put(0x0112, 2), put(3, 2), put(1, 4), put(uint32_t(orientation), 2), put(0, 2);
  put(0, 4);  // no next IFD
  EXPECT_EQ(p.size(), kPayloadSize);
  return p;
}

// `jpeg` with an APP1 segment holding `payload` right after SOI.
Bytes splice_app1(const Bytes& jpeg, const Bytes& payload) {
  const size_t length = payload.size() + 2;
  Bytes out = {jpeg.at(0), jpeg.at(1), 0xFF, 0xE1, uint8_t(length >> 8), uint8_t(length & 0xFF)};
  out.reserve(jpeg.size() + 4 + payload.size());
  out.insert(out.end(), payload.begin(), payload.end());
  out.insert(out.end(), jpeg.begin() + 2, jpeg.end());
  return out;
}

// The test's own turns, composed from two mirrors and a transpose.
Image mirror_x(const Image& in) {
  Image out(in.width, in.height, in.channels);
  for (int y = 0; y < in.height; ++y)
    for (int x = 0; x < in.width; ++x)
      for (int c = 0; c < in.channels; ++c) out.at(y, x, c) = in.at(y, in.width - 1 - x, c);
  return out;
}
Image mirror_y(const Image& in) {
  Image out(in.width, in.height, in.channels);
  for (int y = 0; y < in.height; ++y)
    for (int x = 0; x < in.width; ++x)
      for (int c = 0; c < in.channels; ++c) out.at(y, x, c) = in.at(in.height - 1 - y, x, c);
  return out;
}
Image transpose(const Image& in) {
  Image out(in.height, in.width, in.channels);
  for (int y = 0; y < out.height; ++y)
    for (int x = 0; x < out.width; ++x)
      for (int c = 0; c < in.channels; ++c) out.at(y, x, c) = in.at(x, y, c);
  return out;
}
Image displayed(const Image& stored, int orientation) {
  switch (orientation) {
    case 2:
      return mirror_x(stored);
    case 3:
      return mirror_x(mirror_y(stored));  // 180°
    case 4:
      return mirror_y(stored);
    case 5:
      return transpose(stored);
    case 6:
      return mirror_x(transpose(stored));  // the left column becomes the top row
    case 7:
      return mirror_x(mirror_y(transpose(stored)));
    case 8:
      return mirror_y(transpose(stored));  // the right column becomes the top row
    default:
      return stored;
  }
}

void expect_same(const Image& a, const Image& b, const std::string& what) {
  ASSERT_EQ(a.width, b.width) << what;
  ASSERT_EQ(a.height, b.height) << what;
  ASSERT_EQ(a.channels, b.channels) << what;
  EXPECT_TRUE(a.pixels == b.pixels) << what;
}

// 13×6 with every pixel different (odd, non-square: an off-by-one or a swapped axis shows).
Image odd_image(int channels) {
  Image image(13, 6, channels);
  for (int y = 0; y < image.height; ++y)
    for (int x = 0; x < image.width; ++x)
      for (int c = 0; c < channels; ++c) image.at(y, x, c) = uint8_t(x * 17 + y * 40 + c * 70);
  return image;
}

TEST(ExifOrientation, EveryOrientationInBothByteOrdersTurnsThePixels) {
  for (int channels : {3, 1}) {
    const Bytes jpeg = encode_jpeg(odd_image(channels), 90);
    const DecodeOptions keep{.keep_grey = true};
    const Image stored = decode_jpeg(jpeg, keep);
    for (bool little : {true, false}) {
      for (int o = 1; o <= 8; ++o) {
        const std::string what = "orientation " + std::to_string(o) + (little ? " II" : " MM") +
                                 ", channels " + std::to_string(channels);
        const Bytes tagged = splice_app1(jpeg, exif_payload(o, little));
        EXPECT_EQ(read_exif_orientation(tagged), o) << what;
        DecodeStats stats;
        const Image turned =
            decode_jpeg(tagged, {.keep_grey = true, .apply_exif_orientation = true}, "t", &stats);
        expect_same(turned, displayed(stored, o), what);
        EXPECT_EQ(stats.orientation, o) << what;
        EXPECT_EQ(stats.warnings, 0) << what;
        EXPECT_EQ(stats.source_width, 13) << what;  // the stored size
        // Off by default: the stored pixels.
        expect_same(decode_jpeg(tagged, keep), stored, what + " (not applied)");
        expect_same(apply_orientation(stored, o), displayed(stored, o), what + " (on an Image)");
      }
    }
  }
  // Grey + alpha and RGBA images (PNG's) turn the same way.
  for (int channels : {2, 4}) {
    const Image image = odd_image(channels);
    for (int o = 1; o <= 8; ++o) {
      expect_same(apply_orientation(image, o), displayed(image, o),
                  "orientation " + std::to_string(o) + ", channels " + std::to_string(channels));
    }
  }
  // Larger than one 64 × 64 tile in both directions, odd sizes.
  Image big(131, 70, 3);
  for (size_t i = 0; i < big.pixels.size(); ++i) big.pixels[i] = uint8_t(i * 7 + i / 131);
  for (int o = 1; o <= 8; ++o) {
    expect_same(apply_orientation(big, o), displayed(big, o), "131x70, " + std::to_string(o));
  }
  expect_error([] { apply_orientation(Image(2, 2, 5), 6); }, ErrorKind::value,
               "apply_orientation: images have 1 to 4 channels, got 5");
  expect_error([] { apply_orientation(Image(2, 2, 3), 9); }, ErrorKind::value,
               "apply_orientation: orientation must be in 1-8, got 9");
}

// Cells A B C / D E F of 16×16 flat colours (one 4:2:0 MCU each), stored as written.
TEST(ExifOrientation, ThreeByTwoCellsReadAsDisplayed) {
  const uint8_t colours[6][3] = {{220, 30, 30},  {30, 200, 30},  {30, 30, 220},
                                 {230, 230, 40}, {200, 40, 200}, {40, 210, 210}};
  Image cells(48, 32, 3);
  for (int y = 0; y < 32; ++y)
    for (int x = 0; x < 48; ++x)
      for (int c = 0; c < 3; ++c) cells.at(y, x, c) = colours[(y / 16) * 3 + x / 16][c];
  const Bytes jpeg = encode_jpeg(cells, 100);
  // The displayed layout, row by row, of each orientation.
  const char* const expected[9] = {"",         "ABC/DEF",  "CBA/FED",  "FED/CBA", "DEF/ABC",
                                   "AD/BE/CF", "DA/EB/FC", "FC/EB/DA", "CF/BE/AD"};
  for (int o = 1; o <= 8; ++o) {
    const Image image = decode_jpeg(splice_app1(jpeg, exif_payload(o, o % 2 == 0)),
                                    {.apply_exif_orientation = true});
    std::string layout;
    for (int cy = 0; cy < image.height / 16; ++cy) {
      if (cy) layout += '/';
      for (int cx = 0; cx < image.width / 16; ++cx) {
        char best = '?';
        int best_distance = 3 * 256;
        for (int k = 0; k < 6; ++k) {
          int distance = 0;
          for (int c = 0; c < 3; ++c) {
            distance += std::abs(image.at(cy * 16 + 8, cx * 16 + 8, c) - colours[k][c]);
          }
          if (distance < best_distance) best = char('A' + k), best_distance = distance;
        }
        EXPECT_LT(best_distance, 15) << "orientation " << o;
        layout += best;
      }
    }
    EXPECT_EQ(layout, expected[o]) << "orientation " << o;
  }
}

TEST(ExifOrientation, MalformedBlocksAreCountedOrStrictErrors) {
  const Image image = odd_image(3);
  const Bytes jpeg = encode_jpeg(image, 90);
  const Image stored = decode_jpeg(jpeg);
  struct Corruption {
    const char* problem;
    size_t at;
    Bytes bytes;
  };
  // Little-endian payloads with one field overwritten.
  const std::vector<Corruption> corruptions = {
      {"IFD0 runs past the end of the segment", kIfd, {5, 0}},
      {"the IFD0 offset is out of range", kIfdOffsetField, {0xE8, 0x03, 0, 0}},
      {"the IFD0 offset is out of range", kIfdOffsetField, {0xFF, 0xFF, 0xFF, 0xFF}},
      {"the TIFF byte order is neither II nor MM", kTiff, {'I', 'M'}},
      {"the TIFF header lacks the number 42", kTiff + 2, {43, 0}},
      {"Orientation is not of type SHORT", kOrientationEntry + 2, {4, 0}},
      {"Orientation's count is not 1", kOrientationEntry + 4, {2, 0, 0, 0}},
      {"Orientation is not in 1-8", kOrientationEntry + 8, {9, 0}},
      {"Orientation is not in 1-8", kOrientationEntry + 8, {0, 0}},
  };
  for (const Corruption& bad : corruptions) {
    Bytes payload = exif_payload(6, true);
    std::copy(bad.bytes.begin(), bad.bytes.end(), payload.begin() + bad.at);
    const Bytes tagged = splice_app1(jpeg, payload);
    const ExifOrientation found = find_exif_orientation(tagged);
    EXPECT_EQ(found.value, 1) << bad.problem;
    EXPECT_STREQ(found.problem, bad.problem);
    EXPECT_EQ(read_exif_orientation(tagged), 1);
    expect_error(
        [&] { decode_jpeg(tagged, {.apply_exif_orientation = true}, "bad.jpg"); }, ErrorKind::io,
        std::string("jpeg 'bad.jpg': malformed Exif block: ") + bad.problem + " (strict decoding)");
    DecodeStats stats;
    const Image lenient =
        decode_jpeg(tagged, {.strict = false, .apply_exif_orientation = true}, "bad", &stats);
    expect_same(lenient, stored, bad.problem);
    EXPECT_EQ(stats.warnings, 1);
    EXPECT_EQ(stats.orientation, 1);
    // Not asked for: not read, no error.
    expect_same(decode_jpeg(tagged), stored, bad.problem);
  }
  // Every truncation of the segment: shorter than "Exif\0\0" is no Exif block at all; from there
  // to the end of the Orientation entry the block is malformed; after it, well formed.
  const Bytes full = exif_payload(3, false);
  for (size_t n = 0; n <= full.size(); ++n) {
    const Bytes tagged = splice_app1(jpeg, Bytes(full.begin(), full.begin() + n));
    const bool exif = n >= kTiff;
    const bool whole = n >= kOrientationEntry + 12;
    const ExifOrientation found = find_exif_orientation(tagged);
    EXPECT_EQ(found.value, whole ? 3 : 1) << n;
    EXPECT_EQ(found.problem != nullptr, exif && !whole) << n;
    DecodeStats stats;
    const Image decoded =
        decode_jpeg(tagged, {.strict = false, .apply_exif_orientation = true}, "cut", &stats);
    expect_same(decoded, whole ? displayed(stored, 3) : stored, "cut at " + std::to_string(n));
    EXPECT_EQ(stats.warnings, exif && !whole ? 1 : 0) << n;
  }
  // A header read cut inside the segment sees a malformed block; past the end of the bytes the
  // marker walk stops without reading further.
  const Bytes tagged = splice_app1(jpeg, full);
  for (size_t n = 0; n < 4 + 2 + kOrientationEntry + 12; ++n) {
    const ExifOrientation found = find_exif_orientation(std::span<const uint8_t>(tagged.data(), n));
    EXPECT_EQ(found.value, 1) << n;
  }
}

TEST(ExifOrientation, OnlyTheFirstExifApp1Counts) {
  const Bytes jpeg = encode_jpeg(odd_image(3), 90);
  // XMP shares the APP1 marker and comes first here; the Exif block after it is the one read.
  const std::string xmp = "http://ns.adobe.com/xap/1.0/";
  Bytes xmp_payload(xmp.begin(), xmp.end());
  xmp_payload.push_back(0);
  const Bytes with_exif = splice_app1(jpeg, exif_payload(8, true));
  const Bytes both = splice_app1(with_exif, xmp_payload);
  EXPECT_EQ(read_exif_orientation(both), 8);
  DecodeStats stats;
  EXPECT_EQ(decode_jpeg(both, {.apply_exif_orientation = true}, "x", &stats).width, 6);
  EXPECT_EQ(stats.orientation, 8);
  // Two Exif blocks: the first wins.
  const Bytes twice = splice_app1(with_exif, exif_payload(3, false));
  EXPECT_EQ(read_exif_orientation(twice), 3);
  // None at all, and no JPEG at all.
  EXPECT_EQ(read_exif_orientation(jpeg), 1);
  EXPECT_EQ(find_exif_orientation(jpeg).problem, nullptr);
  EXPECT_EQ(read_exif_orientation(Bytes{'h', 'i'}), 1);
  EXPECT_EQ(read_exif_orientation(Bytes{}), 1);
}

TEST(ExifOrientation, DctScalingComposesWithTheTurn) {
  Image image(48, 32, 3);
  for (int y = 0; y < 32; ++y)
    for (int x = 0; x < 48; ++x)
      for (int c = 0; c < 3; ++c) image.at(y, x, c) = uint8_t((x * 5 + y * 3 + c * 50) % 256);
  const Bytes jpeg = encode_jpeg(image, 95);
  for (int o : {3, 6, 8}) {
    const Bytes tagged = splice_app1(jpeg, exif_payload(o, true));
    const Image half = decode_jpeg(jpeg, {.scale_denom = 2});
    DecodeStats stats;
    const Image turned =
        decode_jpeg(tagged, {.scale_denom = 2, .apply_exif_orientation = true}, "s", &stats);
    expect_same(turned, displayed(half, o), "scale 2, orientation " + std::to_string(o));
    EXPECT_EQ(stats.scale_denom, 2);
    EXPECT_EQ(stats.source_width, 48);
    EXPECT_EQ(stats.source_height, 32);
  }
  // The minimum size is the displayed one: 32 wide × 48 high after orientation 6, so 16 × 24
  // is reached at 1/2 (the stored 48 × 32 at 1/2, 24 × 16, would not reach a height of 24).
  DecodeStats stats;
  const Image turned =
      decode_jpeg(splice_app1(jpeg, exif_payload(6, false)),
                  {.min_width = 16, .min_height = 24, .apply_exif_orientation = true}, "m", &stats);
  EXPECT_EQ(stats.scale_denom, 2);
  EXPECT_EQ(turned.width, 16);
  EXPECT_EQ(turned.height, 24);
  expect_same(turned, displayed(decode_jpeg(jpeg, {.scale_denom = 2}), 6), "min size");
  // Without the turn the same minimum needs the full size.
  EXPECT_EQ(decode_jpeg(jpeg, {.min_width = 16, .min_height = 24}).width, 48);
}

class ExifImageSize : public testing::TempDirTest {};

TEST_F(ExifImageSize, HeaderReadsReportTheDisplayedSizeWhenAsked) {
  const Bytes jpeg = encode_jpeg(odd_image(3), 90);
  const std::string six = path("six.jpg"), three = path("three.jpg"), bad = path("bad.jpg");
  write_file_bytes(six, splice_app1(jpeg, exif_payload(6, false)));
  write_file_bytes(three, splice_app1(jpeg, exif_payload(3, true)));
  Bytes payload = exif_payload(6, true);
  payload[kIfd] = 7;  // IFD0 past the end: ignored
  write_file_bytes(bad, splice_app1(jpeg, payload));
  using Size = std::optional<std::pair<int, int>>;
  EXPECT_EQ(read_image_size(six), (Size{{13, 6}}));
  EXPECT_EQ(read_image_size(six, true), (Size{{6, 13}}));
  EXPECT_EQ(read_image_size(three, true), (Size{{13, 6}}));
  EXPECT_EQ(read_image_size(bad, true), (Size{{13, 6}}));
  const Image decoded = read_image(six, {.apply_exif_orientation = true});
  EXPECT_EQ(*read_image_size(six, true), (std::pair<int, int>{decoded.width, decoded.height}));
}

}  // namespace
}  // namespace osprey::data
