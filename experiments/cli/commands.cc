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
  add_op_command(app);
  add_check_kernel_command(app);
  add_demo_command(app);
  add_train_command(app);
  add_eval_command(app);
  add_resume_command(app);
  add_make_dataset_command(app);
  add_dataset_command(app);
}

}  // namespace osprey::cli
