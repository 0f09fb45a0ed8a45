#include <google/protobuf/text_format.h>
#include <gtest/gtest.h>

#include "experiments/proto/osprey.pb.h"

namespace osprey::experiments {
namespace {

// The schema's documented defaults are what the trainer relies on when a spec leaves a field out.
TEST(ProtoSchema, DefaultsAndTextFormat) {
  proto::Experiment spec;
  ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(
      "name: 'x' model { backbone { preset: 'resnet20' deformable { stage: 'stage3' } } }", &spec));
  EXPECT_EQ(spec.seed(), 1u);
  EXPECT_EQ(spec.solver().base_lr(), 0.1);
  EXPECT_EQ(spec.model().backbone().deformable(0).version(), proto::DCN_V2);
  EXPECT_EQ(spec.model().backbone().deformable(0).boundary(), "torchvision");
  EXPECT_FALSE(spec.has_output_dir());
}

}  // namespace
}  // namespace osprey::experiments
