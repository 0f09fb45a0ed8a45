// Checkpoint files: tensors of every dtype and layout round-trip, large payloads, the integrity
// header's errors (other format, truncated, corrupted), atomic replacement under injected write
// failures, keep-last-N rotation and the `latest` pointer.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "framework/core/error.h"
#include "framework/io/atomic_file.h"
#include "framework/io/checkpoint.h"
#include "framework/io/tensor_proto.h"
#include "temp_dir.h"

namespace osprey::io {
namespace {

namespace fs = std::filesystem;
using experiments::testing::TempDirTest;

template <typename T>
Tensor iota(const Shape& shape) {
  std::vector<T> values(static_cast<size_t>(shape_numel(shape)));
  for (size_t i = 0; i < values.size(); ++i) {
    if constexpr (std::is_same_v<T, bool>) {
      values[i] = i % 3 == 0;
    } else {
      values[i] = static_cast<T>(static_cast<float>(i % 200) * 0.5f - 7.0f);
    }
  }
  return Tensor::from_vector<T>(values, shape);
}

NamedTensorList every_dtype() {
  return {{"f32", iota<float>({2, 3})},
          {"f64", iota<double>({4})},
          {"f16", iota<Half>({3, 2})},
          {"bf16", iota<BFloat16>({2, 2, 2})},
          {"i32", iota<int32_t>({5})},
          {"i64", iota<int64_t>({1, 3})},
          {"u8", iota<uint8_t>({7})},
          {"bool", iota<bool>({2, 5})},
          {"scalar", Tensor::scalar<float>(2.5f)},
          {"empty", iota<float>({0, 3})}};
}

void expect_same(const NamedTensorList& a, const NamedTensorList& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].first, b[i].first);
    EXPECT_EQ(a[i].second.dtype(), b[i].second.dtype()) << a[i].first;
    EXPECT_EQ(a[i].second.shape(), b[i].second.shape()) << a[i].first;
    EXPECT_TRUE(b[i].second.is_contiguous());
    EXPECT_EQ(a[i].second.to_vector<double>(), b[i].second.to_vector<double>()) << a[i].first;
  }
}

class Checkpoint : public TempDirTest {
 protected:
  void TearDown() override {
    set_atomic_write_hook_for_testing({});
    TempDirTest::TearDown();
  }
  static proto::Checkpoint make(int64_t iteration, const NamedTensorList& tensors = {}) {
    proto::Checkpoint checkpoint;
    checkpoint.set_iteration(iteration);
    checkpoint.mutable_spec()->set_name("run");
    add_tensor_protos(tensors, checkpoint.mutable_model());
    (*checkpoint.mutable_rng_state())["default"] = "5:12";
    checkpoint.mutable_data_position()->set_epoch(2);
    return checkpoint;
  }
  static std::string bytes_of(const std::string& file) { return read_file(file); }
  void overwrite(const std::string& file, const std::string& bytes) {
    std::ofstream(file, std::ios::binary | std::ios::trunc) << bytes;
  }
  std::string load_error(const std::string& file) {
    return OSPREY_ERROR_MESSAGE(read_checkpoint(file));
  }
};

TEST_F(Checkpoint, TensorProtoRoundTripsEveryDtype) {
  NamedTensorList tensors = every_dtype();
  google::protobuf::RepeatedPtrField<proto::TensorProto> protos;
  add_tensor_protos(tensors, &protos);
  EXPECT_EQ(protos.Get(0).dtype(), proto::F32);
  EXPECT_EQ(protos.Get(3).dtype(), proto::BF16);
  EXPECT_EQ(protos.Get(7).dtype(), proto::BOOL);
  EXPECT_EQ(protos.Get(0).data().size(), 6u * 4u);
  expect_same(tensors, tensors_from_protos(protos));
}

TEST_F(Checkpoint, NonContiguousTensorsAreStoredRowMajor) {
  Tensor t = iota<float>({3, 4}).transpose(0, 1);
  Tensor back = from_tensor_proto(to_tensor_proto("t", t));
  EXPECT_EQ(back.shape(), (Shape{4, 3}));
  EXPECT_EQ(back.to_vector<float>(), t.to_vector<float>());
}

TEST_F(Checkpoint, BadTensorRecordsAreErrorsNamingTheTensor) {
  proto::TensorProto t = to_tensor_proto("w", iota<float>({2, 2}));
  t.mutable_data()->pop_back();
  std::string message = OSPREY_ERROR_MESSAGE(from_tensor_proto(t, "ck.ckpt"));
  EXPECT_CONTAINS(message, "ck.ckpt: tensor 'w': shape [2, 2] of f32 needs 16 bytes");
  google::protobuf::RepeatedPtrField<proto::TensorProto> twice;
  *twice.Add() = to_tensor_proto("w", iota<float>({1}));
  *twice.Add() = to_tensor_proto("w", iota<float>({1}));
  EXPECT_CONTAINS(OSPREY_ERROR_MESSAGE(tensors_from_protos(twice)), "'w': appears twice");
}

TEST_F(Checkpoint, FileRoundTripKeepsEveryField) {
  const std::string file = path("a.ckpt");
  write_checkpoint(file, make(42, every_dtype()));
  proto::Checkpoint back = read_checkpoint(file);
  EXPECT_EQ(back.iteration(), 42);
  EXPECT_EQ(back.spec().name(), "run");
  EXPECT_EQ(back.rng_state().at("default"), "5:12");
  EXPECT_EQ(back.data_position().epoch(), 2);
  expect_same(every_dtype(), tensors_from_protos(back.model(), file));
  const std::string bytes = bytes_of(file);
  EXPECT_EQ(bytes.substr(0, 8), "OSPREYCK");
}

TEST_F(Checkpoint, LargePayloadRoundTrips) {
  // 64 MiB of f32 values.
  Tensor big = Tensor::empty({16, 1024, 1024}, DType::f32);
  float* data = static_cast<float*>(big.raw_data());
  for (int64_t i = 0; i < big.numel(); ++i) data[i] = static_cast<float>(i % 100003);
  const std::string file = path("big.ckpt");
  write_checkpoint(file, make(1, {{"big", big}}));
  EXPECT_GT(fs::file_size(file), 64u << 20);
  proto::Checkpoint back = read_checkpoint(file);
  Tensor t = from_tensor_proto(back.model(0));
  ASSERT_EQ(t.shape(), big.shape());
  EXPECT_EQ(std::memcmp(t.raw_data(), big.raw_data(), big.nbytes()), 0);
}

TEST_F(Checkpoint, OtherFormatTruncatedAndCorruptFilesAreClearErrors) {
  const std::string file = path("c.ckpt");
  write_checkpoint(file, make(3, every_dtype()));
  const std::string good = bytes_of(file);

  overwrite(file, "name: 'a spec, not a checkpoint'\n");
  std::string message = load_error(file);
  EXPECT_CONTAINS(message, file);
  EXPECT_CONTAINS(message, "not an Osprey checkpoint");

  overwrite(file, "");
  EXPECT_CONTAINS(load_error(file), "not an Osprey checkpoint");

  overwrite(file, good.substr(0, 12));
  EXPECT_CONTAINS(load_error(file), "truncated checkpoint: 12 bytes, shorter than the 24-byte");

  overwrite(file, good.substr(0, good.size() - 10));
  message = load_error(file);
  EXPECT_CONTAINS(message, file + ": truncated checkpoint: the header announces");

  overwrite(file, good + "xx");
  EXPECT_CONTAINS(load_error(file), "corrupt checkpoint: 2 bytes after the");

  std::string flipped = good;
  flipped[good.size() / 2] ^= 0x10;
  overwrite(file, flipped);
  message = load_error(file);
  EXPECT_CONTAINS(message, file + ": corrupt checkpoint: CRC-32 of the payload is");

  std::string versioned = good;
  versioned[8] = 9;
  overwrite(file, versioned);
  EXPECT_CONTAINS(load_error(file), "container version 9 is not supported");

  EXPECT_CONTAINS(load_error(path("missing.ckpt")), "missing.ckpt: cannot open");
}

TEST_F(Checkpoint, FailedWriteNeverReplacesAGoodCheckpoint) {
  const std::string file = path("keep.ckpt");
  write_checkpoint(file, make(1, {{"w", iota<float>({4})}}));
  const std::string good = bytes_of(file);
  for (const char* step : {"write", "fsync", "rename"}) {
    set_atomic_write_hook_for_testing([step](std::string_view at, const std::string&) {
      if (at == step) OSPREY_THROW(io, "injected failure at {}", at);
    });
    EXPECT_CONTAINS(OSPREY_ERROR_MESSAGE(write_checkpoint(file, make(2, every_dtype()))),
                    "injected failure");
    EXPECT_EQ(bytes_of(file), good) << step;
    // The temporary file is gone too.
    int entries = 0;
    for (const auto& entry : fs::directory_iterator(dir_)) {
      (void)entry;
      ++entries;
    }
    EXPECT_EQ(entries, 1) << step;
  }
  set_atomic_write_hook_for_testing({});
  EXPECT_EQ(read_checkpoint(file).iteration(), 1);
}

TEST_F(Checkpoint, FailedWriteHalfWayLeavesNoPartialFile) {
  const std::string file = path("keep.ckpt");
  write_checkpoint(file, make(1));
  const std::string good = bytes_of(file);
  // Simulates a crash after part of the data reached the temporary file.
  set_atomic_write_hook_for_testing([](std::string_view at, const std::string& temp) {
    if (at == "fsync") {
      EXPECT_GT(fs::file_size(temp), 0u);
      OSPREY_THROW(io, "disk full");
    }
  });
  EXPECT_THROW(write_checkpoint(file, make(2, every_dtype())), Error);
  EXPECT_EQ(bytes_of(file), good);
}

TEST_F(Checkpoint, UnwritableDirectoryIsAnErrorNamingThePath) {
  const std::string file = path("no/such/dir/x.ckpt");
  std::string message = OSPREY_ERROR_MESSAGE(write_checkpoint(file, make(1)));
  EXPECT_CONTAINS(message, file);
  EXPECT_CONTAINS(message, "cannot create the temporary file");
}

TEST_F(Checkpoint, RunDirectoryKeepsTheLastNAndPointsAtTheNewest) {
  const std::string run = path("run");
  EXPECT_FALSE(find_latest_checkpoint(run).has_value());
  for (int64_t iteration : {100, 200, 300, 1000}) {
    std::string written = save_run_checkpoint(run, make(iteration), 2);
    EXPECT_EQ(written, (fs::path(run) / checkpoint_file_name(iteration)).string());
    EXPECT_EQ(find_latest_checkpoint(run), written);
  }
  std::vector<std::string> left = list_run_checkpoints(run);
  ASSERT_EQ(left.size(), 2u);  // numeric order: 300 before 1000
  EXPECT_EQ(fs::path(left[0]).filename(), "checkpoint_iter_300.ckpt");
  EXPECT_EQ(fs::path(left[1]).filename(), "checkpoint_iter_1000.ckpt");
  EXPECT_EQ(bytes_of(run + "/latest"), "checkpoint_iter_1000.ckpt\n");
  EXPECT_EQ(read_checkpoint(*find_latest_checkpoint(run)).iteration(), 1000);
}

TEST_F(Checkpoint, LatestFallsBackToTheHighestIteration) {
  const std::string run = path("run");
  save_run_checkpoint(run, make(5), 0);
  save_run_checkpoint(run, make(40), 0);
  save_run_checkpoint(run, make(7), 0);  // keep_last 0 keeps all
  EXPECT_EQ(list_run_checkpoints(run).size(), 3u);
  EXPECT_EQ(fs::path(*find_latest_checkpoint(run)).filename(), "checkpoint_iter_7.ckpt");
  fs::remove(run + "/latest");
  // Temporary and unrelated files are ignored.
  std::ofstream(run + "/checkpoint_iter_90.ckpt.tmp123.0") << "partial";
  std::ofstream(run + "/notes.txt") << "x";
  EXPECT_EQ(fs::path(*find_latest_checkpoint(run)).filename(), "checkpoint_iter_40.ckpt");
}

}  // namespace
}  // namespace osprey::io
