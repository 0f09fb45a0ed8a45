// .npy reading and writing: round trips of every dtype and edge shapes, NumPy-written files
// (Fortran order, version 2.0), and the error messages.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "framework/io/npy.h"

namespace osprey {
namespace {

namespace fs = std::filesystem;

class Npy : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("osprey_npy_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
            "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  void write_bytes(const std::string& name, const std::string& bytes) const {
    std::ofstream(path(name), std::ios::binary) << bytes;
  }
  fs::path dir_;
};

template <typename T>
Tensor iota_tensor(const Shape& shape) {
  std::vector<T> values(static_cast<size_t>(shape_numel(shape)));
  for (size_t i = 0; i < values.size(); ++i) {
    if constexpr (std::is_same_v<T, bool>) {
      values[i] = i % 3 == 0;
    } else {
      values[i] = static_cast<T>(static_cast<float>(i) * 0.5f - 3.0f);
    }
  }
  return Tensor::from_vector<T>(values, shape);
}

template <typename T>
void expect_round_trip(const std::string& file, const Shape& shape) {
  Tensor t = iota_tensor<T>(shape);
  io::write_npy(file, t);
  Tensor back = io::read_npy(file);
  EXPECT_EQ(back.dtype(), t.dtype());
  EXPECT_EQ(back.shape(), shape);
  auto a = t.to_vector<double>(), b = back.to_vector<double>();
  EXPECT_EQ(a, b) << dtype_name(t.dtype()) << " " << shape_str(shape);
}

TEST_F(Npy, RoundTripEveryDtypeAndShape) {
  for (const Shape& shape :
       {Shape{2, 3}, Shape{}, Shape{0}, Shape{4, 0, 2}, Shape{5}, Shape{2, 1, 3, 2}}) {
    expect_round_trip<float>(path("a.npy"), shape);
    expect_round_trip<double>(path("a.npy"), shape);
    expect_round_trip<Half>(path("a.npy"), shape);
    expect_round_trip<int32_t>(path("a.npy"), shape);
    expect_round_trip<int64_t>(path("a.npy"), shape);
    expect_round_trip<uint8_t>(path("a.npy"), shape);
    expect_round_trip<bool>(path("a.npy"), shape);
  }
}

TEST_F(Npy, WritesNonContiguousValuesInRowMajorOrder) {
  Tensor t = iota_tensor<float>({3, 4}).transpose(0, 1);
  io::write_npy(path("t.npy"), t);
  EXPECT_EQ(io::read_npy(path("t.npy")).to_vector<float>(), t.to_vector<float>());
}

TEST_F(Npy, HeaderIsAlignedVersionOne) {
  io::write_npy(path("h.npy"), iota_tensor<float>({2, 2}));
  std::ifstream file(path("h.npy"), std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  EXPECT_EQ(bytes.substr(0, 6), "\x93NUMPY");
  EXPECT_EQ(bytes[6], 1);
  size_t header =
      static_cast<unsigned char>(bytes[8]) | (static_cast<unsigned char>(bytes[9]) << 8);
  EXPECT_EQ((10 + header) % 64, 0u);
  EXPECT_EQ(bytes[10 + header - 1], '\n');
  EXPECT_EQ(bytes.size(), 10 + header + 16);
  EXPECT_NE(bytes.find("'shape': (2, 2)"), std::string::npos);
}

TEST_F(Npy, ManyDimsNeedVersionTwo) {
  Shape shape(30000, 1);  // a header longer than 65535 bytes
  shape[0] = 2;
  Tensor t = iota_tensor<float>(shape);
  io::write_npy(path("v2.npy"), t);
  std::ifstream file(path("v2.npy"), std::ios::binary);
  char preamble[8];
  file.read(preamble, 8);
  EXPECT_EQ(preamble[6], 2);
  Tensor back = io::read_npy(path("v2.npy"));
  EXPECT_EQ(back.shape(), shape);
  EXPECT_EQ(back.to_vector<float>(), t.to_vector<float>());
}

TEST_F(Npy, ReadsFortranOrder) {
  // A 2x3 array [[0,1,2],[3,4,5]] stored column-major: 0 3 1 4 2 5.
  std::string dict = "{'descr': '<i4', 'fortran_order': True, 'shape': (2, 3), }";
  dict += std::string(64 - (10 + dict.size() + 1) % 64, ' ') + "\n";
  std::string bytes = std::string("\x93NUMPY\x01\x00", 8);
  bytes += static_cast<char>(dict.size() & 0xFF);
  bytes += static_cast<char>(dict.size() >> 8);
  bytes += dict;
  for (int32_t v : {0, 3, 1, 4, 2, 5}) bytes.append(reinterpret_cast<const char*>(&v), 4);
  write_bytes("f.npy", bytes);
  Tensor t = io::read_npy(path("f.npy"));
  EXPECT_EQ(t.shape(), (Shape{2, 3}));
  EXPECT_EQ(t.to_vector<int32_t>(), (std::vector<int32_t>{0, 1, 2, 3, 4, 5}));
}

void expect_error(const std::function<void()>& fn, const std::string& a, const std::string& b) {
  try {
    fn();
    ADD_FAILURE() << "no error; expected one mentioning '" << a << "' and '" << b << "'";
  } catch (const Error& e) {
    std::string what = e.what();
    EXPECT_NE(what.find(a), std::string::npos) << what;
    EXPECT_NE(what.find(b), std::string::npos) << what;
  }
}

TEST_F(Npy, ErrorsNameFileAndProblem) {
  write_bytes("bad.npy", "PK\x03\x04 not numpy at all");
  expect_error([&] { io::read_npy(path("bad.npy")); }, "bad.npy", "bad magic");

  io::write_npy(path("full.npy"), iota_tensor<double>({10}));
  std::string bytes;
  {
    std::ifstream file(path("full.npy"), std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
  }
  write_bytes("cut.npy", bytes.substr(0, bytes.size() - 5));
  expect_error([&] { io::read_npy(path("cut.npy")); }, "cut.npy", "truncated data");

  std::string complex = bytes;
  complex.replace(complex.find("<f8"), 3, "<c8");
  write_bytes("complex.npy", complex);
  expect_error([&] { io::read_npy(path("complex.npy")); }, "complex.npy",
               "unsupported dtype '<c8'");

  std::string big = bytes;
  big.replace(big.find("<f8"), 3, ">f8");
  write_bytes("big.npy", big);
  expect_error([&] { io::read_npy(path("big.npy")); }, "big.npy", "big-endian");

  expect_error([&] { io::read_npy(path("missing.npy")); }, "missing.npy", "cannot open");
  Tensor bf = Tensor::from_vector<BFloat16>({BFloat16(1.0f)}, {1});
  expect_error([&] { io::write_npy(path("bf.npy"), bf); }, "bf16", "no NumPy dtype");
  EXPECT_FALSE(fs::exists(path("bf.npy")));
}

TEST_F(Npy, WriteLeavesNoTemporaryFiles) {
  io::write_npy(path("x.npy"), iota_tensor<float>({3}));
  io::write_npy(path("x.npy"), iota_tensor<float>({4}));  // replaces
  EXPECT_EQ(io::read_npy(path("x.npy")).numel(), 4);
  int files = 0;
  for (const auto& entry : fs::directory_iterator(dir_)) files += entry.is_regular_file();
  EXPECT_EQ(files, 1);
}

// A Python interpreter with NumPy: the one on PATH, or the system one (pyenv shims may lack it).
std::string python_with_numpy() {
  for (const char* python : {"python3", "/usr/bin/python3"}) {
    std::string probe = std::string(python) + " -c 'import numpy' >/dev/null 2>&1";
    if (std::system(probe.c_str()) == 0) return python;
  }
  return "";
}

TEST_F(Npy, InteroperatesWithNumpy) {
  std::string python = python_with_numpy();
  if (python.empty()) GTEST_SKIP() << "python3 with numpy is not available";
  std::string script = path("make.py");
  std::ofstream(script) << "import numpy as np, sys\n"
                           "d = sys.argv[1]\n"
                           "np.save(d + '/f.npy', np.arange(6, dtype='<f4').reshape(2, 3))\n"
                           "np.save(d + '/fortran.npy', np.asfortranarray("
                           "np.arange(24, dtype='<f8').reshape(2, 3, 4)))\n"
                           "np.save(d + '/b.npy', np.array([True, False, True]))\n"
                           "np.save(d + '/h.npy', np.array([1.5, -2.25], dtype='<f2'))\n"
                           "np.save(d + '/s.npy', np.int64(-7))\n"
                           "np.save(d + '/e.npy', np.zeros((0, 3), dtype='<i4'))\n"
                           "np.lib.format.write_array(open(d + '/v2.npy', 'wb'), "
                           "np.arange(3, dtype='u1'), version=(2, 0))\n";
  ASSERT_EQ(std::system((python + " " + script + " " + dir_.string()).c_str()), 0);
  EXPECT_EQ(io::read_npy(path("f.npy")).to_vector<float>(), (std::vector<float>{0, 1, 2, 3, 4, 5}));
  Tensor fortran = io::read_npy(path("fortran.npy"));
  EXPECT_EQ(fortran.shape(), (Shape{2, 3, 4}));
  EXPECT_EQ(fortran.at<double>({1, 2, 3}), 23.0);
  EXPECT_EQ(fortran.at<double>({0, 1, 2}), 6.0);
  EXPECT_EQ(io::read_npy(path("b.npy")).to_vector<bool>(), (std::vector<bool>{true, false, true}));
  EXPECT_EQ(io::read_npy(path("h.npy")).to_vector<double>(), (std::vector<double>{1.5, -2.25}));
  Tensor s = io::read_npy(path("s.npy"));
  EXPECT_EQ(s.dim(), 0);
  EXPECT_EQ(s.item<int64_t>(), -7);
  EXPECT_EQ(io::read_npy(path("e.npy")).shape(), (Shape{0, 3}));
  EXPECT_EQ(io::read_npy(path("v2.npy")).to_vector<uint8_t>(), (std::vector<uint8_t>{0, 1, 2}));

  // And NumPy reads what Osprey writes.
  io::write_npy(path("out.npy"), Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, {3, 2}));
  io::write_npy(path("out0.npy"), Tensor::scalar<double>(2.5));
  std::string check = python + " -c \"import numpy as np; a = np.load('" + path("out.npy") +
                      "'); assert a.shape == (3, 2) and a.dtype == np.float32 and a[2, 1] == 6; "
                      "b = np.load('" +
                      path("out0.npy") + "'); assert b.shape == () and b == 2.5\"";
  EXPECT_EQ(std::system(check.c_str()), 0);
}

}  // namespace
}  // namespace osprey
