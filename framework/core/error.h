// Typed errors. Library code never aborts on user input: it throws osprey::Error, which carries the
// source location of the failed check and, once it has crossed the dispatcher, the op, the kernel
// key and the shapes of the call.
#pragma once

#include <fmt/format.h>

#include <stdexcept>
#include <string>

namespace osprey {

enum class ErrorKind {
  value,      // a bad argument value (negative size, unknown name, ...)
  shape,      // shapes that do not fit together
  dtype,      // an unsupported or mismatched element type
  device,     // tensors on different devices, a device that does not exist
  not_found,  // an unknown op, kernel, attribute or file
  autograd,   // misuse of the autograd engine (in-place on saved tensors, second backward, ...)
  io,         // reading or writing files
  cuda,       // a CUDA, cuBLAS or cuDNN call failed
  internal,   // a broken invariant inside Osprey
};

const char* error_kind_name(ErrorKind kind);

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, std::string message, const char* file, int line);

  ErrorKind kind() const { return kind_; }
  // The message without location or context lines.
  const std::string& message() const { return message_; }
  // Adds a line of context ("in op 'add' (add/cpu/reference) with ...") shown under the message.
  void add_context(const std::string& context);

 private:
  void rebuild();
  ErrorKind kind_;
  std::string message_;
  std::string location_;
  std::string context_;
  std::string what_;
  // std::runtime_error's own what() is replaced by ours.
 public:
  const char* what() const noexcept override { return what_.c_str(); }
};

}  // namespace osprey

#define OSPREY_THROW(KIND, ...) \
  throw ::osprey::Error(::osprey::ErrorKind::KIND, ::fmt::format(__VA_ARGS__), __FILE__, __LINE__)

// OSPREY_CHECK(cond, "format {}", args...) throws a value error when cond is false.
#define OSPREY_CHECK(COND, ...)                    \
  do {                                             \
    if (!(COND)) OSPREY_THROW(value, __VA_ARGS__); \
  } while (0)

#define OSPREY_CHECK_KIND(KIND, COND, ...)        \
  do {                                            \
    if (!(COND)) OSPREY_THROW(KIND, __VA_ARGS__); \
  } while (0)

#define OSPREY_INTERNAL_ASSERT(COND)                                             \
  do {                                                                           \
    if (!(COND)) OSPREY_THROW(internal, "internal assertion failed: {}", #COND); \
  } while (0)
