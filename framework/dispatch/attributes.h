// Op attributes: named, typed values (stride=2, output_size=7,7, ...). They travel with every call,
// are recorded on autograd nodes, and parse from text for `osprey op --attr name=value`.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "framework/core/dtype.h"

namespace osprey::dispatch {

enum class AttrType { integer, real, boolean, string, integers, reals, dtype };
const char* attr_type_name(AttrType type);

using AttrValue = std::variant<int64_t, double, bool, std::string, std::vector<int64_t>,
                               std::vector<double>, DType>;

std::string attr_value_str(const AttrValue& value);
// Parses text as `type` ("2", "0.5", "true", "7,7", "f32"); errors name the attribute.
AttrValue parse_attr_value(std::string_view name, AttrType type, std::string_view text);

class Attrs {
 public:
  Attrs() = default;
  Attrs(std::initializer_list<std::pair<std::string, AttrValue>> values) : values_(values) {}

  Attrs& set(std::string name, AttrValue value);
  bool has(std::string_view name) const;
  const AttrValue& get(std::string_view name) const;  // throws not_found naming the attribute

  int64_t get_int(std::string_view name) const;
  double get_float(std::string_view name) const;  // integers convert
  bool get_bool(std::string_view name) const;
  const std::string& get_string(std::string_view name) const;
  std::vector<int64_t> get_ints(std::string_view name) const;  // a single integer becomes {v}
  std::vector<double> get_floats(std::string_view name) const;
  DType get_dtype(std::string_view name) const;

  const std::vector<std::pair<std::string, AttrValue>>& items() const { return values_; }
  std::string str() const;  // "stride=2, padding=1"

 private:
  std::vector<std::pair<std::string, AttrValue>> values_;
};

}  // namespace osprey::dispatch
