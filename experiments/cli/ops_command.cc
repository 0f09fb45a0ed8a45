// `osprey ops [--schema OP]`: every registered op with its kernels, or one op's schema.
#include <fmt/format.h>

#include "experiments/cli/commands.h"
#include "framework/dispatch/registry.h"

namespace osprey::cli {

void add_ops_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("ops", "list the registered ops and their kernels");
  auto schema = std::make_shared<std::string>();
  cmd->add_option("--schema", *schema, "print one op's inputs, attributes and outputs");
  cmd->callback([schema] {
    auto& registry = dispatch::Registry::instance();
    if (!schema->empty()) {
      const auto& def = registry.op(*schema);
      fmt::print("{}\n  {}\n", def.schema.str(), def.schema.doc);
      for (const auto& attr : def.schema.attrs) {
        if (!attr.doc.empty()) fmt::print("  {}: {}\n", attr.name, attr.doc);
      }
      for (const auto* k : registry.kernels(*schema)) {
        fmt::print("  kernel {} (priority {}){}{}\n", k->key(), k->priority,
                   k->doc.empty() ? "" : ": ", k->doc);
      }
      return;
    }
    for (const auto& name : registry.op_names()) {
      std::string keys;
      for (const auto* k : registry.kernels(name)) {
        keys +=
            (keys.empty() ? "" : "  ") + std::string(device_type_name(k->device)) + "/" + k->impl;
      }
      fmt::print("{:<22} {}\n", name, keys);
    }
  });
}

}  // namespace osprey::cli
