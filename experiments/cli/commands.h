// Registration of the CLI subcommands. Each subcommand lives in its own file and adds itself here.
#pragma once

#include <CLI/CLI.hpp>

namespace osprey::cli {

void add_all_commands(CLI::App& app);
int exit_code();
void set_exit_code(int code);

void add_ops_command(CLI::App& app);

}  // namespace osprey::cli
