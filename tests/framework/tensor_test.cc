#include <gtest/gtest.h>

#include "framework/core/backend.h"
#include "framework/core/tensor.h"
#include "ops/elementwise/elementwise.h"

namespace osprey {
namespace {

TEST(Tensor, FromVectorAndElementAccess) {
  Tensor t = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3});
  EXPECT_EQ(t.shape(), (Shape{2, 3}));
  EXPECT_EQ(t.strides(), (Shape{3, 1}));
  EXPECT_EQ(t.at<float>({1, 2}), 6.0f);
  EXPECT_EQ(t.dtype(), DType::f32);
  EXPECT_TRUE(t.is_contiguous());
}

TEST(Tensor, ViewsShareStorage) {
  Tensor t = Tensor::from_vector<float>({0, 1, 2, 3, 4, 5}, {2, 3});
  Tensor tt = t.transpose(0, 1);
  EXPECT_EQ(tt.shape(), (Shape{3, 2}));
  EXPECT_FALSE(tt.is_contiguous());
  EXPECT_EQ(tt.at<float>({2, 1}), 5.0f);
  EXPECT_EQ(tt.storage().get(), t.storage().get());
  Tensor row = t.select(0, 1);
  EXPECT_EQ(row.to_vector<float>(), (std::vector<float>{3, 4, 5}));
  Tensor col = t.slice(1, 1, 3);
  EXPECT_EQ(col.to_vector<float>(), (std::vector<float>{1, 2, 4, 5}));
  Tensor flat = tt.contiguous().view({6});
  EXPECT_EQ(flat.to_vector<float>(), (std::vector<float>{0, 3, 1, 4, 2, 5}));
  EXPECT_EQ(t.unsqueeze(0).shape(), (Shape{1, 2, 3}));
  EXPECT_EQ(t.unsqueeze(0).squeeze(0).shape(), (Shape{2, 3}));
  Tensor e = Tensor::from_vector<float>({1, 2}, {2, 1}).expand({2, 3});
  EXPECT_EQ(e.to_vector<float>(), (std::vector<float>{1, 1, 1, 2, 2, 2}));
  EXPECT_EQ(e.strides()[1], 0);
}

TEST(Tensor, ViewOfNonContiguousErrorsButReshapeCopies) {
  Tensor t = Tensor::from_vector<float>({0, 1, 2, 3, 4, 5}, {2, 3}).transpose(0, 1);
  EXPECT_THROW(t.view({6}), Error);
  EXPECT_EQ(t.reshape({6}).to_vector<float>(), (std::vector<float>{0, 3, 1, 4, 2, 5}));
}

TEST(Tensor, ChannelsLast) {
  Tensor t = Tensor::empty({2, 3, 4, 5}, DType::f32, Device::cpu(), MemoryFormat::channels_last);
  EXPECT_EQ(t.strides(), (Shape{60, 1, 15, 3}));
  EXPECT_TRUE(t.is_contiguous(MemoryFormat::channels_last));
  EXPECT_FALSE(t.is_contiguous());
  Tensor x = Tensor::from_vector<float>(std::vector<float>(24, 0), {1, 2, 3, 4});
  for (int i = 0; i < 24; ++i) x.data<float>()[i] = static_cast<float>(i);
  Tensor nhwc = x.contiguous(MemoryFormat::channels_last);
  EXPECT_EQ(nhwc.to_vector<float>(), x.to_vector<float>());  // same logical values
  EXPECT_EQ(nhwc.data<float>()[1], 12.0f);                   // channel 1 of pixel 0 is next
}

TEST(Tensor, CastsRoundTrip) {
  Tensor t = Tensor::from_vector<float>({1.5f, -2.25f, 65504.0f, 1e-8f}, {4});
  EXPECT_EQ(t.to(DType::f16).to(DType::f32).to_vector<float>(),
            (std::vector<float>{1.5f, -2.25f, 65504.0f, 0.0f}));
  EXPECT_EQ(t.to(DType::bf16).to(DType::f32).at<float>({0}), 1.5f);
  EXPECT_EQ(t.to(DType::i32).to_vector<int32_t>(), (std::vector<int32_t>{1, -2, 65504, 0}));
  EXPECT_EQ(Half(1.0f / 3.0f).bits, 0x3555);  // round to nearest even
}

TEST(Tensor, IntegerCastsAreExact) {
  // 2^24 + 1 is the first integer a float cannot hold: no conversion may pass through float.
  Tensor t = Tensor::from_vector<int32_t>({16777217, -16777219}, {2});
  EXPECT_EQ(t.to(DType::i64).to_vector<int64_t>(), (std::vector<int64_t>{16777217, -16777219}));
  EXPECT_EQ(t.to(DType::f64).to_vector<double>(), (std::vector<double>{16777217.0, -16777219.0}));
  Tensor big = Tensor::from_vector<int64_t>({(int64_t{1} << 53) + 2}, {1});
  EXPECT_EQ(big.to(DType::f64).item<double>(), 9007199254740994.0);
}

TEST(Tensor, PrintsReadably) {
  Tensor t = Tensor::from_vector<float>({1, 2, 3, 4}, {2, 2});
  EXPECT_EQ(t.str(), "tensor(f32[2, 2] cpu,\n [[1, 2],\n  [3, 4]])");
}

TEST(Tensor, Errors) {
  Tensor a = Tensor::from_vector<float>({1, 2, 3}, {3});
  Tensor b = Tensor::from_vector<float>({1, 2}, {2});
  try {
    (void)(a + b);
    FAIL() << "expected a shape error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::shape);
    EXPECT_NE(std::string(e.what()).find("in op 'add'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("f32[3] cpu"), std::string::npos) << e.what();
  }
  EXPECT_THROW(a.at<float>({3}), Error);
  EXPECT_THROW(a.view({4}), Error);
  if (cuda_available()) {
    EXPECT_EQ(a.to(Device::cuda(0)).cpu().to_vector<float>(), a.to_vector<float>());
  } else {
    EXPECT_THROW(a.to(Device::cuda(0)), Error);  // no backend, or no device: a device error
  }
}

}  // namespace
}  // namespace osprey
