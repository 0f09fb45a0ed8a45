// Walks the data elements of a level-5 MAT-file: 8-byte tags (or 4-byte "small element" tags),
// miMATRIX sub-elements (flags, dimensions, name, real part), miCOMPRESSED inflated with zlib.
#include "data/formats/mat_file.h"

#include <zlib.h>

#include <cstring>
#include <fstream>
#include <sstream>

#include "framework/core/error.h"

namespace osprey::data {

namespace {

enum : uint32_t {
  kInt8 = 1,
  kUInt8 = 2,
  kInt16 = 3,
  kUInt16 = 4,
  kInt32 = 5,
  kUInt32 = 6,
  kSingle = 7,
  kDouble = 9,
  kInt64 = 12,
  kUInt64 = 13,
  kMatrix = 14,
  kCompressed = 15,
};
// mxCLASS ids of real numeric arrays: double 6, single 7, int8 8 … uint64 15.
bool numeric_class(uint32_t c) {
  return c >= 6 && c <= 15;
}

struct Reader {
  const std::string& path;
  const uint8_t* data;
  size_t size;
  size_t pos = 0;

  [[noreturn]] void fail(const char* what) const {
    OSPREY_THROW(io, "MAT-file {}: {} at byte {}", path, what, pos);
  }
  uint32_t u32(size_t at) const {
    uint32_t v;
    std::memcpy(&v, data + at, 4);
    return v;
  }
  // Reads one element tag; returns its type and sets [begin, begin + bytes) to its data and pos
  // past it (padded to 8 bytes unless compressed).
  uint32_t element(size_t& begin, size_t& bytes) {
    if (pos + 8 > size) fail("truncated element tag");
    uint32_t type = u32(pos);
    if (type >> 16) {  // small element: 2-byte size, 2-byte type, 4 bytes of data
      bytes = type >> 16;
      type &= 0xFFFF;
      begin = pos + 4;
      if (bytes > 4) fail("bad small element");
      pos += 8;
      return type;
    }
    bytes = u32(pos + 4);
    begin = pos + 8;
    if (bytes > size - begin) fail("element runs past the end");
    pos = begin + (type == kCompressed ? bytes : (bytes + 7) / 8 * 8);
    if (pos > size) pos = size;
    return type;
  }
};

// Element i of an array of `V`s at p (unaligned, little-endian as the file and host are).
template <typename V>
double load(const uint8_t* p, size_t i) {
  V v;
  std::memcpy(&v, p + sizeof(V) * i, sizeof(V));
  return static_cast<double>(v);
}

double value_at(const uint8_t* p, uint32_t type, size_t i) {
  switch (type) {
    case kInt8:
      return load<int8_t>(p, i);
    case kUInt8:
      return load<uint8_t>(p, i);
    case kInt16:
      return load<int16_t>(p, i);
    case kUInt16:
      return load<uint16_t>(p, i);
    case kInt32:
      return load<int32_t>(p, i);
    case kUInt32:
      return load<uint32_t>(p, i);
    case kSingle:
      return load<float>(p, i);
    case kDouble:
      return load<double>(p, i);
    case kInt64:
      return load<int64_t>(p, i);
    case kUInt64:
      return load<uint64_t>(p, i);
  }
  return 0;
}

size_t type_size(uint32_t type) {
  switch (type) {
    case kInt8:
    case kUInt8:
      return 1;
    case kInt16:
    case kUInt16:
      return 2;
    case kInt32:
    case kUInt32:
    case kSingle:
      return 4;
    case kDouble:
    case kInt64:
    case kUInt64:
      return 8;
  }
  return 0;
}

std::vector<uint8_t> inflate_all(const std::string& path, const uint8_t* data, size_t size) {
  z_stream z{};
  OSPREY_CHECK_KIND(internal, inflateInit(&z) == Z_OK, "inflateInit failed");
  std::vector<uint8_t> out(size * 4 + 1024);
  z.next_in = const_cast<uint8_t*>(data);
  z.avail_in = static_cast<uInt>(size);
  int status = Z_OK;
  while (status == Z_OK) {
    if (z.total_out == out.size()) out.resize(out.size() * 2);
    z.next_out = out.data() + z.total_out;
    z.avail_out = static_cast<uInt>(out.size() - z.total_out);
    status = inflate(&z, Z_NO_FLUSH);
    if (status == Z_BUF_ERROR && z.avail_out != 0) break;  // input ended early
    if (status == Z_BUF_ERROR) status = Z_OK;
  }
  out.resize(z.total_out);
  inflateEnd(&z);
  OSPREY_CHECK_KIND(io, status == Z_STREAM_END, "MAT-file {}: corrupt compressed variable", path);
  return out;
}

void read_elements(const std::string& path, const uint8_t* data, size_t size,
                   std::map<std::string, MatArray>& out) {
  Reader r{path, data, size};
  while (r.pos < size) {
    size_t begin, bytes;
    uint32_t type = r.element(begin, bytes);
    if (type == kCompressed) {
      std::vector<uint8_t> inner = inflate_all(path, data + begin, bytes);
      read_elements(path, inner.data(), inner.size(), out);
      continue;
    }
    if (type != kMatrix || bytes == 0) continue;
    Reader m{path, data + begin, bytes};
    size_t b, n;
    if (m.element(b, n) != kUInt32 || n < 8) m.fail("bad array flags");
    uint32_t flags = m.u32(b);
    uint32_t mx_class = flags & 0xFF;
    bool complex = flags & 0x800;
    if (m.element(b, n) != kInt32) m.fail("bad dimensions");
    MatArray array;
    size_t count = 1;
    for (size_t k = 0; k < n / 4; ++k) {
      int32_t d;
      std::memcpy(&d, m.data + b + 4 * k, 4);
      if (d < 0) m.fail("negative dimension");
      array.dims.push_back(d);
      count *= static_cast<size_t>(d);
    }
    uint32_t name_type = m.element(b, n);
    if (name_type != kInt8 && name_type != kUInt8) m.fail("bad array name");
    std::string name(reinterpret_cast<const char*>(m.data + b), n);
    if (!numeric_class(mx_class) || complex) continue;  // cells, structs, chars, sparse
    uint32_t real_type = m.element(b, n);
    size_t width = type_size(real_type);
    if (width == 0 || n != count * width) m.fail("bad real part");
    array.values.resize(count);
    for (size_t i = 0; i < count; ++i) array.values[i] = value_at(m.data + b, real_type, i);
    out[name] = std::move(array);
  }
}

}  // namespace

std::map<std::string, MatArray> read_mat_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  OSPREY_CHECK_KIND(io, file.good(), "cannot open MAT-file {}", path);
  std::ostringstream text;
  text << file.rdbuf();
  const std::string bytes = text.str();
  OSPREY_CHECK_KIND(io, bytes.size() >= 128 && bytes.compare(0, 6, "MATLAB") == 0,
                    "{} is not a MATLAB level-5 MAT-file (no 128-byte MATLAB header)", path);
  OSPREY_CHECK_KIND(io, bytes[126] == 'I' && bytes[127] == 'M',
                    "MAT-file {}: only little-endian files are read", path);
  OSPREY_CHECK_KIND(io, bytes[124] == 0 && bytes[125] == 1,
                    "MAT-file {}: not level 5 (a v7.3 file is HDF5; save with -v7)", path);
  std::map<std::string, MatArray> out;
  read_elements(path, reinterpret_cast<const uint8_t*>(bytes.data()) + 128, bytes.size() - 128,
                out);
  return out;
}

}  // namespace osprey::data
