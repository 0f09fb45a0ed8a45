// A minimal element tree read with expat, for the VOC-style annotation files (VOC, ImageNet-Loc):
// element names, their concatenated text (whitespace-trimmed), children in order, and the line each
// element starts on so that problems can name it. Attributes are not kept (VOC uses none).
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace osprey::data::xml {

struct Element {
  std::string name;
  std::string text;
  int line = 0;
  std::vector<std::unique_ptr<Element>> children;

  // The first child with this name, or nullptr.
  const Element* child(const std::string& child_name) const;
  // All children with this name, in document order.
  std::vector<const Element*> children_named(const std::string& child_name) const;
};

// Parses a whole document. A syntax error is an io error "<source>:<line>: <expat's message>".
std::unique_ptr<Element> parse(const std::string& text, const std::string& source);
std::unique_ptr<Element> parse_file(const std::string& path);

// Writes `text` with &, <, > escaped.
std::string escape(const std::string& text);

}  // namespace osprey::data::xml
