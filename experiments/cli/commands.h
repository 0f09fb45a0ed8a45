// Registration of the CLI subcommands. Each subcommand lives in its own file and adds itself here.
// The bodies of the subcommands are plain functions (run_*) so tests can call them in-process;
// they throw osprey::Error on bad input and print to the stream they are given.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

namespace osprey::cli {

void add_all_commands(CLI::App& app);
int exit_code();
void set_exit_code(int code);

void add_ops_command(CLI::App& app);
void add_op_command(CLI::App& app);
void add_check_kernel_command(CLI::App& app);
void add_demo_command(CLI::App& app);
// train, eval, resume: bodies in train_commands.h
void add_train_command(CLI::App& app);
void add_eval_command(CLI::App& app);
void add_resume_command(CLI::App& app);
void add_make_dataset_command(CLI::App& app);
void add_dataset_command(CLI::App& app);  // dataset_command.h

// `osprey op NAME --in name=file.npy ... --attr name=value ... --out DIR [--grad]`
struct OpCommandOptions {
  std::string op;
  std::vector<std::string> inputs;  // "name=path.npy"; a variadic input may repeat its name
  std::vector<std::string> attrs;   // "name=value", parsed by the schema's attribute type
  std::string out_dir;
  bool grad = false;
  std::string grad_output;  // .npy gradient of output 0 (default: ones)
  std::string device = "cpu";
  std::string impl;  // kernel override on `device`; empty: the dispatcher's choice
};
// Writes output.npy (output0.npy, output1.npy, ... for several outputs) and, with grad,
// grad_<input>.npy per differentiable input (grad_<input><k>.npy for a variadic input).
void run_op_command(const OpCommandOptions& options, std::ostream& log);

// `osprey check-kernel OP --impl NAME [--device cpu|cuda] [--seed N]`
struct CheckKernelOptions {
  std::string op;
  std::string impl;
  std::string device = "cpu";
  uint64_t seed = 0;
  bool timing = true;
};
// Prints a table of every case; returns the number of mismatching cases (0: the kernel agrees).
int run_check_kernel(const CheckKernelOptions& options, std::ostream& out);

// `osprey demo mlp [--steps N] [--seed S] [--hidden H] [--lr LR] [--device cpu|cuda]`
struct DemoMlpOptions {
  int steps = 500;
  uint64_t seed = 0;
  int64_t hidden = 32;
  double lr = 0.1;
  std::string device = "cpu";  // a CUDA device that is not there is a device error
  int print_every = 0;         // 0: about ten lines
};
// Returns the loss before the first step and after the last.
std::pair<double, double> run_demo_mlp(const DemoMlpOptions& options, std::ostream& out);

}  // namespace osprey::cli
