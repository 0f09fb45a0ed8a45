// The trainer's default model builder: the project's model factory.
#include "experiments/train/trainer.h"
#include "models/model_factory.h"

namespace osprey::experiments {

ModelBuilder default_model_builder() {
  return [](const proto::ModelSpec& spec, random::Generator& generator) {
    return models::build_model(spec, generator);
  };
}

}  // namespace osprey::experiments
