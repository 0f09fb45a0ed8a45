// Image sizes from JPEG and PNG headers: hand-built headers (APP segments and fill bytes before
// the frame, progressive SOF2), truncated and foreign files.
#include "data/formats/image_size.h"

#include <gtest/gtest.h>

#include "tests/data/data_test_support.h"
#include "tests/data/formats/formats_test_support.h"

namespace osprey::data {
namespace {

class ImageSize : public testing::TempDirTest {
 protected:
  std::string write(const std::string& name, const std::vector<int>& bytes) {
    std::string s;
    for (int b : bytes) s.push_back(static_cast<char>(b));
    testing::write_text(dir_ / name, s);
    return path(name);
  }
};

TEST_F(ImageSize, ReadsJpegFrameHeader) {
  // SOI, APP0 (length 6), fill byte, SOF2 (height 300, width 500).
  std::string jpeg = write("a.jpg", {0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x06, 1,    2,    3,    4, 0xFF,
                                     0xFF, 0xC2, 0x00, 0x11, 0x08, 0x01, 0x2C, 0x01, 0xF4, 3});
  EXPECT_EQ(read_image_size(jpeg), (std::pair<int, int>(500, 300)));
  // Scan data before any frame, a truncated segment, not an image at all.
  EXPECT_EQ(read_image_size(write("b.jpg", {0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x02})), std::nullopt);
  EXPECT_EQ(read_image_size(write("c.jpg", {0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x11, 0x08})),
            std::nullopt);
  EXPECT_EQ(read_image_size(write("d.jpg", {'h', 'i'})), std::nullopt);
  EXPECT_EQ(read_image_size(path("missing.jpg")), std::nullopt);
}

TEST_F(ImageSize, ReadsPngHeader) {
  std::string png =
      write("a.png", {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n', 0, 0, 0,    13, 'I',
                      'H',  'D', 'R', 0,   0,    0x01, 0x00, 0,    0, 0, 0x40, 8,  2});
  EXPECT_EQ(read_image_size(png), (std::pair<int, int>(256, 64)));
  EXPECT_EQ(read_image_size(write("b.png", {0x89, 'P', 'N', 'G'})), std::nullopt);
}

}  // namespace
}  // namespace osprey::data
