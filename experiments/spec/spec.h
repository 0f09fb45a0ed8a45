// Experiment specs: protobuf text files (`*.prototxt`) of proto::Experiment.
//
// Loading parses the file with an error collector, so a syntax error or an unknown field reads
// "runs/x.prototxt:12:5: Message type "osprey.proto.SolverSpec" has no field named "base_lrr"."
// A spec may name a base spec (`base: "common.prototxt"`, relative to the spec's directory): the
// base is loaded first (recursively; a cycle is an error showing the chain) and the derived file
// is merged over it with MergeFrom (scalars set in the derived file win, messages merge field by
// field, repeated fields append); the result has no `base`. Then the merged spec is validated
// (experiments/spec/validate.h) and every problem is reported with its field path.
#pragma once

#include <string>

#include "experiments/proto/osprey.pb.h"

namespace osprey::experiments {

// Parses, resolves bases, validates. Errors are value errors (io/not_found for unreadable files).
proto::Experiment load_spec(const std::string& path);
// Parses and resolves bases without semantic validation.
proto::Experiment parse_spec_file(const std::string& path);
// Parses one text without bases; `origin` names it in errors (a file name or "<string>").
proto::Experiment parse_spec_text(const std::string& text, const std::string& origin);

// The spec in text format (with a comment line saying it is resolved).
std::string spec_to_text(const proto::Experiment& spec);
// Writes spec_to_text(spec) to `path` atomically, so the run directory records exactly what ran.
void save_resolved_spec(const proto::Experiment& spec, const std::string& path);

}  // namespace osprey::experiments
