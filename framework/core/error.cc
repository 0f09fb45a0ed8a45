#include "framework/core/error.h"

namespace osprey {

const char* error_kind_name(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::value:
      return "value error";
    case ErrorKind::shape:
      return "shape error";
    case ErrorKind::dtype:
      return "dtype error";
    case ErrorKind::device:
      return "device error";
    case ErrorKind::not_found:
      return "not found";
    case ErrorKind::autograd:
      return "autograd error";
    case ErrorKind::io:
      return "io error";
    case ErrorKind::cuda:
      return "cuda error";
    case ErrorKind::internal:
      return "internal error";
  }
  return "error";
}

Error::Error(ErrorKind kind, std::string message, const char* file, int line)
    : std::runtime_error(message), kind_(kind), message_(std::move(message)) {
  location_ = fmt::format("{}:{}", file ? file : "?", line);
  rebuild();
}

void Error::add_context(const std::string& context) {
  context_ += "\n  " + context;
  rebuild();
}

void Error::rebuild() {
  what_ = fmt::format("{}: {}{} [{}]", error_kind_name(kind_), message_, context_, location_);
}

}  // namespace osprey
