#include "framework/io/tensor_proto.h"

#include <bit>
#include <cstring>
#include <limits>
#include <set>

#include "framework/autograd/grad_mode.h"

namespace osprey::io {
namespace {

static_assert(std::endian::native == std::endian::little,
              "TensorProto bytes are little-endian; a big-endian host would need byte swaps");

std::string where(const std::string& context, const std::string& name) {
  return context.empty() ? fmt::format("tensor '{}'", name)
                         : fmt::format("{}: tensor '{}'", context, name);
}

}  // namespace

proto::TensorDType to_proto_dtype(DType dtype) {
  switch (dtype) {
    case DType::f32:
      return proto::F32;
    case DType::f64:
      return proto::F64;
    case DType::f16:
      return proto::F16;
    case DType::bf16:
      return proto::BF16;
    case DType::i32:
      return proto::I32;
    case DType::i64:
      return proto::I64;
    case DType::u8:
      return proto::U8;
    case DType::boolean:
      return proto::BOOL;
  }
  OSPREY_THROW(dtype, "dtype {} has no TensorProto equivalent", dtype_name(dtype));
}

DType from_proto_dtype(proto::TensorDType dtype) {
  switch (dtype) {
    case proto::F32:
      return DType::f32;
    case proto::F64:
      return DType::f64;
    case proto::F16:
      return DType::f16;
    case proto::BF16:
      return DType::bf16;
    case proto::I32:
      return DType::i32;
    case proto::I64:
      return DType::i64;
    case proto::U8:
      return DType::u8;
    case proto::BOOL:
      return DType::boolean;
  }
  OSPREY_THROW(dtype, "unknown TensorProto dtype {}", static_cast<int>(dtype));
}

proto::TensorProto to_tensor_proto(const std::string& name, const Tensor& tensor) {
  OSPREY_CHECK(tensor.defined(), "to_tensor_proto: tensor '{}' is undefined", name);
  autograd::NoGradGuard no_grad;
  Tensor t = tensor.detach().cpu().contiguous();
  proto::TensorProto out;
  out.set_name(name);
  out.set_dtype(to_proto_dtype(t.dtype()));
  for (int64_t size : t.shape()) out.add_shape(size);
  if (t.nbytes() > 0) out.set_data(static_cast<const char*>(t.raw_data()), t.nbytes());
  return out;
}

Tensor from_tensor_proto(const proto::TensorProto& tensor, const std::string& context) {
  const std::string& name = tensor.name();
  OSPREY_CHECK_KIND(io, tensor.has_dtype() && proto::TensorDType_IsValid(tensor.dtype()),
                    "{}: missing or unknown dtype", where(context, name));
  DType dtype = from_proto_dtype(tensor.dtype());
  Shape shape(tensor.shape().begin(), tensor.shape().end());
  uint64_t numel = 1;
  for (int64_t size : shape) {
    OSPREY_CHECK_KIND(io, size >= 0, "{}: negative size in shape {}", where(context, name),
                      shape_str(shape));
    OSPREY_CHECK_KIND(
        io, size == 0 || numel <= std::numeric_limits<int64_t>::max() / static_cast<uint64_t>(size),
        "{}: shape {} is too large", where(context, name), shape_str(shape));
    numel *= static_cast<uint64_t>(size);
  }
  const uint64_t expected = numel * dtype_size(dtype);
  OSPREY_CHECK_KIND(io, tensor.data().size() == expected,
                    "{}: shape {} of {} needs {} bytes, the record has {}", where(context, name),
                    shape_str(shape), dtype_name(dtype), expected, tensor.data().size());
  Tensor t = Tensor::empty(shape, dtype);
  if (expected > 0) std::memcpy(t.raw_data(), tensor.data().data(), expected);
  if (dtype == DType::boolean) {
    // Any non-zero byte is true; keep the in-memory invariant of 0/1 bytes.
    auto* bytes = static_cast<unsigned char*>(t.raw_data());
    for (uint64_t i = 0; i < numel; ++i) bytes[i] = bytes[i] != 0;
  }
  return t;
}

void add_tensor_protos(const NamedTensorList& tensors,
                       google::protobuf::RepeatedPtrField<proto::TensorProto>* out) {
  out->Reserve(out->size() + static_cast<int>(tensors.size()));
  for (const auto& [name, tensor] : tensors) *out->Add() = to_tensor_proto(name, tensor);
}

NamedTensorList tensors_from_protos(
    const google::protobuf::RepeatedPtrField<proto::TensorProto>& tensors,
    const std::string& context) {
  NamedTensorList out;
  out.reserve(tensors.size());
  std::set<std::string> seen;
  for (const auto& tensor : tensors) {
    OSPREY_CHECK_KIND(io, seen.insert(tensor.name()).second, "{}: appears twice",
                      where(context, tensor.name()));
    out.emplace_back(tensor.name(), from_tensor_proto(tensor, context));
  }
  return out;
}

}  // namespace osprey::io
