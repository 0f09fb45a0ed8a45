// The CUDA backend through the device-independent API: copies both ways (dtypes, layouts,
// sizes past one staging chunk), device-to-device copies and the caching allocator's statistics.
#include <gtest/gtest.h>

#include "framework/core/backend.h"
#include "framework/core/tensor.h"
#include "tests/support/op_test_support.h"

namespace osprey {
namespace {

TEST(CudaBackend, RoundTripsEveryDtype) {
  OSPREY_SKIP_WITHOUT_GPU();
  std::vector<double> values = {0.0, 1.0, -2.0, 3.0, 4.0, -5.0};
  for (DType dtype : {DType::f32, DType::f64, DType::f16, DType::bf16, DType::i32, DType::i64}) {
    Tensor host = Tensor::from_vector(values, {2, 3}).to(dtype);
    Tensor device = host.to(Device::cuda());
    EXPECT_TRUE(device.device().is_cuda());
    EXPECT_EQ(device.to_vector<double>(), host.to_vector<double>()) << dtype_name(dtype);
  }
}

TEST(CudaBackend, NonContiguousAndDeviceToDeviceCopies) {
  OSPREY_SKIP_WITHOUT_GPU();
  std::vector<float> values(12);
  for (int i = 0; i < 12; ++i) values[i] = static_cast<float>(i);
  Tensor host = Tensor::from_vector(values, {3, 4});
  Tensor device = host.to(Device::cuda());
  Tensor transposed = device.transpose(0, 1);
  EXPECT_EQ(transposed.to_vector<float>(), host.transpose(0, 1).to_vector<float>());
  Tensor copy = device.to(Device::cuda(cuda_device_count() - 1));
  EXPECT_EQ(copy.to_vector<float>(), values);
  Tensor target = Tensor::empty({3, 4}, DType::f32, Device::cuda());
  target.copy_(host);  // host -> device into an existing tensor
  EXPECT_EQ(target.to_vector<float>(), values);
}

TEST(CudaBackend, AllocatorReusesFreedMemory) {
  OSPREY_SKIP_WITHOUT_GPU();
  Backend& cuda = backend(DeviceType::cuda);
  Device device = Device::cuda();
  { Tensor warm = Tensor::empty({1 << 18}, DType::f32, device); }
  MemoryStats before = cuda.memory_stats(device);
  {
    Tensor t = Tensor::empty({1 << 18}, DType::f32, device);  // 1 MiB: the cached block
    MemoryStats during = cuda.memory_stats(device);
    EXPECT_EQ(during.allocated - before.allocated, 1 << 20);
    EXPECT_EQ(during.num_device_allocs, before.num_device_allocs);
    EXPECT_EQ(during.num_cache_hits, before.num_cache_hits + 1);
    EXPECT_GE(during.peak_allocated, during.allocated);
  }
  EXPECT_EQ(cuda.memory_stats(device).allocated, before.allocated);
}

TEST(CudaBackend, EmptyCacheReturnsFreeSegments) {
  OSPREY_SKIP_WITHOUT_GPU();
  Backend& cuda = backend(DeviceType::cuda);
  Device device = Device::cuda();
  {
    Tensor big = Tensor::empty({64 << 20}, DType::f32, device);  // 256 MiB, its own segment
  }
  MemoryStats cached = cuda.memory_stats(device);
  EXPECT_GE(cached.reserved - cached.allocated, int64_t{256} << 20);
  cuda.empty_cache(device);
  MemoryStats emptied = cuda.memory_stats(device);
  EXPECT_LE(emptied.reserved, cached.reserved - (int64_t{256} << 20));
  EXPECT_GT(emptied.num_device_frees, cached.num_device_frees);
  cuda.reset_peak_stats(device);
  EXPECT_EQ(cuda.memory_stats(device).peak_allocated, emptied.allocated);
}

TEST(CudaBackend, UnknownDeviceIsAnError) {
  OSPREY_SKIP_WITHOUT_GPU();
  EXPECT_THROW(Tensor::empty({4}, DType::f32, Device::cuda(cuda_device_count())), Error);
}

}  // namespace
}  // namespace osprey
