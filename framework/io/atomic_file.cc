// POSIX calls rather than iostreams: only they give fsync of the file and of its directory.
#include "framework/io/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>

#include "framework/core/error.h"

namespace osprey::io {
namespace {

std::mutex hook_mutex;
AtomicWriteHook hook;

void run_hook(std::string_view step, const std::string& temp) {
  AtomicWriteHook copy;
  {
    std::lock_guard<std::mutex> lock(hook_mutex);
    copy = hook;
  }
  if (copy) copy(step, temp);
}

// Closes the descriptor and removes the temporary file unless released.
class TempFile {
 public:
  explicit TempFile(std::string path) : path_(std::move(path)) {}
  ~TempFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!released_) ::unlink(path_.c_str());
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const std::string& path() const { return path_; }
  int& fd() { return fd_; }
  void release() { released_ = true; }

 private:
  std::string path_;
  int fd_ = -1;
  bool released_ = false;
};

void write_all(int fd, std::string_view bytes, const std::string& path, const std::string& temp) {
  const char* p = bytes.data();
  size_t left = bytes.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    OSPREY_CHECK_KIND(io, n > 0, "{}: writing the temporary file {} failed: {}", path, temp,
                      n < 0 ? std::strerror(errno) : "no progress");
    p += n;
    left -= static_cast<size_t>(n);
  }
}

}  // namespace

void set_atomic_write_hook_for_testing(AtomicWriteHook new_hook) {
  std::lock_guard<std::mutex> lock(hook_mutex);
  hook = std::move(new_hook);
}

void write_file_atomically(const std::string& path, const std::vector<std::string_view>& chunks) {
  namespace fs = std::filesystem;
  fs::path target(path);
  fs::path dir = target.parent_path();
  if (dir.empty()) dir = ".";
  static std::atomic<int> counter{0};
  // A name no other writer (process or thread) uses; it stays in the target's directory so that
  // the rename is atomic (same file system).
  TempFile temp(fmt::format("{}.tmp{}.{}", path, static_cast<long>(::getpid()), counter++));

  run_hook("open", temp.path());
  temp.fd() = ::open(temp.path().c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (temp.fd() < 0) {
    int error = errno;
    temp.release();  // nothing was created
    OSPREY_THROW(io, "{}: cannot create the temporary file {}: {}", path, temp.path(),
                 std::strerror(error));
  }
  run_hook("write", temp.path());
  for (std::string_view chunk : chunks) write_all(temp.fd(), chunk, path, temp.path());
  run_hook("fsync", temp.path());
  OSPREY_CHECK_KIND(io, ::fsync(temp.fd()) == 0, "{}: fsync of {} failed: {}", path, temp.path(),
                    std::strerror(errno));
  int fd = temp.fd();
  temp.fd() = -1;
  OSPREY_CHECK_KIND(io, ::close(fd) == 0, "{}: closing {} failed: {}", path, temp.path(),
                    std::strerror(errno));
  run_hook("rename", temp.path());
  OSPREY_CHECK_KIND(io, ::rename(temp.path().c_str(), path.c_str()) == 0,
                    "{}: cannot rename the temporary file {} into place: {}", path, temp.path(),
                    std::strerror(errno));
  temp.release();
  // The rename is durable only once the directory entry is on disk. Best effort: the new file is
  // complete and in place either way, and some file systems refuse fsync on directories.
  int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
}

std::string read_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  OSPREY_CHECK_KIND(not_found, file.good(), "{}: cannot open for reading: {}", path,
                    std::strerror(errno));
  file.seekg(0, std::ios::end);
  std::streamoff size = file.tellg();
  OSPREY_CHECK_KIND(io, size >= 0, "{}: cannot determine the file size", path);
  file.seekg(0, std::ios::beg);
  std::string bytes(static_cast<size_t>(size), '\0');
  file.read(bytes.data(), size);
  OSPREY_CHECK_KIND(io, file.gcount() == size, "{}: read {} of {} bytes", path, file.gcount(),
                    size);
  return bytes;
}

}  // namespace osprey::io
