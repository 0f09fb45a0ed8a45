// The `osprey` command line: one subcommand per file (ops_command.cc, op_command.cc, ...).
#include <CLI/CLI.hpp>

#include <iostream>

#include "experiments/cli/commands.h"
#include "framework/core/error.h"
#include "framework/core/thread_environment.h"

int main(int argc, char** argv) {
  osprey::use_passive_openmp_wait(argv);
  CLI::App app{"Osprey: a deep-learning framework for the study of detection pre-training"};
  app.require_subcommand(1);
  osprey::cli::add_all_commands(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const osprey::Error& e) {
    std::cerr << "osprey: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {  // e.g. a filesystem error while writing a run directory
    std::cerr << "osprey: " << e.what() << "\n";
    return 1;
  }
  return osprey::cli::exit_code();
}
