// The CUDA context: error checks (these run without a GPU), devices, streams, events, handles.
#include "framework/cuda/context.h"

#include <gtest/gtest.h>

#include <vector>

#include "framework/cuda/memory.h"
#include "framework/dispatch/registry.h"
#include "tests/support/op_test_support.h"

namespace osprey::cuda {
namespace {

TEST(CudaCheck, ThrowsCudaErrorWithCallTextAndLocation) {
  try {
    OSPREY_CUDA_CHECK(cudaErrorInvalidValue);
    FAIL() << "expected a throw";
  } catch (const Error& e) {
    std::string what = e.what();
    EXPECT_EQ(e.kind(), ErrorKind::cuda);
    EXPECT_NE(what.find("cudaErrorInvalidValue"), std::string::npos) << what;
    EXPECT_NE(what.find("context_test.cc:"), std::string::npos) << what;
  }
}

TEST(CudaCheck, CublasAndCudnnVariantsThrow) {
  try {
    OSPREY_CUBLAS_CHECK(CUBLAS_STATUS_INVALID_VALUE);
    FAIL() << "expected a throw";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::cuda);
    EXPECT_NE(std::string(e.what()).find("CUBLAS_STATUS_INVALID_VALUE"), std::string::npos)
        << e.what();
  }
  try {
    OSPREY_CUDNN_CHECK(CUDNN_STATUS_BAD_PARAM);
    FAIL() << "expected a throw";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::cuda);
    EXPECT_NE(std::string(e.what()).find("CUDNN_STATUS_BAD_PARAM"), std::string::npos) << e.what();
  }
}

TEST(CudaContext, DeviceCountAgreesWithBackend) {
  EXPECT_EQ(device_count(), cuda_device_count());
  EXPECT_GE(device_count(), 0);
}

TEST(CudaContext, DeviceGuardRestoresDevice) {
  OSPREY_SKIP_WITHOUT_GPU();
  int before = current_device();
  {
    DeviceGuard guard(device_count() - 1);
    EXPECT_EQ(current_device(), device_count() - 1);
  }
  EXPECT_EQ(current_device(), before);
  EXPECT_THROW({ DeviceGuard guard(device_count()); }, Error);
}

TEST(CudaContext, StreamGuardSwitchesCurrentStream) {
  OSPREY_SKIP_WITHOUT_GPU();
  cudaStream_t original = current_stream();
  Stream stream;
  {
    StreamGuard guard(stream.get());
    EXPECT_EQ(current_stream(), stream.get());
    // Tensors made here are allocated for, and filled on, this stream.
    Tensor t = Tensor::empty({1024}, DType::f32, Device::cuda());
    t.fill_(3.0);
    stream.synchronize();
    EXPECT_TRUE(stream.query());
    EXPECT_EQ(t.to_vector<float>()[1023], 3.0f);
  }
  EXPECT_EQ(current_stream(), original);
}

TEST(CudaContext, EventsOrderStreamsAndTime) {
  OSPREY_SKIP_WITHOUT_GPU();
  Stream producer, consumer;
  Tensor t = Tensor::empty({1 << 20}, DType::f32, Device::cuda());
  Event start(true), done(true);
  {
    StreamGuard guard(producer.get());
    start.record();
    t.fill_(1.5);
    done.record();
  }
  done.wait(consumer.get());
  Tensor host;
  {
    StreamGuard guard(consumer.get());
    host = t.cpu();
  }
  EXPECT_EQ(host.to_vector<float>()[12345], 1.5f);
  done.synchronize();
  EXPECT_TRUE(done.query());
  EXPECT_GE(start.elapsed_ms(done), 0.0f);
}

TEST(CudaContext, HandlesFollowCurrentStreamAndTf32Switch) {
  OSPREY_SKIP_WITHOUT_GPU();
  Stream stream;
  StreamGuard guard(stream.get());
  cublasHandle_t blas = cublas_handle();
  cudaStream_t bound = nullptr;
  OSPREY_CUBLAS_CHECK(cublasGetStream(blas, &bound));
  EXPECT_EQ(bound, stream.get());
  set_allow_tf32(true);
  cublasMath_t mode;
  OSPREY_CUBLAS_CHECK(cublasGetMathMode(cublas_handle(), &mode));
  EXPECT_EQ(mode, CUBLAS_TF32_TENSOR_OP_MATH);
  set_allow_tf32(false);
  OSPREY_CUBLAS_CHECK(cublasGetMathMode(cublas_handle(), &mode));
  EXPECT_EQ(mode, CUBLAS_DEFAULT_MATH);
  cudnnHandle_t dnn = cudnn_handle();
  cudaStream_t dnn_stream = nullptr;
  OSPREY_CUDNN_CHECK(cudnnGetStream(dnn, &dnn_stream));
  EXPECT_EQ(dnn_stream, stream.get());
}

TEST(CudaContext, Tf32SwitchGovernsMatmulPrecision) {
  OSPREY_SKIP_WITHOUT_GPU();
  if (!dispatch::Registry::instance().has_op("matmul")) GTEST_SKIP() << "no matmul op";
  std::vector<float> values(256 * 256);
  for (size_t i = 0; i < values.size(); ++i) values[i] = 1.0f + static_cast<float>(i % 7) / 3.0f;
  Tensor a = Tensor::from_vector(values, {256, 256});
  Tensor expected = dispatch::call1("matmul", {a, a});
  Tensor gpu = a.to(Device::cuda());
  set_allow_tf32(false);
  Tensor exact = dispatch::call1("matmul", {gpu, gpu});
  EXPECT_TRUE(testing::compare(exact, expected, {1e-3, 1e-5}).empty());
  set_allow_tf32(true);
  Tensor fast = dispatch::call1("matmul", {gpu, gpu});
  set_allow_tf32(false);
  // TF32 keeps 10 mantissa bits: close, but not to f32 precision.
  EXPECT_TRUE(testing::compare(fast, expected, {1e-1, 5e-3}).empty());
}

TEST(CudaMemory, LargeCopiesGoThroughStagingChunks) {
  OSPREY_SKIP_WITHOUT_GPU();
  std::vector<float> values(40u << 20 >> 2);  // 40 MiB: three staging chunks
  for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<float>(i % 9973);
  Tensor device =
      Tensor::from_vector(values, {static_cast<int64_t>(values.size())}, Device::cuda());
  EXPECT_EQ(device.to_vector<float>(), values);
  EXPECT_GT(staging_bytes(), 0u);
}

TEST(CudaMemory, LaunchCheckReportsNoErrorAfterGoodKernels) {
  OSPREY_SKIP_WITHOUT_GPU();
  Tensor t = Tensor::empty({10}, DType::f32, Device::cuda());
  t.fill_(0.0);
  EXPECT_NO_THROW(OSPREY_CUDA_LAUNCH_CHECK());
}

}  // namespace
}  // namespace osprey::cuda
