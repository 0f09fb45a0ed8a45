// The residual blocks of a ResNet and their shortcut.
//
// Post-activation (He et al. 2016a, torchvision):
//   BasicBlock:      y = relu(bn2(conv2(relu(bn1(conv1(x))))) + s(x))
//   BottleneckBlock: y = relu(bn3(conv3(relu(bn2(conv2(relu(bn1(conv1(x)))))))) + s(x))
//   with conv1 1×1, conv2 3×3 carrying the stride ("ResNet v1.5", as torchvision and MXNet), conv3
//   1×1 to 4·width; s = identity, or shortcut.conv (1×1, stride) + shortcut.bn when the shape
//   changes (projection, "option B", also for CIFAR nets — see resnet_presets.h).
// Pre-activation (He et al. 2016b, MXNet ResNet v2 as SNIPER's resnet_mx_101):
//   a = relu(bn1(x)),  BasicBlock: r = conv2(relu(bn2(conv1(a))))
//                      BottleneckBlock: r = conv3(relu(bn3(conv2(relu(bn2(conv1(a)))))))
//   y = r + s, s = x (identity) or shortcut.conv(a) (1×1 projection of the pre-activated input,
//   no norm, as MXNet's `_sc` conv).
// Names: conv1, bn1, conv2, bn2, (conv3, bn3), shortcut.conv, shortcut.bn. conv2 is the 3×3 conv
// that becomes a DeformConv2d in deformable stages (the second 3×3 in a BasicBlock, so that its
// offsets are predicted at the block's output resolution).
#pragma once

#include <memory>

#include "framework/nn/module.h"
#include "models/backbones/block_options.h"

namespace osprey::models {

// Projection shortcut: conv (1×1, stride) and, post-activation only, bn.
class Shortcut : public nn::Module {
 public:
  explicit Shortcut(const BlockOptions& options);
  Tensor forward(const Tensor& input) override;
  std::string describe() const override { return "Shortcut"; }

 private:
  std::shared_ptr<nn::Module> conv_;
  std::shared_ptr<nn::Module> bn_;
};

class ResidualBlock : public nn::Module {
 public:
  // Makes the block's residual branch start at zero (see ResNetOptions::zero_init_residual).
  virtual void zero_init_residual() = 0;

 protected:
  explicit ResidualBlock(const BlockOptions& options);
  // Registers "shortcut" when the block changes the shape; call after the branch's layers so
  // names come in forward order.
  void add_shortcut();
  // The shortcut's value given the block input and, pre-activation, relu(bn1(input)).
  Tensor shortcut(const Tensor& input, const Tensor& activated) const;

  BlockOptions options_;
  std::shared_ptr<Shortcut> shortcut_;
};

class BasicBlock : public ResidualBlock {
 public:
  explicit BasicBlock(const BlockOptions& options);
  Tensor forward(const Tensor& input) override;
  std::string describe() const override;
  void zero_init_residual() override;

 private:
  std::shared_ptr<nn::Module> conv1_, bn1_, conv2_, bn2_;
};

class BottleneckBlock : public ResidualBlock {
 public:
  static constexpr int64_t kExpansion = 4;
  explicit BottleneckBlock(const BlockOptions& options);
  Tensor forward(const Tensor& input) override;
  std::string describe() const override;
  void zero_init_residual() override;

 private:
  std::shared_ptr<nn::Module> conv1_, bn1_, conv2_, bn2_, conv3_, bn3_;
};

}  // namespace osprey::models
