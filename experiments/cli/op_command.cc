// `osprey op NAME --in input=a.npy --attr stride=2 --out DIR [--grad] [--grad-output g.npy]
// [--device cpu|cuda] [--impl NAME]`: runs any registered op on .npy files, for checking a kernel
// against NumPy or PyTorch by hand. Attributes are parsed by the type the schema declares.
#include <fmt/ranges.h>

#include <filesystem>
#include <iostream>
#include <map>
#include <optional>
#include <ostream>

#include "experiments/cli/commands.h"
#include "experiments/cli/op_runner.h"
#include "framework/autograd/engine.h"
#include "framework/autograd/grad_mode.h"
#include "framework/io/npy.h"

namespace osprey::cli {
namespace {

std::pair<std::string, std::string> split_assignment(const std::string& text, const char* what) {
  size_t equals = text.find('=');
  OSPREY_CHECK(equals != std::string::npos && equals > 0, "{} '{}' is not of the form name=value",
               what, text);
  return {text.substr(0, equals), text.substr(equals + 1)};
}

std::string input_names(const dispatch::OpSchema& schema) {
  std::vector<std::string> names;
  for (const auto& spec : schema.inputs) {
    names.push_back(spec.name + (spec.optional ? " (optional)" : "") +
                    (spec.variadic ? " (repeatable)" : ""));
  }
  return names.empty() ? std::string("none") : fmt::format("{}", fmt::join(names, ", "));
}

std::string attr_names(const dispatch::OpSchema& schema) {
  std::vector<std::string> names;
  for (const auto& spec : schema.attrs) {
    names.push_back(fmt::format("{} ({})", spec.name, dispatch::attr_type_name(spec.type)));
  }
  return names.empty() ? std::string("none") : fmt::format("{}", fmt::join(names, ", "));
}

// Inputs in schema order; the variadic last input collects every file given for it.
std::vector<Tensor> load_inputs(const dispatch::OpSchema& schema,
                                const std::vector<std::string>& specs, Device device) {
  std::vector<Tensor> inputs(schema.is_variadic() ? schema.inputs.size() - 1
                                                  : schema.inputs.size());
  std::vector<Tensor> variadic;
  for (const auto& spec : specs) {
    auto [name, path] = split_assignment(spec, "--in");
    int index = schema.input_index(name);
    OSPREY_CHECK_KIND(not_found, index >= 0, "op '{}' has no input '{}' (inputs: {})", schema.name,
                      name, input_names(schema));
    Tensor t = io::read_npy(path).to(device);
    if (schema.inputs[index].variadic) {
      variadic.push_back(t);
      continue;
    }
    OSPREY_CHECK(!inputs[index].defined(), "input '{}' of op '{}' is given twice", name,
                 schema.name);
    inputs[index] = t;
  }
  inputs.insert(inputs.end(), variadic.begin(), variadic.end());
  return inputs;
}

dispatch::Attrs parse_attrs(const dispatch::OpSchema& schema,
                            const std::vector<std::string>& specs) {
  dispatch::Attrs attrs;
  for (const auto& spec : specs) {
    auto [name, text] = split_assignment(spec, "--attr");
    const auto* attr = schema.find_attr(name);
    OSPREY_CHECK_KIND(not_found, attr, "op '{}' has no attribute '{}' (attributes: {})",
                      schema.name, name, attr_names(schema));
    OSPREY_CHECK(!attrs.has(name), "attribute '{}' is given twice", name);
    attrs.set(name, dispatch::parse_attr_value(name, attr->type, text));
  }
  return attrs;
}

void write(const std::filesystem::path& path, const Tensor& t, std::ostream& log) {
  io::write_npy(path.string(), t);
  log << fmt::format("wrote {} ({})\n", path.string(), t.describe());
}

}  // namespace

void run_op_command(const OpCommandOptions& options, std::ostream& log) {
  auto& registry = dispatch::Registry::instance();
  const dispatch::OpDef& def = registry.op(options.op);
  const dispatch::OpSchema& schema = def.schema;
  Device device = Device::parse(options.device);
  OSPREY_CHECK(!options.out_dir.empty(), "--out DIR is required");
  OSPREY_CHECK(options.grad || options.grad_output.empty(), "--grad-output needs --grad");
  if (options.grad) {
    OSPREY_CHECK_KIND(autograd, static_cast<bool>(def.backward), "op '{}' is not differentiable",
                      schema.name);
  }

  std::vector<Tensor> inputs = load_inputs(schema, options.inputs, device);
  dispatch::Attrs attrs = parse_attrs(schema, options.attrs);
  std::optional<KernelOverride> forced;
  if (!options.impl.empty()) forced.emplace(options.op, device.type, options.impl);

  // Leaves for the gradient: differentiable floating inputs, each under its file's input name.
  std::vector<Tensor> leaves;
  std::vector<std::string> leaf_names;
  if (options.grad) {
    std::map<std::string, int> seen;
    for (size_t i = 0; i < inputs.size(); ++i) {
      const auto& spec = schema.input_spec(i);
      if (!inputs[i].defined() || !spec.differentiable || !is_floating(inputs[i].dtype())) continue;
      inputs[i] = inputs[i].detach().set_requires_grad(true);
      leaves.push_back(inputs[i]);
      int k = seen[spec.name]++;
      leaf_names.push_back(spec.variadic ? fmt::format("{}{}", spec.name, k) : spec.name);
    }
    OSPREY_CHECK(!leaves.empty(), "--grad: no differentiable floating input of op '{}' was given",
                 schema.name);
  }

  std::vector<Tensor> outputs;
  if (options.grad) {
    autograd::EnableGradGuard enable;
    outputs = call_on_device(options.op, inputs, attrs, device);
  } else {
    autograd::NoGradGuard no_grad;
    outputs = call_on_device(options.op, inputs, attrs, device);
  }
  log << fmt::format("ran {}\n", dispatch::last_kernel_key());

  std::filesystem::path dir(options.out_dir);
  std::filesystem::create_directories(dir);
  for (size_t i = 0; i < outputs.size(); ++i) {
    auto name = outputs.size() == 1 ? std::string("output.npy") : fmt::format("output{}.npy", i);
    write(dir / name, outputs[i], log);
  }
  if (!options.grad) return;

  std::vector<Tensor> roots, root_grads;
  for (size_t i = 0; i < outputs.size(); ++i) {
    if (!outputs[i].requires_grad()) continue;
    Tensor g;
    if (i == 0 && !options.grad_output.empty()) {
      g = io::read_npy(options.grad_output);
      OSPREY_CHECK_KIND(shape, g.shape() == outputs[i].shape(),
                        "--grad-output {} has shape {}, the output has {}", options.grad_output,
                        shape_str(g.shape()), shape_str(outputs[i].shape()));
      g = g.to(device, outputs[i].dtype());
    } else {
      g = Tensor::empty(outputs[i].shape(), outputs[i].dtype(), device);
      g.fill_(1.0);
    }
    roots.push_back(outputs[i]);
    root_grads.push_back(g);
  }
  OSPREY_CHECK_KIND(autograd, !roots.empty(), "--grad: no output of op '{}' is differentiable",
                    schema.name);
  std::vector<Tensor> grads = autograd::grad(roots, root_grads, leaves);
  for (size_t i = 0; i < grads.size(); ++i) {
    write(dir / fmt::format("grad_{}.npy", leaf_names[i]), grads[i], log);
  }
}

void add_op_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("op", "run one op on .npy inputs and write its outputs");
  auto options = std::make_shared<OpCommandOptions>();
  cmd->add_option("name", options->op, "the op (see `osprey ops`)")->required();
  cmd->add_option("--in", options->inputs, "an input: name=file.npy (repeat for each input)");
  cmd->add_option("--attr", options->attrs, "an attribute: name=value (e.g. stride=2, size=7,7)");
  cmd->add_option("--out", options->out_dir, "directory for output*.npy and grad_*.npy")
      ->required();
  cmd->add_flag("--grad", options->grad, "also run backward and write grad_<input>.npy");
  cmd->add_option("--grad-output", options->grad_output,
                  "gradient of output 0 (.npy; default: ones)");
  cmd->add_option("--device", options->device, "cpu, cuda or cuda:N")->default_val("cpu");
  cmd->add_option("--impl", options->impl, "force this kernel implementation on the device");
  cmd->callback([options] { run_op_command(*options, std::cout); });
}

}  // namespace osprey::cli
