// What an op is, independently of any kernel: its inputs, attributes with types and defaults, and
// outputs. The dispatcher checks every call against it before a kernel runs.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "framework/dispatch/attributes.h"

namespace osprey::dispatch {

struct InputSpec {
  InputSpec(std::string name_, bool differentiable_ = true, bool optional_ = false,
            bool variadic_ = false)
      : name(std::move(name_)),
        differentiable(differentiable_),
        optional(optional_),
        variadic(variadic_) {}
  InputSpec(const char* name_) : InputSpec(std::string(name_)) {}  // NOLINT: {"input"} lists
  std::string name;
  bool differentiable = true;
  bool optional = false;  // may be passed as an undefined Tensor (e.g. bias)
  bool variadic = false;  // last input only: takes any number (>= 1) of tensors (cat, stack)
};

struct AttrSpec {
  AttrSpec(std::string name_, AttrType type_,
           std::optional<AttrValue> default_value_ = std::nullopt, std::string doc_ = {})
      : name(std::move(name_)),
        type(type_),
        default_value(std::move(default_value_)),
        doc(std::move(doc_)) {}
  std::string name;
  AttrType type = AttrType::integer;
  std::optional<AttrValue> default_value;  // none: required
  std::string doc;
};

struct OutputSpec {
  OutputSpec(std::string name_, bool differentiable_ = true)
      : name(std::move(name_)), differentiable(differentiable_) {}
  OutputSpec(const char* name_) : OutputSpec(std::string(name_)) {}  // NOLINT: {"output"} lists
  std::string name;
  bool differentiable = true;  // indices and masks are not
};

struct OpSchema {
  std::string name;
  std::vector<InputSpec> inputs;
  std::vector<AttrSpec> attrs;
  std::vector<OutputSpec> outputs;
  std::string doc;

  int input_index(std::string_view input_name) const;  // -1 when absent
  // The spec of the i-th passed input (the variadic last spec covers every extra input).
  const InputSpec& input_spec(size_t i) const;
  bool is_variadic() const { return !inputs.empty() && inputs.back().variadic; }
  const AttrSpec* find_attr(std::string_view attr_name) const;
  std::string str() const;  // human-readable, as printed by `osprey ops --schema`
};

}  // namespace osprey::dispatch
