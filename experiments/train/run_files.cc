// The run directory's files through the project's spec and checkpoint modules
// (experiments/spec/spec.h, framework/io/checkpoint.h).
#include "experiments/train/run_files.h"

#include <filesystem>

#include "experiments/spec/spec.h"
#include "framework/core/error.h"
#include "framework/io/checkpoint.h"
#include "framework/io/tensor_proto.h"

namespace osprey::experiments {
namespace {

namespace fs = std::filesystem;

constexpr const char* kSpecFile = "spec.prototxt";

}  // namespace

std::string run_dir_of(const proto::Experiment& spec) {
  if (spec.has_output_dir() && !spec.output_dir().empty()) return spec.output_dir();
  return (fs::path("runs") / (spec.name().empty() ? "run" : spec.name())).string();
}

proto::Experiment load_spec_file(const std::string& path) {
  return load_spec(path);
}

void save_run_spec(const proto::Experiment& spec, const std::string& run_dir) {
  fs::create_directories(run_dir);
  save_resolved_spec(spec, (fs::path(run_dir) / kSpecFile).string());
}

proto::Experiment load_run_spec(const std::string& run_dir) {
  fs::path path = fs::path(run_dir) / kSpecFile;
  OSPREY_CHECK_KIND(not_found, fs::exists(path), "{} is not a run directory: it has no {}", run_dir,
                    kSpecFile);
  // The saved spec is resolved already (no base); parsed without re-validation so that a run
  // whose spec was valid when it started can always be continued.
  return parse_spec_file(path.string());
}

std::string save_run_checkpoint(const std::string& run_dir, const proto::Checkpoint& checkpoint,
                                int keep_last) {
  return io::save_run_checkpoint(run_dir, checkpoint, keep_last);
}

std::vector<std::string> list_run_checkpoints(const std::string& run_dir) {
  return io::list_run_checkpoints(run_dir);
}

std::optional<std::string> latest_run_checkpoint(const std::string& run_dir) {
  return io::find_latest_checkpoint(run_dir);
}

proto::Checkpoint read_checkpoint(const std::string& path) {
  return io::read_checkpoint(path);
}

void add_tensors(const nn::NamedTensors& tensors,
                 google::protobuf::RepeatedPtrField<proto::TensorProto>* out) {
  io::add_tensor_protos(tensors, out);
}

nn::NamedTensors read_tensors(const google::protobuf::RepeatedPtrField<proto::TensorProto>& in,
                              const std::string& context) {
  return io::tensors_from_protos(in, context);
}

}  // namespace osprey::experiments
