// MAT-file reader on hand-built level-5 files (plain and zlib-compressed variables, small-element
// names, uint8/uint16/double storage, skipped char arrays, broken files) and the Flowers-102
// reader built on it.
#include "data/formats/mat_file.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <cstring>

#include "data/formats/classification.h"
#include "tests/data/data_test_support.h"
#include "tests/data/formats/formats_test_support.h"

namespace osprey::data {
namespace {

using testing::error_message;
using testing::write_text;

void put32(std::string& s, uint32_t v) {
  s.append(reinterpret_cast<const char*>(&v), 4);
}
void pad8(std::string& s) {
  s.append((8 - s.size() % 8) % 8, '\0');
}

std::string element(uint32_t type, const std::string& data) {
  std::string s;
  put32(s, type);
  put32(s, static_cast<uint32_t>(data.size()));
  s += data;
  pad8(s);
  return s;
}

// A numeric variable of MATLAB class `mx_class` stored with data type `type` (width bytes each).
std::string matrix(const std::string& name, uint32_t mx_class, std::vector<int32_t> dims,
                   uint32_t type, const std::vector<double>& values) {
  std::string flags, dim_bytes, real;
  put32(flags, mx_class);
  put32(flags, 0);
  for (int32_t d : dims) put32(dim_bytes, static_cast<uint32_t>(d));
  for (double v : values) {
    if (type == 2) real.push_back(static_cast<char>(static_cast<uint8_t>(v)));
    if (type == 4) {
      uint16_t u = static_cast<uint16_t>(v);
      real.append(reinterpret_cast<const char*>(&u), 2);
    }
    if (type == 9) real.append(reinterpret_cast<const char*>(&v), 8);
  }
  std::string body = element(6, flags) + element(5, dim_bytes);
  if (name.size() <= 4) {  // small data element
    put32(body, static_cast<uint32_t>(name.size() << 16 | 1));
    std::string packed = name;
    packed.resize(4, '\0');
    body += packed;
  } else {
    body += element(1, name);
  }
  body += element(type, real);
  return element(14, body);
}

std::string compressed(const std::string& plain) {
  uLongf size = compressBound(plain.size());
  std::string out(size, '\0');
  compress(reinterpret_cast<Bytef*>(out.data()), &size,
           reinterpret_cast<const Bytef*>(plain.data()), plain.size());
  out.resize(size);
  std::string s;
  put32(s, 15);
  put32(s, static_cast<uint32_t>(out.size()));
  return s + out;
}

std::string mat_header() {
  std::string h = "MATLAB 5.0 MAT-file, written by the Osprey tests";
  h.resize(116, ' ');
  h.append(8, '\0');
  h += std::string("\x00\x01", 2);
  h += "IM";
  return h;
}

class MatFile : public testing::TempDirTest {};

TEST_F(MatFile, ReadsPlainAndCompressedVariables) {
  write_text(dir_ / "a.mat", mat_header() + matrix("lab", 6, {1, 3}, 2, {5, 7, 102}) +
                                 compressed(matrix("trnid", 6, {1, 2}, 4, {300, 8189})) +
                                 matrix("text", 4, {1, 2}, 4, {65, 66}) +
                                 matrix("m", 6, {2, 2}, 9, {0.5, -1, 2, 3}));
  auto vars = read_mat_file(path("a.mat"));
  ASSERT_EQ(vars.size(), 3u);  // the char array is skipped
  EXPECT_EQ(vars["lab"].dims, (std::vector<int64_t>{1, 3}));
  EXPECT_EQ(vars["lab"].values, (std::vector<double>{5, 7, 102}));
  EXPECT_EQ(vars["trnid"].values, (std::vector<double>{300, 8189}));
  EXPECT_EQ(vars["m"].values, (std::vector<double>{0.5, -1, 2, 3}));
}

TEST_F(MatFile, BrokenFilesAreErrors) {
  write_text(dir_ / "text.mat", "hello");
  EXPECT_NE(error_message([&] { read_mat_file(path("text.mat")); }).find("not a MATLAB level-5"),
            std::string::npos);
  std::string cut = mat_header() + matrix("labels", 6, {1, 3}, 9, {1, 2, 3});
  cut.resize(cut.size() - 12);
  write_text(dir_ / "cut.mat", cut);
  EXPECT_NE(error_message([&] { read_mat_file(path("cut.mat")); }).find("MAT-file"),
            std::string::npos);
  std::string bad_zip = mat_header() + compressed(matrix("x", 6, {1, 1}, 9, {1}));
  bad_zip[bad_zip.size() - 3] ^= 0x55;
  write_text(dir_ / "zip.mat", bad_zip);
  EXPECT_NE(error_message([&] { read_mat_file(path("zip.mat")); }).find("corrupt compressed"),
            std::string::npos);
}

TEST_F(MatFile, Flowers102Splits) {
  write_text(dir_ / "f/imagelabels.mat",
             mat_header() + compressed(matrix("labels", 6, {1, 4}, 2, {77, 1, 102, 0})));
  write_text(dir_ / "f/setid.mat", mat_header() +
                                       compressed(matrix("trnid", 6, {1, 2}, 4, {3, 1})) +
                                       compressed(matrix("valid", 6, {1, 2}, 4, {2, 4})) +
                                       compressed(matrix("tstid", 6, {1, 1}, 4, {9})));
  for (int i = 1; i <= 4; ++i) write_text(dir_ / fmt::format("f/jpg/image_{:05d}.jpg", i), "");
  ReadReport report;
  DetectionDataset train = read_flowers102(path("f"), "train", {}, report);
  EXPECT_EQ(train.class_names.size(), 102u);
  ASSERT_EQ(train.images.size(), 2u);
  EXPECT_EQ(train.images[0].id, "image_00003");
  EXPECT_EQ(train.images[0].image_label, 101);
  EXPECT_EQ(train.images[1].image_label, 76);
  EXPECT_EQ(train.images[1].image_path, path("f") + "/jpg/image_00001.jpg");
  // val lists image 4, whose label 0 is outside 1..102; tst lists an image with no label.
  EXPECT_NE(error_message([&] {
              read_flowers102(path("f"), "val", {}, report);
            }).find("label 0 outside 1..102"),
            std::string::npos);
  ReadOptions repair{.policy = ReadPolicy::repair};
  EXPECT_EQ(read_flowers102(path("f"), "val", repair, report).images.size(), 1u);
  EXPECT_EQ(read_flowers102(path("f"), "tst", repair, report).images.size(), 0u);
  EXPECT_EQ(report.count(ProblemKind::malformed_record), 2);
}

}  // namespace
}  // namespace osprey::data
