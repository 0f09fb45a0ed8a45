// Lines are found with memchr in a block buffer; a line without quotes is split with memchr on
// ',' (the fast path every OpenImages box row takes), a line with quotes by a small state machine.
#include "data/formats/csv.h"

#include <cstring>

#include "framework/core/error.h"

namespace osprey::data {

namespace {
constexpr size_t kBlock = size_t(1) << 20;
}

CsvReader::CsvReader(const std::string& path) : path_(path), buffer_(kBlock) {
  file_ = std::fopen(path.c_str(), "rb");
  OSPREY_CHECK_KIND(io, file_ != nullptr, "cannot open CSV file {}", path);
}

CsvReader::~CsvReader() {
  if (file_) std::fclose(file_);
}

bool CsvReader::next_line(std::string_view& line) {
  while (true) {
    const char* start = buffer_.data() + begin_;
    const void* nl = std::memchr(start, '\n', end_ - begin_);
    if (nl != nullptr || (eof_ && begin_ < end_)) {
      size_t length = nl ? static_cast<const char*>(nl) - start : end_ - begin_;
      begin_ += length + (nl ? 1 : 0);
      if (length > 0 && start[length - 1] == '\r') --length;
      line = std::string_view(start, length);
      return true;
    }
    if (eof_) return false;
    // Move the partial line to the front and refill; grow when one line fills the buffer.
    std::memmove(buffer_.data(), start, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
    if (end_ == buffer_.size()) buffer_.resize(buffer_.size() * 2);
    size_t got = std::fread(buffer_.data() + end_, 1, buffer_.size() - end_, file_);
    end_ += got;
    if (got == 0) {
      OSPREY_CHECK_KIND(io, !std::ferror(file_), "error reading {}", path_);
      eof_ = true;
    }
  }
}

bool CsvReader::next(std::vector<std::string_view>& fields, bool& well_formed) {
  std::string_view line;
  do {
    if (!next_line(line)) return false;
    ++line_;
  } while (line.empty());
  well_formed = split_csv_line(line, fields, scratch_);
  return true;
}

bool split_csv_line(std::string_view line, std::vector<std::string_view>& fields,
                    std::string& scratch) {
  fields.clear();
  // Fast path: one pass that splits at commas and leaves for the quoted path at the first quote
  // (cheaper than a memchr per field on OpenImages' short fields).
  const char* data = line.data();
  const size_t n = line.size();
  size_t start = 0;
  bool quoted = false;
  for (size_t i = 0; i < n; ++i) {
    char c = data[i];
    if (c == ',') {
      fields.emplace_back(data + start, i - start);
      start = i + 1;
    } else if (c == '"') {
      quoted = true;
      break;
    }
  }
  if (!quoted) {
    fields.emplace_back(data + start, n - start);
    return true;
  }
  fields.clear();
  // Unescaped fields go to `scratch`, sized up front so the views stay valid.
  scratch.assign(line.size(), '\0');
  std::vector<std::pair<size_t, size_t>> spans;
  size_t out = 0, i = 0;
  while (true) {
    size_t field_begin = out;
    if (i < line.size() && line[i] == '"') {
      ++i;
      while (true) {
        if (i >= line.size()) return false;  // unterminated quote
        if (line[i] == '"') {
          if (i + 1 < line.size() && line[i + 1] == '"') {
            scratch[out++] = '"';
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        scratch[out++] = line[i++];
      }
      if (i < line.size() && line[i] != ',') return false;  // text after the closing quote
    } else {
      while (i < line.size() && line[i] != ',') {
        if (line[i] == '"') return false;  // a quote inside an unquoted field
        scratch[out++] = line[i++];
      }
    }
    spans.emplace_back(field_begin, out - field_begin);
    if (i >= line.size()) break;
    ++i;  // the comma
  }
  for (auto [b, n] : spans) fields.push_back(std::string_view(scratch).substr(b, n));
  return true;
}

}  // namespace osprey::data
