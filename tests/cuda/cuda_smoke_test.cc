#include <gtest/gtest.h>

#include "tests/support/op_test_support.h"

namespace osprey {
namespace {

TEST(Cuda, DeviceCountIsConsistent) {
  OSPREY_SKIP_WITHOUT_GPU();
  EXPECT_GT(cuda_device_count(), 0);
}

}  // namespace
}  // namespace osprey
