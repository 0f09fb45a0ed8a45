// NumPy .npy files (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html).
//
// Reading accepts format versions 1.0, 2.0 and 3.0, little-endian (or byte-order-free) dtypes
// f4 f8 f2 i4 i8 u1 b1, C or Fortran order (a Fortran-order file is returned as a contiguous
// row-major tensor with the same values), any rank including 0-d and empty arrays.
// Writing produces version 1.0, or 2.0 when the header does not fit 1.0's 16-bit length, in C
// order with the header padded to 64 bytes as NumPy does. bf16 has no NumPy dtype and is refused;
// convert with `t.to(DType::f32)` first. Writes go to a temporary file in the same directory that
// is then renamed over the target, so a reader never sees a half-written file.
//
// Every error is an io (or dtype) error that names the file and what is wrong with it.
#pragma once

#include <string>

#include "framework/core/tensor.h"

namespace osprey::io {

// A contiguous CPU tensor with the file's shape and dtype.
Tensor read_npy(const std::string& path);
// Writes any tensor (any device or layout); the file holds its row-major values.
void write_npy(const std::string& path, const Tensor& tensor);

// The NumPy type string of a dtype ("<f4", "|b1"); throws a dtype error for bf16.
std::string npy_descr(DType dtype);

}  // namespace osprey::io
