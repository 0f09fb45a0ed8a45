// The numeric matrices of a MATLAB level-5 MAT-file (the format of Flowers-102's imagelabels.mat
// and setid.mat), enough to read label and index vectors without MATLAB or SciPy: little-endian
// files, top-level variables stored plainly or zlib-compressed (miCOMPRESSED, MATLAB's default
// since v7), real numeric classes whatever their storage type (MATLAB stores doubles as uint8 or
// uint16 when the values fit). Cells, structs, chars, sparse and complex arrays are skipped.
// HDF5-based v7.3 files are not level 5 and are an io error.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace osprey::data {

struct MatArray {
  std::vector<int64_t> dims;   // MATLAB's dimensions (1×N for a row vector)
  std::vector<double> values;  // column-major, as MATLAB stores them
};

// Variable name → array. A malformed or truncated file is an io error naming it.
std::map<std::string, MatArray> read_mat_file(const std::string& path);

}  // namespace osprey::data
