#include "experiments/train/run_files.h"

#include <google/protobuf/text_format.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "framework/core/error.h"

namespace osprey::experiments {
namespace {

namespace fs = std::filesystem;

constexpr const char* kSpecFile = "spec.prototxt";
constexpr const char* kLatestFile = "latest_checkpoint";

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  OSPREY_CHECK_KIND(io, in.good(), "cannot read {}", path.string());
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// Writes beside the target and renames over it, so a reader (or a kill) never sees half a file.
void write_atomically(const fs::path& path, const std::string& bytes) {
  fs::path temporary = path;
  temporary += ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.flush();
    OSPREY_CHECK_KIND(io, out.good(), "cannot write {}", temporary.string());
  }
  fs::rename(temporary, path);
}

std::string checkpoint_name(int64_t iteration) {
  return fmt::format("checkpoint_{:08}.ckpt", iteration);
}

proto::TensorDType to_proto(DType dtype) {
  switch (dtype) {
    case DType::f32:
      return proto::F32;
    case DType::f64:
      return proto::F64;
    case DType::i64:
      return proto::I64;
    case DType::i32:
      return proto::I32;
    case DType::u8:
      return proto::U8;
    default:
      break;
  }
  OSPREY_THROW(dtype, "checkpoint: tensors of dtype {} cannot be stored", dtype_name(dtype));
}

DType from_proto(proto::TensorDType dtype) {
  switch (dtype) {
    case proto::F32:
      return DType::f32;
    case proto::F64:
      return DType::f64;
    case proto::I64:
      return DType::i64;
    case proto::I32:
      return DType::i32;
    case proto::U8:
      return DType::u8;
    default:
      break;
  }
  OSPREY_THROW(dtype, "checkpoint: unsupported stored dtype {}", static_cast<int>(dtype));
}

}  // namespace

std::string run_dir_of(const proto::Experiment& spec) {
  if (spec.has_output_dir() && !spec.output_dir().empty()) return spec.output_dir();
  return (fs::path("runs") / (spec.name().empty() ? "run" : spec.name())).string();
}

proto::Experiment load_spec_file(const std::string& path) {
  OSPREY_CHECK_KIND(io, fs::exists(path), "spec {} does not exist", path);
  proto::Experiment spec;
  OSPREY_CHECK_KIND(io, google::protobuf::TextFormat::ParseFromString(read_text(path), &spec),
                    "{}: not a valid spec (see the parser's message above)", path);
  if (!spec.has_base()) return spec;
  proto::Experiment merged = load_spec_file((fs::path(path).parent_path() / spec.base()).string());
  merged.MergeFrom(spec);
  merged.clear_base();
  return merged;
}

void save_run_spec(const proto::Experiment& spec, const std::string& run_dir) {
  std::string text;
  google::protobuf::TextFormat::PrintToString(spec, &text);
  fs::create_directories(run_dir);
  write_atomically(fs::path(run_dir) / kSpecFile,
                   "# The resolved spec of this run (bases merged, overrides applied).\n" + text);
}

proto::Experiment load_run_spec(const std::string& run_dir) {
  fs::path path = fs::path(run_dir) / kSpecFile;
  OSPREY_CHECK_KIND(io, fs::exists(path), "{} is not a run directory: it has no {}", run_dir,
                    kSpecFile);
  proto::Experiment spec;
  OSPREY_CHECK_KIND(io, google::protobuf::TextFormat::ParseFromString(read_text(path), &spec),
                    "{}: not a valid spec", path.string());
  return spec;
}

std::string save_run_checkpoint(const std::string& run_dir, const proto::Checkpoint& checkpoint,
                                int keep_last) {
  fs::path dir = fs::path(run_dir) / "checkpoints";
  fs::create_directories(dir);
  fs::path path = dir / checkpoint_name(checkpoint.iteration());
  std::string bytes;
  OSPREY_CHECK_KIND(io, checkpoint.SerializeToString(&bytes),
                    "cannot serialise the checkpoint of iteration {}", checkpoint.iteration());
  write_atomically(path, bytes);
  write_atomically(fs::path(run_dir) / kLatestFile, path.filename().string() + "\n");
  if (keep_last > 0) {
    std::set<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir)) {
      std::string name = entry.path().filename().string();
      if (name.starts_with("checkpoint_") && name.ends_with(".ckpt")) names.insert(name);
    }
    // Zero-padded iterations sort as numbers.
    while (static_cast<int>(names.size()) > keep_last) {
      fs::remove(dir / *names.begin());
      names.erase(names.begin());
    }
  }
  return path.string();
}

std::vector<std::string> list_run_checkpoints(const std::string& run_dir) {
  std::vector<std::string> paths;
  fs::path dir = fs::path(run_dir) / "checkpoints";
  if (!fs::exists(dir)) return paths;
  for (const auto& entry : fs::directory_iterator(dir)) paths.push_back(entry.path().string());
  std::sort(paths.begin(), paths.end());
  return paths;
}

std::optional<std::string> latest_run_checkpoint(const std::string& run_dir) {
  fs::path pointer = fs::path(run_dir) / kLatestFile;
  if (!fs::exists(pointer)) return std::nullopt;
  std::string name = read_text(pointer);
  while (!name.empty() && (name.back() == '\n' || name.back() == ' ')) name.pop_back();
  fs::path path = fs::path(run_dir) / "checkpoints" / name;
  OSPREY_CHECK_KIND(io, fs::exists(path), "{} names {}, which does not exist", pointer.string(),
                    path.string());
  return path.string();
}

proto::Checkpoint read_checkpoint(const std::string& path) {
  proto::Checkpoint checkpoint;
  OSPREY_CHECK_KIND(io, checkpoint.ParseFromString(read_text(path)),
                    "{}: not a valid checkpoint file", path);
  return checkpoint;
}

void add_tensors(const nn::NamedTensors& tensors,
                 google::protobuf::RepeatedPtrField<proto::TensorProto>* out) {
  for (const auto& [name, tensor] : tensors) {
    Tensor host = tensor.detach().to(Device::cpu()).contiguous();
    proto::TensorProto* t = out->Add();
    t->set_name(name);
    t->set_dtype(to_proto(host.dtype()));
    for (int64_t size : host.shape()) t->add_shape(size);
    t->set_data(static_cast<const char*>(host.raw_data()), host.nbytes());
  }
}

nn::NamedTensors read_tensors(const google::protobuf::RepeatedPtrField<proto::TensorProto>& in,
                              const std::string& context) {
  nn::NamedTensors tensors;
  for (const auto& t : in) {
    Shape shape(t.shape().begin(), t.shape().end());
    Tensor tensor = Tensor::empty(shape, from_proto(t.dtype()));
    OSPREY_CHECK_KIND(io, t.data().size() == tensor.nbytes(),
                      "{}: tensor '{}' holds {} bytes, its shape needs {}", context, t.name(),
                      t.data().size(), tensor.nbytes());
    std::memcpy(tensor.raw_data(), t.data().data(), tensor.nbytes());
    tensors.emplace_back(t.name(), tensor);
  }
  return tensors;
}

}  // namespace osprey::experiments
