// Writing a file so that readers see either the old contents or the new, never a mix: the bytes
// go to a temporary file in the target's directory, which is flushed to disk (fsync), renamed over
// the target, and the directory is fsynced so the rename itself survives a crash. On any failure
// the temporary file is removed and the target is left as it was. Checkpoints, the `latest`
// pointer of a run directory and resolved specs are written this way (DESIGN.md principle 7).
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace osprey::io {

// Writes the concatenation of `chunks` to `path` atomically (see above). Errors are io errors
// naming the path and the failed step.
void write_file_atomically(const std::string& path, const std::vector<std::string_view>& chunks);
inline void write_file_atomically(const std::string& path, std::string_view bytes) {
  write_file_atomically(path, std::vector<std::string_view>{bytes});
}

// Reads a whole file; a not_found error names the path when it cannot be opened.
std::string read_file(const std::string& path);

// For tests: a hook called before each step of an atomic write ("open", "write", "fsync",
// "rename") with the temporary file's path; throwing from it simulates a failure at that step.
// Pass an empty function to remove it.
using AtomicWriteHook = std::function<void(std::string_view step, const std::string& temp_path)>;
void set_atomic_write_hook_for_testing(AtomicWriteHook hook);

}  // namespace osprey::io
