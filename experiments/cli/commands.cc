#include "experiments/cli/commands.h"

namespace osprey::cli {
namespace {
int code = 0;
}
int exit_code() {
  return code;
}
void set_exit_code(int value) {
  code = value;
}

void add_all_commands(CLI::App& app) {
  add_ops_command(app);
}

}  // namespace osprey::cli
