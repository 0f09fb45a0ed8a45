// A streaming CSV reader for files too big to hold (OpenImages' 14.6 M-row box file): it reads
// 1 MiB blocks and hands out one record at a time as string_views into its buffer, valid until the
// next call. RFC 4180 quoting within a line: a field in double quotes may hold commas, and ""
// inside it is one quote (the unescaped text lives in a scratch buffer). A quoted field may not
// span lines: an unterminated quote makes the record malformed. CRLF and LF line ends are both
// accepted; empty lines are skipped.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace osprey::data {

class CsvReader {
 public:
  explicit CsvReader(const std::string& path);  // io error when the file cannot be opened
  ~CsvReader();
  CsvReader(const CsvReader&) = delete;
  CsvReader& operator=(const CsvReader&) = delete;

  // Reads the next non-empty line into `fields`; false at the end of the file. `well_formed` is
  // false for a bad quote (the fields are then unusable).
  bool next(std::vector<std::string_view>& fields, bool& well_formed);
  int64_t line() const { return line_; }  // 1-based number of the line last returned
  const std::string& path() const { return path_; }

 private:
  bool next_line(std::string_view& line);
  bool split_quoted(std::string_view line, std::vector<std::string_view>& fields);

  std::string path_;
  std::FILE* file_ = nullptr;
  std::vector<char> buffer_;
  size_t begin_ = 0, end_ = 0;
  bool eof_ = false;
  int64_t line_ = 0;
  std::string scratch_;
};

// Splits one line (no line end) the same way; for small files and tests.
bool split_csv_line(std::string_view line, std::vector<std::string_view>& fields,
                    std::string& scratch);

}  // namespace osprey::data
