// A block of device memory shared by a tensor and all its views. It also carries the version
// counter that autograd uses to notice in-place changes to tensors saved for backward: every view
// of the same storage sees the same counter.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "framework/core/device.h"

namespace osprey {

class Storage {
 public:
  // Allocates nbytes on device through its backend.
  Storage(size_t nbytes, Device device);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  size_t nbytes() const { return nbytes_; }
  Device device() const { return device_; }
  uint64_t version() const { return version_; }
  void bump_version() { ++version_; }

 private:
  void* data_ = nullptr;
  size_t nbytes_ = 0;
  Device device_;
  uint64_t version_ = 0;
};

}  // namespace osprey
