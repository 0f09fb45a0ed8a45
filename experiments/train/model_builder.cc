// The trainer's default model builder: the project's model factory.
#include "experiments/train/trainer.h"
#include "framework/core/error.h"

namespace osprey::experiments {

ModelBuilder default_model_builder() {
  return [](const proto::ModelSpec&, random::Generator&) -> std::shared_ptr<nn::Module> {
    OSPREY_THROW(not_found, "no model factory in this build (models/ is not merged yet)");
  };
}

}  // namespace osprey::experiments
