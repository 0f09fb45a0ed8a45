// The .npy reader and writer. The header is a Python dict literal; the parser reads just the three
// keys the format defines ('descr', 'fortran_order', 'shape') and rejects anything it does not
// understand rather than guessing.
#include "framework/io/npy.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace osprey::io {
namespace {

static_assert(std::endian::native == std::endian::little,
              "the .npy code assumes a little-endian host");

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicSize = 6;
constexpr size_t kAlignment = 64;

struct Header {
  DType dtype = DType::f32;
  bool fortran_order = false;
  Shape shape;
};

DType dtype_from_descr(const std::string& path, const std::string& descr) {
  OSPREY_CHECK_KIND(io, descr.size() >= 2, "{}: bad dtype descr '{}'", path, descr);
  char order = descr[0];
  std::string kind = descr.substr(1);
  if (order == '>' && kind != "u1" && kind != "b1" && kind != "i1") {
    OSPREY_THROW(dtype, "{}: big-endian dtype '{}' is not supported (use little-endian)", path,
                 descr);
  }
  OSPREY_CHECK_KIND(io, order == '<' || order == '|' || order == '=' || order == '>',
                    "{}: bad dtype descr '{}'", path, descr);
  if (kind == "f4") return DType::f32;
  if (kind == "f8") return DType::f64;
  if (kind == "f2") return DType::f16;
  if (kind == "i4") return DType::i32;
  if (kind == "i8") return DType::i64;
  if (kind == "u1") return DType::u8;
  if (kind == "b1") return DType::boolean;
  OSPREY_THROW(dtype, "{}: unsupported dtype '{}' (supported: f4 f8 f2 i4 i8 u1 b1)", path, descr);
}

// The value text after `'key':` in the header dict.
size_t find_value(const std::string& path, const std::string& dict, const char* key) {
  std::string quoted = fmt::format("'{}'", key);
  size_t at = dict.find(quoted);
  if (at == std::string::npos) at = dict.find(fmt::format("\"{}\"", key));
  OSPREY_CHECK_KIND(io, at != std::string::npos, "{}: header has no '{}' key: {}", path, key, dict);
  size_t colon = dict.find(':', at + quoted.size());
  OSPREY_CHECK_KIND(io, colon != std::string::npos, "{}: malformed header: {}", path, dict);
  size_t value = dict.find_first_not_of(" \t", colon + 1);
  OSPREY_CHECK_KIND(io, value != std::string::npos, "{}: malformed header: {}", path, dict);
  return value;
}

Header parse_header(const std::string& path, const std::string& dict) {
  Header header;
  size_t d = find_value(path, dict, "descr");
  char quote = dict[d];
  OSPREY_CHECK_KIND(
      io, quote == '\'' || quote == '"',
      "{}: 'descr' is not a simple type string (structured arrays are not supported): {}", path,
      dict);
  size_t end = dict.find(quote, d + 1);
  OSPREY_CHECK_KIND(io, end != std::string::npos, "{}: malformed header: {}", path, dict);
  header.dtype = dtype_from_descr(path, dict.substr(d + 1, end - d - 1));

  size_t f = find_value(path, dict, "fortran_order");
  if (dict.compare(f, 4, "True") == 0) {
    header.fortran_order = true;
  } else {
    OSPREY_CHECK_KIND(io, dict.compare(f, 5, "False") == 0,
                      "{}: 'fortran_order' is neither True nor False: {}", path, dict);
  }

  size_t s = find_value(path, dict, "shape");
  OSPREY_CHECK_KIND(io, dict[s] == '(', "{}: 'shape' is not a tuple: {}", path, dict);
  size_t close = dict.find(')', s);
  OSPREY_CHECK_KIND(io, close != std::string::npos, "{}: malformed header: {}", path, dict);
  std::string tuple = dict.substr(s + 1, close - s - 1);
  size_t pos = 0;
  while (pos < tuple.size()) {
    size_t next = tuple.find(',', pos);
    if (next == std::string::npos) next = tuple.size();
    std::string item = tuple.substr(pos, next - pos);
    pos = next + 1;
    size_t first = item.find_first_not_of(" \t");
    if (first == std::string::npos) continue;     // the empty item after "(3,)"
    size_t last = item.find_last_not_of(" \tL");  // Python 2 wrote longs as "3L"
    item = item.substr(first, last - first + 1);
    int64_t size = -1;
    try {
      size_t used = 0;
      size = std::stoll(item, &used);
      if (used != item.size()) size = -1;
    } catch (const std::exception&) {
      size = -1;
    }
    OSPREY_CHECK_KIND(io, size >= 0, "{}: bad size '{}' in shape: {}", path, item, dict);
    header.shape.push_back(size);
  }
  return header;
}

uint32_t read_le(const unsigned char* p, int bytes) {
  uint32_t value = 0;
  for (int i = bytes - 1; i >= 0; --i) value = (value << 8) | p[i];
  return value;
}

std::string shape_tuple(const Shape& shape) {
  if (shape.empty()) return "()";
  std::string out = "(";
  for (size_t i = 0; i < shape.size(); ++i) out += fmt::format("{}{}", i ? ", " : "", shape[i]);
  return out + (shape.size() == 1 ? ",)" : ")");
}

}  // namespace

std::string npy_descr(DType dtype) {
  switch (dtype) {
    case DType::f32:
      return "<f4";
    case DType::f64:
      return "<f8";
    case DType::f16:
      return "<f2";
    case DType::i32:
      return "<i4";
    case DType::i64:
      return "<i8";
    case DType::u8:
      return "|u1";
    case DType::boolean:
      return "|b1";
    case DType::bf16:
      OSPREY_THROW(dtype, "bf16 has no NumPy dtype; convert to f32 (t.to(DType::f32)) first");
  }
  OSPREY_THROW(dtype, "dtype {} has no NumPy equivalent", dtype_name(dtype));
}

Tensor read_npy(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  OSPREY_CHECK_KIND(not_found, file.good(), "{}: cannot open for reading: {}", path,
                    std::strerror(errno));
  unsigned char preamble[12] = {};
  file.read(reinterpret_cast<char*>(preamble), 8);
  OSPREY_CHECK_KIND(io, file.gcount() == 8 && std::memcmp(preamble, kMagic, kMagicSize) == 0,
                    "{}: bad magic: not a NumPy .npy file", path);
  int major = preamble[6], minor = preamble[7];
  OSPREY_CHECK_KIND(io, (major == 1 || major == 2 || major == 3) && minor == 0,
                    "{}: unsupported .npy format version {}.{} (supported: 1.0, 2.0, 3.0)", path,
                    major, minor);
  int length_bytes = major == 1 ? 2 : 4;
  file.read(reinterpret_cast<char*>(preamble + 8), length_bytes);
  OSPREY_CHECK_KIND(io, file.gcount() == length_bytes, "{}: truncated header", path);
  uint32_t header_length = read_le(preamble + 8, length_bytes);
  std::string dict(header_length, '\0');
  file.read(dict.data(), header_length);
  OSPREY_CHECK_KIND(io, file.gcount() == static_cast<std::streamsize>(header_length),
                    "{}: truncated header (expected {} bytes)", path, header_length);
  Header header = parse_header(path, dict);

  // A Fortran-order file holds the transpose's row-major values: read those, transpose back.
  Shape stored = header.shape;
  if (header.fortran_order) std::reverse(stored.begin(), stored.end());
  Tensor t = Tensor::empty(stored, header.dtype);
  auto nbytes = static_cast<std::streamsize>(t.nbytes());
  if (nbytes > 0) file.read(static_cast<char*>(t.raw_data()), nbytes);
  OSPREY_CHECK_KIND(io, nbytes == 0 || file.gcount() == nbytes,
                    "{}: truncated data: shape {} of {} needs {} bytes, the file has {}", path,
                    shape_str(header.shape), dtype_name(header.dtype), nbytes,
                    nbytes == 0 ? 0 : file.gcount());
  if (header.dtype == DType::boolean) {
    auto* bytes = static_cast<unsigned char*>(t.raw_data());
    for (int64_t i = 0; i < t.numel(); ++i) bytes[i] = bytes[i] != 0;
  }
  if (!header.fortran_order || t.dim() < 2) return t;
  Shape reversed(t.dim());
  for (int64_t d = 0; d < t.dim(); ++d) reversed[d] = t.dim() - 1 - d;
  return t.permute(reversed).contiguous();
}

void write_npy(const std::string& path, const Tensor& tensor) {
  std::string descr = npy_descr(tensor.dtype());
  Tensor t = tensor.detach().cpu().contiguous();
  std::string dict = fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': {}, }}", descr,
                                 shape_tuple(t.shape()));
  // Pad with spaces and a newline so the data starts on a 64-byte boundary.
  auto padded = [&](size_t length_bytes) {
    size_t prefix = kMagicSize + 2 + length_bytes;
    size_t total = prefix + dict.size() + 1;
    size_t padding = (kAlignment - total % kAlignment) % kAlignment;
    return dict + std::string(padding, ' ') + "\n";
  };
  std::string header = padded(2);
  int major = 1;
  if (header.size() > 65535) {
    header = padded(4);
    major = 2;
  }
  std::string preamble(kMagic, kMagicSize);
  preamble += static_cast<char>(major);
  preamble += '\0';
  uint32_t length = static_cast<uint32_t>(header.size());
  for (int i = 0; i < (major == 1 ? 2 : 4); ++i)
    preamble += static_cast<char>((length >> (8 * i)) & 0xFF);

  std::filesystem::path target(path);
  std::filesystem::path temp = target;
  static std::atomic<int> counter{0};
  temp += fmt::format(".tmp{}.{}", static_cast<long>(::getpid()), counter++);
  {
    std::ofstream file(temp, std::ios::binary | std::ios::trunc);
    OSPREY_CHECK_KIND(io, file.good(), "{}: cannot open for writing: {}", temp.string(),
                      std::strerror(errno));
    file.write(preamble.data(), static_cast<std::streamsize>(preamble.size()));
    file.write(header.data(), static_cast<std::streamsize>(header.size()));
    if (t.nbytes() > 0) {
      file.write(static_cast<const char*>(t.raw_data()), static_cast<std::streamsize>(t.nbytes()));
    }
    file.close();
    if (!file) {
      std::error_code ignored;
      std::filesystem::remove(temp, ignored);
      OSPREY_THROW(io, "{}: write failed (disk full?)", path);
    }
  }
  std::error_code ec;
  std::filesystem::rename(temp, target, ec);
  if (ec) {
    std::error_code ignored;
    std::filesystem::remove(temp, ignored);
    OSPREY_THROW(io, "{}: cannot rename the temporary file into place: {}", path, ec.message());
  }
}

}  // namespace osprey::io
