#include "data/fashion_mnist/idx_file.h"

#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "framework/core/error.h"

namespace osprey::data {
namespace {

constexpr uint32_t kUnsignedByteType = 0x08;
// A corrupt header could claim petabytes; no idx file of the MNIST family comes near this.
constexpr int64_t kMaxElements = int64_t{1} << 34;
constexpr unsigned kChunkBytes = 1u << 20;

struct GzCloser {
  void operator()(gzFile_s* file) const { gzclose(file); }
};
using GzFile = std::unique_ptr<gzFile_s, GzCloser>;

// Reads up to `size` bytes, stopping early only at the end of the file. zlib returns what it could
// decompress of a cut or corrupt stream and flags the error separately, so every short read checks
// that flag: a damaged download must not pass for a short file.
size_t read_bytes(gzFile file, const std::string& path, uint8_t* out, size_t size) {
  size_t done = 0;
  while (done < size) {
    unsigned want = static_cast<unsigned>(std::min<size_t>(size - done, kChunkBytes));
    int got = gzread(file, out + done, want);
    if (got > 0) done += static_cast<size_t>(got);
    if (got < 0 || static_cast<unsigned>(got) < want) {
      int code = Z_OK;
      std::string reason = gzerror(file, &code);
      if (code != Z_OK) {
        // zlib prefixes its message with the path; the error names the path once.
        if (reason.rfind(path + ": ", 0) == 0) reason = reason.substr(path.size() + 2);
        OSPREY_THROW(io, "{}: corrupt or truncated gzip data after {} decompressed bytes: {}", path,
                     gztell(file), reason);
      }
      if (got <= 0) break;
    }
  }
  return done;
}

uint32_t big_endian_u32(const uint8_t* bytes) {
  return (uint32_t{bytes[0]} << 24) | (uint32_t{bytes[1]} << 16) | (uint32_t{bytes[2]} << 8) |
         uint32_t{bytes[3]};
}

}  // namespace

IdxArray read_idx(const std::string& path, int expected_dims) {
  errno = 0;
  GzFile file(gzopen(path.c_str(), "rb"));
  if (!file) {
    OSPREY_THROW(io, "{}: cannot open: {}", path,
                 errno != 0 ? std::strerror(errno) : "out of memory");
  }
  gzbuffer(file.get(), 256 * 1024);

  uint8_t magic_bytes[4];
  size_t got = read_bytes(file.get(), path, magic_bytes, 4);
  OSPREY_CHECK_KIND(io, got == 4, "{}: truncated header: {} of 4 magic-number bytes", path, got);
  uint32_t magic = big_endian_u32(magic_bytes);
  uint32_t expected_magic = (kUnsignedByteType << 8) | static_cast<uint32_t>(expected_dims);
  OSPREY_CHECK_KIND(io, magic == expected_magic,
                    "{}: bad magic number 0x{:08x}, expected 0x{:08x} (idx file of unsigned bytes "
                    "with {} dimensions)",
                    path, magic, expected_magic, expected_dims);

  IdxArray array;
  std::vector<uint8_t> size_bytes(4 * static_cast<size_t>(expected_dims));
  got = read_bytes(file.get(), path, size_bytes.data(), size_bytes.size());
  OSPREY_CHECK_KIND(io, got == size_bytes.size(), "{}: truncated header: {} of {} size bytes", path,
                    got, size_bytes.size());
  int64_t elements = 1;
  for (int d = 0; d < expected_dims; ++d) {
    int64_t size = big_endian_u32(&size_bytes[4 * static_cast<size_t>(d)]);
    array.dims.push_back(size);
    elements *= size;
    OSPREY_CHECK_KIND(io, elements <= kMaxElements,
                      "{}: implausible sizes in the header (more than 2^34 elements)", path);
  }

  // Grown chunk by chunk rather than sized up front, so a header that overstates the sizes of a
  // short file does not allocate what the header claims.
  size_t need = static_cast<size_t>(elements);
  size_t done = 0;
  while (done < need) {
    size_t step = std::min<size_t>(need - done, 16 * size_t{kChunkBytes});
    array.data.resize(done + step);
    size_t read = read_bytes(file.get(), path, array.data.data() + done, step);
    done += read;
    if (read < step) break;
  }
  OSPREY_CHECK_KIND(io, done == need, "{}: truncated data: {} of {} bytes", path, done, need);
  uint8_t extra = 0;
  OSPREY_CHECK_KIND(io, read_bytes(file.get(), path, &extra, 1) == 0,
                    "{}: unexpected bytes after the {} data bytes the header describes", path,
                    need);
  return array;
}

}  // namespace osprey::data
