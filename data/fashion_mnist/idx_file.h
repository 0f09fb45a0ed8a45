// The idx format of (Fashion-)MNIST (http://yann.lecun.com/exdb/mnist/): a big-endian magic number
// 0x0000TTNN (two zero bytes, element type TT, number of dimensions NN), NN big-endian 32-bit
// sizes, then the elements in row-major order. Only unsigned bytes (type 0x08) are read, the one
// type the MNIST family uses.
//
// Files may be gzip-compressed or plain: zlib's gzread passes uncompressed files through unchanged,
// so both take the same path. Every error is an io error whose message names the file and the
// reason (bad magic number, truncated header or data, trailing bytes, gzip corruption).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace osprey::data {

struct IdxArray {
  std::vector<int64_t> dims;  // sizes, outermost first
  std::vector<uint8_t> data;  // product(dims) bytes, row-major
};

// Reads an idx file of unsigned bytes that must have `expected_dims` dimensions (1 for labels, 3
// for images).
IdxArray read_idx(const std::string& path, int expected_dims);

}  // namespace osprey::data
