// Shared by the trainer tests: a tiny Fashion-MNIST-format dataset written as idx files (each class
// a bright horizontal bar at its own height on a noisy background: a small network learns it in a
// few dozen steps, and a left-right flip or a one-pixel shift keeps the class), a tiny
// convolutional model, and a spec that trains it for seconds.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "experiments/proto/osprey.pb.h"
#include "experiments/train/trainer.h"
#include "framework/nn/nn.h"

namespace osprey::test {

inline void write_big_endian(std::ofstream& out, uint32_t value) {
  unsigned char bytes[4] = {
      static_cast<unsigned char>(value >> 24), static_cast<unsigned char>(value >> 16),
      static_cast<unsigned char>(value >> 8), static_cast<unsigned char>(value)};
  out.write(reinterpret_cast<const char*>(bytes), 4);
}

// Writes `<prefix>-images-idx3-ubyte` and `<prefix>-labels-idx1-ubyte` ("train" or "t10k").
inline void write_idx_split(const std::filesystem::path& dir, const std::string& prefix, int n,
                            uint32_t seed) {
  std::ofstream images(dir / (prefix + "-images-idx3-ubyte"), std::ios::binary);
  std::ofstream labels(dir / (prefix + "-labels-idx1-ubyte"), std::ios::binary);
  write_big_endian(images, 0x803);
  write_big_endian(images, n);
  write_big_endian(images, 28);
  write_big_endian(images, 28);
  write_big_endian(labels, 0x801);
  write_big_endian(labels, n);
  uint32_t state = seed;
  auto next = [&] { return state = state * 1664525u + 1013904223u; };
  for (int i = 0; i < n; ++i) {
    int label = static_cast<int>(next() >> 16) % 10;
    labels.put(static_cast<char>(label));
    int top = 1 + label * 26 / 10;
    for (int y = 0; y < 28; ++y) {
      for (int x = 0; x < 28; ++x) {
        bool on = y >= top && y < top + 3 && x >= 4 && x < 24;
        int value = static_cast<int>(next() >> 26) + (on ? 190 : 20);
        images.put(static_cast<char>(value));
      }
    }
  }
}

inline void write_tiny_fashion_mnist(const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  write_idx_split(dir, "train", 256, 7);
  write_idx_split(dir, "t10k", 96, 11);
}

// conv 3×3/2 (1→8) → BN → ReLU → conv 3×3/2 (8→16) → ReLU → flatten → dropout → linear.
inline experiments::ModelBuilder tiny_model_builder() {
  return [](const proto::ModelSpec& spec, random::Generator& generator) {
    auto model = std::make_shared<nn::Sequential>();
    nn::Conv2dOptions c1;
    c1.in_channels = 1;
    c1.out_channels = 8;
    c1.stride = {2, 2};
    c1.padding = {1, 1};
    model->add(std::make_shared<nn::Conv2d>(c1, generator));
    nn::BatchNormOptions bn;
    bn.num_features = 8;
    model->add(std::make_shared<nn::BatchNorm2d>(bn));
    model->add(std::make_shared<nn::ReLU>());
    nn::Conv2dOptions c2 = c1;
    c2.in_channels = 8;
    c2.out_channels = 16;
    model->add(std::make_shared<nn::Conv2d>(c2, generator));
    model->add(std::make_shared<nn::ReLU>());
    model->add(std::make_shared<nn::Flatten>());
    model->add(std::make_shared<nn::Dropout>(spec.classification_head().dropout(), generator));
    model->add(std::make_shared<nn::Linear>(16 * 7 * 7, 10, true, generator));
    return std::shared_ptr<nn::Module>(model);
  };
}

inline proto::Experiment tiny_spec(const std::filesystem::path& data_dir,
                                   const std::filesystem::path& run_dir) {
  proto::Experiment spec;
  spec.set_name("tiny");
  spec.set_seed(3);
  spec.set_output_dir(run_dir.string());
  spec.mutable_model()->mutable_classification_head()->set_num_classes(10);
  spec.mutable_model()->mutable_classification_head()->set_dropout(0.1);
  for (auto* data : {spec.mutable_train_data(), spec.mutable_test_data()}) {
    data->set_dataset("fashion_mnist");
    data->set_root(data_dir.string());
    data->set_batch_size(16);
    data->mutable_augment()->add_mean(0.2860f);
    data->mutable_augment()->add_std(0.3530f);
  }
  spec.mutable_train_data()->set_split("train");
  spec.mutable_train_data()->set_workers(2);
  spec.mutable_train_data()->mutable_augment()->set_pad(1);
  spec.mutable_train_data()->mutable_augment()->set_random_crop(true);
  spec.mutable_train_data()->mutable_augment()->set_horizontal_flip(true);
  spec.mutable_test_data()->set_split("test");
  spec.mutable_eval()->set_batch_size(40);
  spec.mutable_eval()->set_every_iters(10);
  auto* solver = spec.mutable_solver();
  solver->set_base_lr(0.1);
  solver->set_momentum(0.9);
  solver->set_nesterov(true);
  solver->set_weight_decay(5e-4);
  solver->set_max_iter(40);
  solver->mutable_lr_schedule()->set_policy(proto::COSINE);
  solver->mutable_lr_schedule()->set_warmup_iters(5);
  solver->mutable_lr_schedule()->set_warmup_factor(0.1);
  spec.mutable_checkpoint()->set_every_iters(10);
  spec.mutable_checkpoint()->set_keep_last(2);
  spec.mutable_logging()->set_progress(proto::QUIET);
  return spec;
}

}  // namespace osprey::test
