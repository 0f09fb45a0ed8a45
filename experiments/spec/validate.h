// Semantic checks of a resolved spec, beyond what the schema's types enforce: positive sizes and
// rates, a training length, the fields each lr policy needs, well-formed transfer rules and kernel
// overrides that name existing ops and kernels. Every problem is reported with its field path
// ("solver.base_lr: must be > 0 (got -0.1)"), all of them at once.
//
// Checks that need a model (stage names, preset names …) belong to whoever builds models: they
// register a validator here, and every validate_spec call runs it.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "experiments/proto/osprey.pb.h"

namespace osprey::experiments {

// The problems of a spec, each "field.path: message"; empty when the spec is sound.
std::vector<std::string> spec_problems(const proto::Experiment& spec);
// Throws a value error "<origin>: invalid spec:" followed by every problem, one per line.
void validate_spec(const proto::Experiment& spec, const std::string& origin);

// An extra check: appends "field.path: message" lines to `problems`.
using SpecValidator =
    std::function<void(const proto::Experiment& spec, std::vector<std::string>& problems)>;
// Returns an id for remove_spec_validator.
int add_spec_validator(SpecValidator validator);
void remove_spec_validator(int id);

}  // namespace osprey::experiments
