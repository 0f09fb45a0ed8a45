// The files of a run directory, as the trainer and the CLI see them: the resolved spec
// (`spec.prototxt`) and the checkpoints (written atomically, the last `keep_last` kept, the newest
// named by a pointer file).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "experiments/proto/osprey.pb.h"
#include "framework/nn/module.h"

namespace osprey::experiments {

// spec.output_dir, else "runs/<name>" ("runs/run" without a name).
std::string run_dir_of(const proto::Experiment& spec);

// A spec file with its bases merged in (base first, the file's own fields over it).
proto::Experiment load_spec_file(const std::string& path);

void save_run_spec(const proto::Experiment& spec, const std::string& run_dir);
proto::Experiment load_run_spec(const std::string& run_dir);

// Writes `checkpoint` as the run's checkpoint of its iteration and keeps the newest `keep_last`
// (<= 0: all); returns the file's path.
std::string save_run_checkpoint(const std::string& run_dir, const proto::Checkpoint& checkpoint,
                                int keep_last);
// The run's checkpoint files, oldest first.
std::vector<std::string> list_run_checkpoints(const std::string& run_dir);
// The newest checkpoint of the run; nullopt when it has none.
std::optional<std::string> latest_run_checkpoint(const std::string& run_dir);
proto::Checkpoint read_checkpoint(const std::string& path);

// Named tensors to and from the checkpoint's TensorProtos.
void add_tensors(const nn::NamedTensors& tensors,
                 google::protobuf::RepeatedPtrField<proto::TensorProto>* out);
nn::NamedTensors read_tensors(const google::protobuf::RepeatedPtrField<proto::TensorProto>& in,
                              const std::string& context);

}  // namespace osprey::experiments
