#include "experiments/spec/spec.h"

#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>

#include <filesystem>
#include <vector>

#include "experiments/spec/validate.h"
#include "framework/core/error.h"
#include "framework/io/atomic_file.h"

namespace osprey::experiments {
namespace {

namespace fs = std::filesystem;
using google::protobuf::TextFormat;

// Collects protobuf's parse errors as "origin:line:column: message" (protobuf counts from 0).
class SpecErrorCollector : public google::protobuf::io::ErrorCollector {
 public:
  explicit SpecErrorCollector(std::string origin) : origin_(std::move(origin)) {}
  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string& message) override {
    errors_.push_back(fmt::format("{}:{}:{}: {}", origin_, line + 1, column + 1, message));
  }
  void AddWarning(int line, google::protobuf::io::ColumnNumber column,
                  const std::string& message) override {
    // Warnings (deprecated fields and the like) are treated as errors: a spec should be clean.
    AddError(line, column, message);
  }
  const std::vector<std::string>& errors() const { return errors_; }

 private:
  std::string origin_;
  std::vector<std::string> errors_;
};

proto::Experiment parse_text(const std::string& text, const std::string& origin,
                             TextFormat::ParseInfoTree* info) {
  proto::Experiment spec;
  SpecErrorCollector errors(origin);
  TextFormat::Parser parser;
  parser.RecordErrorsTo(&errors);
  if (info) parser.WriteLocationsTo(info);
  bool ok = parser.ParseFromString(text, &spec);
  if (!ok || !errors.errors().empty()) {
    std::string message = fmt::format("{}", fmt::join(errors.errors(), "\n"));
    if (message.empty()) message = fmt::format("{}: cannot parse the spec", origin);
    OSPREY_THROW(value, "{}", message);
  }
  return spec;
}

// "a.prototxt -> b.prototxt -> a.prototxt"
std::string chain_text(const std::vector<fs::path>& chain, const fs::path& next) {
  std::string text;
  for (const auto& p : chain) text += p.string() + " -> ";
  return text + next.string();
}

proto::Experiment parse_recursive(const fs::path& path, std::vector<fs::path>& chain) {
  std::error_code ec;
  fs::path canonical = fs::weakly_canonical(path, ec);
  if (ec) canonical = fs::absolute(path);
  for (const auto& seen : chain) {
    OSPREY_CHECK(seen != canonical, "spec base cycle: {}", chain_text(chain, canonical));
  }
  OSPREY_CHECK_KIND(not_found, fs::is_regular_file(path, ec), "{}: spec file not found",
                    path.string());
  const std::string text = io::read_file(path.string());
  TextFormat::ParseInfoTree info;
  proto::Experiment derived = parse_text(text, path.string(), &info);
  if (!derived.has_base()) return derived;

  const auto* base_field = proto::Experiment::descriptor()->FindFieldByName("base");
  const auto location = info.GetLocation(base_field, -1);
  const std::string where =
      fmt::format("{}:{}:{}", path.string(), location.line + 1, location.column + 1);
  OSPREY_CHECK(!derived.base().empty(), "{}: base: must name a spec file", where);
  fs::path base_path = fs::path(derived.base());
  if (base_path.is_relative()) base_path = path.parent_path() / base_path;
  OSPREY_CHECK_KIND(not_found, fs::is_regular_file(base_path, ec),
                    "{}: base spec '{}' not found (looked for {})", where, derived.base(),
                    base_path.string());
  chain.push_back(canonical);
  proto::Experiment merged;
  try {
    merged = parse_recursive(base_path, chain);
  } catch (Error& error) {
    error.add_context(fmt::format("while loading the base of {}", where));
    throw;
  }
  chain.pop_back();
  derived.clear_base();
  merged.MergeFrom(derived);
  return merged;
}

}  // namespace

proto::Experiment parse_spec_text(const std::string& text, const std::string& origin) {
  return parse_text(text, origin, nullptr);
}

proto::Experiment parse_spec_file(const std::string& path) {
  std::vector<fs::path> chain;
  proto::Experiment spec = parse_recursive(fs::path(path), chain);
  spec.clear_base();
  return spec;
}

proto::Experiment load_spec(const std::string& path) {
  proto::Experiment spec = parse_spec_file(path);
  validate_spec(spec, path);
  return spec;
}

std::string spec_to_text(const proto::Experiment& spec) {
  std::string text;
  OSPREY_CHECK_KIND(internal, TextFormat::PrintToString(spec, &text),
                    "cannot print the spec in text format");
  return "# Resolved experiment spec (bases merged, validated).\n" + text;
}

void save_resolved_spec(const proto::Experiment& spec, const std::string& path) {
  io::write_file_atomically(path, spec_to_text(spec));
}

}  // namespace osprey::experiments
