// Whole-file reading and writing, and the choice of decoder by magic bytes.
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "data/image/codec.h"
#include "framework/core/error.h"

namespace osprey::data {

ImageFormat sniff_image_format(std::span<const uint8_t> bytes, const std::string& name) {
  OSPREY_CHECK_KIND(io, !bytes.empty(), "image '{}': empty file (0 bytes)", name);
  static constexpr uint8_t kPng[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  if (bytes.size() >= 3 && bytes[0] == 0xff && bytes[1] == 0xd8 && bytes[2] == 0xff) {
    return ImageFormat::jpeg;
  }
  if (bytes.size() >= sizeof(kPng) && std::memcmp(bytes.data(), kPng, sizeof(kPng)) == 0) {
    return ImageFormat::png;
  }
  std::string head;
  for (size_t i = 0; i < std::min<size_t>(bytes.size(), 8); ++i) {
    head += fmt::format("{}{:02x}", i ? " " : "", bytes[i]);
  }
  OSPREY_THROW(io, "image '{}': not a JPEG or PNG file (first bytes: {})", name, head);
}

Image decode_image(std::span<const uint8_t> bytes, const DecodeOptions& options,
                   const std::string& name, DecodeStats* stats) {
  return sniff_image_format(bytes, name) == ImageFormat::jpeg
             ? decode_jpeg(bytes, options, name, stats)
             : decode_png(bytes, options, name, stats);
}

std::vector<uint8_t> read_file_bytes(const std::string& path) {
  std::error_code error;
  const auto status = std::filesystem::status(path, error);
  OSPREY_CHECK_KIND(not_found, !error && std::filesystem::exists(status), "cannot open '{}': {}",
                    path, error ? error.message() : "No such file or directory");
  OSPREY_CHECK_KIND(io, std::filesystem::is_regular_file(status), "cannot read '{}': not a file",
                    path);
  std::ifstream file(path, std::ios::binary | std::ios::ate);
  OSPREY_CHECK_KIND(io, file.is_open(), "cannot open '{}': {}", path, std::strerror(errno));
  const std::streamsize size = file.tellg();
  OSPREY_CHECK_KIND(io, size >= 0, "cannot read the size of '{}'", path);
  std::vector<uint8_t> bytes(static_cast<size_t>(size));
  file.seekg(0);
  OSPREY_CHECK_KIND(io, size == 0 || file.read(reinterpret_cast<char*>(bytes.data()), size).good(),
                    "cannot read {} bytes from '{}'", size, path);
  return bytes;
}

void write_file_bytes(const std::string& path, std::span<const uint8_t> bytes) {
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  OSPREY_CHECK_KIND(io, file.is_open(), "cannot create '{}': {}", path, std::strerror(errno));
  file.write(reinterpret_cast<const char*>(bytes.data()),
             static_cast<std::streamsize>(bytes.size()));
  OSPREY_CHECK_KIND(io, file.good(), "cannot write {} bytes to '{}'", bytes.size(), path);
}

Image read_image(const std::string& path, const DecodeOptions& options, DecodeStats* stats) {
  return decode_image(read_file_bytes(path), options, path, stats);
}

}  // namespace osprey::data
