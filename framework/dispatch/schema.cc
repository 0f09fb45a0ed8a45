#include "framework/dispatch/schema.h"

#include <fmt/format.h>

namespace osprey::dispatch {

int OpSchema::input_index(std::string_view input_name) const {
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (inputs[i].name == input_name) return static_cast<int>(i);
  }
  return -1;
}

const InputSpec& OpSchema::input_spec(size_t i) const {
  return i < inputs.size() ? inputs[i] : inputs.back();
}

const AttrSpec* OpSchema::find_attr(std::string_view attr_name) const {
  for (const auto& a : attrs) {
    if (a.name == attr_name) return &a;
  }
  return nullptr;
}

std::string OpSchema::str() const {
  std::string out = fmt::format("{}(", name);
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (i) out += ", ";
    out += inputs[i].name;
    if (inputs[i].optional) out += "?";
    if (inputs[i].variadic) out += "...";
    if (!inputs[i].differentiable) out += " [no grad]";
  }
  out += ")";
  if (!attrs.empty()) {
    out += "; ";
    for (size_t i = 0; i < attrs.size(); ++i) {
      if (i) out += ", ";
      out += fmt::format("{}: {}", attrs[i].name, attr_type_name(attrs[i].type));
      if (attrs[i].default_value) out += " = " + attr_value_str(*attrs[i].default_value);
    }
  }
  out += " -> (";
  for (size_t i = 0; i < outputs.size(); ++i) {
    if (i) out += ", ";
    out += outputs[i].name;
    if (!outputs[i].differentiable) out += " [no grad]";
  }
  out += ")";
  return out;
}

}  // namespace osprey::dispatch
