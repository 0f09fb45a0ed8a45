#include "framework/dispatch/attributes.h"

#include <fmt/ranges.h>

#include <charconv>
#include <cstdlib>

#include "framework/core/error.h"

namespace osprey::dispatch {

const char* attr_type_name(AttrType type) {
  switch (type) {
    case AttrType::integer:
      return "int";
    case AttrType::real:
      return "float";
    case AttrType::boolean:
      return "bool";
    case AttrType::string:
      return "string";
    case AttrType::integers:
      return "int[]";
    case AttrType::reals:
      return "float[]";
    case AttrType::dtype:
      return "dtype";
  }
  return "?";
}

std::string attr_value_str(const AttrValue& value) {
  return std::visit(
      [](const auto& v) -> std::string {
        using V = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<V, bool>) {
          return v ? "true" : "false";
        } else if constexpr (std::is_same_v<V, std::string>) {
          return v;
        } else if constexpr (std::is_same_v<V, DType>) {
          return dtype_name(v);
        } else if constexpr (std::is_same_v<V, std::vector<int64_t>> ||
                             std::is_same_v<V, std::vector<double>>) {
          return fmt::format("{}", fmt::join(v, ","));
        } else {
          return fmt::format("{}", v);
        }
      },
      value);
}

namespace {

int64_t parse_int(std::string_view name, std::string_view text) {
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size()) {
    OSPREY_THROW(value, "attribute '{}': '{}' is not an integer", name, text);
  }
  return v;
}

double parse_real(std::string_view name, std::string_view text) {
  std::string s(text);
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size()) {
    OSPREY_THROW(value, "attribute '{}': '{}' is not a number", name, text);
  }
  return v;
}

std::vector<std::string_view> split_commas(std::string_view text) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    parts.push_back(text.substr(start, comma - start));
    start = comma + 1;
  }
  return parts;
}

}  // namespace

AttrValue parse_attr_value(std::string_view name, AttrType type, std::string_view text) {
  switch (type) {
    case AttrType::integer:
      return parse_int(name, text);
    case AttrType::real:
      return parse_real(name, text);
    case AttrType::boolean:
      if (text == "true" || text == "1" || text == "True") return true;
      if (text == "false" || text == "0" || text == "False") return false;
      OSPREY_THROW(value, "attribute '{}': '{}' is not a boolean (true/false)", name, text);
    case AttrType::string:
      return std::string(text);
    case AttrType::integers: {
      std::vector<int64_t> v;
      for (auto part : split_commas(text)) v.push_back(parse_int(name, part));
      return v;
    }
    case AttrType::reals: {
      std::vector<double> v;
      for (auto part : split_commas(text)) v.push_back(parse_real(name, part));
      return v;
    }
    case AttrType::dtype:
      return dtype_from_name(text);
  }
  OSPREY_THROW(internal, "unknown attribute type");
}

Attrs& Attrs::set(std::string name, AttrValue value) {
  for (auto& [n, v] : values_) {
    if (n == name) {
      v = std::move(value);
      return *this;
    }
  }
  values_.emplace_back(std::move(name), std::move(value));
  return *this;
}

bool Attrs::has(std::string_view name) const {
  for (const auto& [n, v] : values_) {
    if (n == name) return true;
  }
  return false;
}

const AttrValue& Attrs::get(std::string_view name) const {
  for (const auto& [n, v] : values_) {
    if (n == name) return v;
  }
  OSPREY_THROW(not_found, "attribute '{}' is not set (have: {})", name, str());
}

int64_t Attrs::get_int(std::string_view name) const {
  const auto& v = get(name);
  if (auto p = std::get_if<int64_t>(&v)) return *p;
  if (auto p = std::get_if<bool>(&v)) return *p ? 1 : 0;
  OSPREY_THROW(value, "attribute '{}' = {} is not an integer", name, attr_value_str(v));
}

double Attrs::get_float(std::string_view name) const {
  const auto& v = get(name);
  if (auto p = std::get_if<double>(&v)) return *p;
  if (auto p = std::get_if<int64_t>(&v)) return static_cast<double>(*p);
  OSPREY_THROW(value, "attribute '{}' = {} is not a number", name, attr_value_str(v));
}

bool Attrs::get_bool(std::string_view name) const {
  const auto& v = get(name);
  if (auto p = std::get_if<bool>(&v)) return *p;
  if (auto p = std::get_if<int64_t>(&v)) return *p != 0;
  OSPREY_THROW(value, "attribute '{}' = {} is not a boolean", name, attr_value_str(v));
}

const std::string& Attrs::get_string(std::string_view name) const {
  const auto& v = get(name);
  if (auto p = std::get_if<std::string>(&v)) return *p;
  OSPREY_THROW(value, "attribute '{}' = {} is not a string", name, attr_value_str(v));
}

std::vector<int64_t> Attrs::get_ints(std::string_view name) const {
  const auto& v = get(name);
  if (auto p = std::get_if<std::vector<int64_t>>(&v)) return *p;
  if (auto p = std::get_if<int64_t>(&v)) return {*p};
  OSPREY_THROW(value, "attribute '{}' = {} is not a list of integers", name, attr_value_str(v));
}

std::vector<double> Attrs::get_floats(std::string_view name) const {
  const auto& v = get(name);
  if (auto p = std::get_if<std::vector<double>>(&v)) return *p;
  if (auto p = std::get_if<std::vector<int64_t>>(&v)) return {p->begin(), p->end()};
  if (auto p = std::get_if<double>(&v)) return {*p};
  if (auto p = std::get_if<int64_t>(&v)) return {static_cast<double>(*p)};
  OSPREY_THROW(value, "attribute '{}' = {} is not a list of numbers", name, attr_value_str(v));
}

DType Attrs::get_dtype(std::string_view name) const {
  const auto& v = get(name);
  if (auto p = std::get_if<DType>(&v)) return *p;
  if (auto p = std::get_if<std::string>(&v)) return dtype_from_name(*p);
  OSPREY_THROW(value, "attribute '{}' = {} is not a dtype", name, attr_value_str(v));
}

std::string Attrs::str() const {
  std::string out;
  for (const auto& [n, v] : values_) {
    if (!out.empty()) out += ", ";
    out += n + "=" + attr_value_str(v);
  }
  return out;
}

}  // namespace osprey::dispatch
