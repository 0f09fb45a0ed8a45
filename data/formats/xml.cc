// expat's callbacks build the tree on a stack of open elements.
#include "data/formats/xml.h"

#include <expat.h>

#include <fstream>
#include <sstream>

#include "framework/core/error.h"

namespace osprey::data::xml {

const Element* Element::child(const std::string& child_name) const {
  for (const auto& c : children) {
    if (c->name == child_name) return c.get();
  }
  return nullptr;
}

std::vector<const Element*> Element::children_named(const std::string& child_name) const {
  std::vector<const Element*> out;
  for (const auto& c : children) {
    if (c->name == child_name) out.push_back(c.get());
  }
  return out;
}

namespace {

struct Builder {
  XML_Parser parser = nullptr;
  std::unique_ptr<Element> root;
  std::vector<Element*> open;
};

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

void XMLCALL on_start(void* data, const XML_Char* name, const XML_Char** /*attributes*/) {
  auto* b = static_cast<Builder*>(data);
  auto element = std::make_unique<Element>();
  element->name = name;
  element->line = static_cast<int>(XML_GetCurrentLineNumber(b->parser));
  Element* raw = element.get();
  if (b->open.empty()) {
    b->root = std::move(element);
  } else {
    b->open.back()->children.push_back(std::move(element));
  }
  b->open.push_back(raw);
}

void XMLCALL on_end(void* data, const XML_Char* /*name*/) {
  auto* b = static_cast<Builder*>(data);
  b->open.back()->text = trim(b->open.back()->text);
  b->open.pop_back();
}

void XMLCALL on_text(void* data, const XML_Char* text, int length) {
  auto* b = static_cast<Builder*>(data);
  if (!b->open.empty()) b->open.back()->text.append(text, static_cast<size_t>(length));
}

}  // namespace

std::unique_ptr<Element> parse(const std::string& text, const std::string& source) {
  Builder builder;
  builder.parser = XML_ParserCreate(nullptr);
  OSPREY_CHECK_KIND(internal, builder.parser != nullptr, "XML_ParserCreate failed");
  XML_SetUserData(builder.parser, &builder);
  XML_SetElementHandler(builder.parser, on_start, on_end);
  XML_SetCharacterDataHandler(builder.parser, on_text);
  bool ok =
      XML_Parse(builder.parser, text.data(), static_cast<int>(text.size()), 1) == XML_STATUS_OK;
  std::string message;
  if (!ok) {
    message = fmt::format("{}:{}: {}", source, XML_GetCurrentLineNumber(builder.parser),
                          XML_ErrorString(XML_GetErrorCode(builder.parser)));
  }
  XML_ParserFree(builder.parser);
  if (!ok) OSPREY_THROW(io, "{}", message);
  OSPREY_CHECK_KIND(io, builder.root != nullptr, "{}: no XML element", source);
  return std::move(builder.root);
}

std::unique_ptr<Element> parse_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  OSPREY_CHECK_KIND(io, file.good(), "cannot open {}", path);
  std::ostringstream text;
  text << file.rdbuf();
  return parse(text.str(), path);
}

std::string escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

}  // namespace osprey::data::xml
