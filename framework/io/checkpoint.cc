#include "framework/io/checkpoint.h"

#include <zlib.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <filesystem>
#include <limits>
#include <regex>

#include "framework/core/error.h"
#include "framework/io/atomic_file.h"

namespace osprey::io {
namespace {

static_assert(std::endian::native == std::endian::little,
              "the checkpoint header is little-endian; a big-endian host would need byte swaps");

constexpr size_t kMagicSize = 8;
constexpr char kLatestFile[] = "latest";

uint32_t crc32_of(std::string_view bytes) {
  return static_cast<uint32_t>(
      ::crc32_z(0L, reinterpret_cast<const Bytef*>(bytes.data()), bytes.size()));
}

template <typename T>
void put(std::string& out, T value) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));
  out.append(bytes, sizeof(T));
}

template <typename T>
T get(const std::string& bytes, size_t at) {
  T value;
  std::memcpy(&value, bytes.data() + at, sizeof(T));
  return value;
}

// The iteration in "checkpoint_iter_<N>.ckpt", or -1 for any other name (temporary files too).
int64_t iteration_of(const std::string& file_name) {
  static const std::regex pattern(R"(checkpoint_iter_(\d+)\.ckpt)");
  std::smatch match;
  if (!std::regex_match(file_name, match, pattern)) return -1;
  try {
    return std::stoll(match[1].str());
  } catch (const std::exception&) {
    return -1;
  }
}

}  // namespace

void write_checkpoint(const std::string& path, const proto::Checkpoint& checkpoint) {
  std::string payload;
  OSPREY_CHECK_KIND(io, checkpoint.SerializeToString(&payload),
                    "{}: cannot serialize the checkpoint ({} bytes; protobuf's limit is 2 GiB)",
                    path, checkpoint.ByteSizeLong());
  std::string header(kCheckpointMagic, kMagicSize);
  put<uint32_t>(header, kCheckpointContainerVersion);
  put<uint32_t>(header, crc32_of(payload));
  put<uint64_t>(header, payload.size());
  write_file_atomically(path, {header, payload});
}

proto::Checkpoint read_checkpoint(const std::string& path) {
  std::string bytes = read_file(path);
  const size_t magic_bytes = std::min(bytes.size(), kMagicSize);
  OSPREY_CHECK_KIND(
      io, bytes.size() > 0 && std::memcmp(bytes.data(), kCheckpointMagic, magic_bytes) == 0,
      "{}: not an Osprey checkpoint (the file does not start with \"OSPREYCK\")", path);
  OSPREY_CHECK_KIND(io, bytes.size() >= kCheckpointHeaderSize,
                    "{}: truncated checkpoint: {} bytes, shorter than the {}-byte header", path,
                    bytes.size(), kCheckpointHeaderSize);
  const auto version = get<uint32_t>(bytes, 8);
  OSPREY_CHECK_KIND(io, version == kCheckpointContainerVersion,
                    "{}: checkpoint container version {} is not supported (this build reads {})",
                    path, version, kCheckpointContainerVersion);
  const auto stored_crc = get<uint32_t>(bytes, 12);
  const auto length = get<uint64_t>(bytes, 16);
  const uint64_t present = bytes.size() - kCheckpointHeaderSize;
  OSPREY_CHECK_KIND(io, present >= length,
                    "{}: truncated checkpoint: the header announces {} payload bytes, the file "
                    "has {}",
                    path, length, present);
  OSPREY_CHECK_KIND(io, present == length,
                    "{}: corrupt checkpoint: {} bytes after the {}-byte payload", path,
                    present - length, length);
  std::string_view payload(bytes.data() + kCheckpointHeaderSize, length);
  const uint32_t crc = crc32_of(payload);
  OSPREY_CHECK_KIND(io, crc == stored_crc,
                    "{}: corrupt checkpoint: CRC-32 of the payload is {:08x}, the header says "
                    "{:08x}",
                    path, crc, stored_crc);
  OSPREY_CHECK_KIND(io, length <= static_cast<uint64_t>(std::numeric_limits<int>::max()),
                    "{}: the payload of {} bytes exceeds protobuf's 2 GiB message limit", path,
                    length);
  proto::Checkpoint checkpoint;
  OSPREY_CHECK_KIND(io, checkpoint.ParseFromArray(payload.data(), static_cast<int>(length)),
                    "{}: the payload is not a valid Checkpoint message", path);
  OSPREY_CHECK_KIND(io, checkpoint.format_version() <= kCheckpointFormatVersion,
                    "{}: checkpoint format version {} is newer than this build reads ({})", path,
                    checkpoint.format_version(), kCheckpointFormatVersion);
  return checkpoint;
}

std::string checkpoint_file_name(int64_t iteration) {
  OSPREY_CHECK(iteration >= 0, "checkpoint_file_name: negative iteration {}", iteration);
  return fmt::format("checkpoint_iter_{}.ckpt", iteration);
}

std::vector<std::string> list_run_checkpoints(const std::string& run_dir) {
  namespace fs = std::filesystem;
  std::vector<std::pair<int64_t, std::string>> found;
  std::error_code ec;
  if (!fs::is_directory(run_dir, ec)) return {};
  for (const auto& entry : fs::directory_iterator(run_dir, ec)) {
    if (!entry.is_regular_file(ec)) continue;
    int64_t iteration = iteration_of(entry.path().filename().string());
    if (iteration >= 0) found.emplace_back(iteration, entry.path().string());
  }
  OSPREY_CHECK_KIND(io, !ec, "{}: cannot list the directory: {}", run_dir, ec.message());
  std::sort(found.begin(), found.end());
  std::vector<std::string> out;
  for (auto& [iteration, path] : found) out.push_back(std::move(path));
  return out;
}

std::string save_run_checkpoint(const std::string& run_dir, const proto::Checkpoint& checkpoint,
                                int keep_last) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(run_dir, ec);
  OSPREY_CHECK_KIND(io, !ec, "{}: cannot create the run directory: {}", run_dir, ec.message());
  const std::string name = checkpoint_file_name(checkpoint.iteration());
  const std::string path = (fs::path(run_dir) / name).string();
  write_checkpoint(path, checkpoint);
  // The pointer moves only once the checkpoint it names is complete on disk.
  write_file_atomically((fs::path(run_dir) / kLatestFile).string(), name + "\n");
  if (keep_last > 0) {
    std::vector<std::string> all = list_run_checkpoints(run_dir);
    size_t excess = all.size() > static_cast<size_t>(keep_last) ? all.size() - keep_last : 0;
    for (size_t i = 0; i < excess; ++i) {
      if (all[i] == path) continue;  // never the one just written (an older iteration re-saved)
      fs::remove(all[i], ec);
      OSPREY_CHECK_KIND(io, !ec, "{}: cannot remove an old checkpoint: {}", all[i], ec.message());
    }
  }
  return path;
}

std::optional<std::string> find_latest_checkpoint(const std::string& run_dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path pointer = fs::path(run_dir) / kLatestFile;
  if (fs::is_regular_file(pointer, ec)) {
    std::string name = read_file(pointer.string());
    while (!name.empty() && (name.back() == '\n' || name.back() == '\r' || name.back() == ' '))
      name.pop_back();
    // Only a plain checkpoint file name in this directory is trusted.
    if (iteration_of(name) >= 0 && fs::is_regular_file(fs::path(run_dir) / name, ec))
      return (fs::path(run_dir) / name).string();
  }
  std::vector<std::string> all = list_run_checkpoints(run_dir);
  if (all.empty()) return std::nullopt;
  return all.back();
}

}  // namespace osprey::io
