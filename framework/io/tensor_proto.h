// Tensors in the schema's TensorProto: name, dtype, shape and the contiguous row-major values as
// little-endian bytes. Any layout and device is accepted on the way in (the values are gathered
// into a contiguous CPU copy); tensors come back contiguous on the CPU.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "experiments/proto/osprey.pb.h"
#include "framework/core/tensor.h"

namespace osprey::io {

using NamedTensorList = std::vector<std::pair<std::string, Tensor>>;

proto::TensorDType to_proto_dtype(DType dtype);
DType from_proto_dtype(proto::TensorDType dtype);

proto::TensorProto to_tensor_proto(const std::string& name, const Tensor& tensor);
// Checks the dtype, the shape and that the byte count fits them; errors name the tensor and
// `context` (usually the file it came from).
Tensor from_tensor_proto(const proto::TensorProto& tensor, const std::string& context = "");

void add_tensor_protos(const NamedTensorList& tensors,
                       google::protobuf::RepeatedPtrField<proto::TensorProto>* out);
// In the stored order; a name that appears twice is an error.
NamedTensorList tensors_from_protos(
    const google::protobuf::RepeatedPtrField<proto::TensorProto>& tensors,
    const std::string& context = "");

}  // namespace osprey::io
