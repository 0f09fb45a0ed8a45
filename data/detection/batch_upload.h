// Asynchronous upload of collated detection batches to a device (CUDA), overlapping compute:
// each host batch is one pinned block (detection_collate.h's allocate_detection_batch with a pinned
// HostBlockPool), copied with one cudaMemcpyAsync on a copy stream of its own into a device block;
// the device batch's tensors are views of that block at the host layout's offsets. The consumer's
// stream (the thread's current stream) waits on an event recorded after the copy, so kernels
// issued on the batch run after it arrives while the host never blocks; a copy issued while the
// device still computes on an earlier batch runs beside that compute.
//
// Memory ordering, since the copy stream is not the stream that uses the memory:
//   - device blocks are kept by the uploader and reused: a block is free again once the consumer
//     has let go of every tensor viewing it; at the first upload() that sees this, an event is
//     recorded on the current stream (covering the compute issued on that batch), and the next copy
//     into the block waits for it;
//   - a new device block comes from the caching allocator on the current stream, where it may
//     have been freed by work still queued there: its first copy waits for all of that stream's
//     work issued so far (only while the set of blocks grows, at the start or for a larger batch);
//   - a host block returns to its pool only after its copy has completed.
// One thread drives an uploader (the loader's next()).
#pragma once

#include <deque>
#include <memory>
#include <vector>

#include "data/detection/detection_collate.h"
#include "framework/core/backend.h"

namespace osprey::data {

class BatchUploader {
 public:
  explicit BatchUploader(Device device);
  // Waits for the copies in flight, so that no host block is released while it is being read.
  ~BatchUploader();
  BatchUploader(const BatchUploader&) = delete;
  BatchUploader& operator=(const BatchUploader&) = delete;

  struct Upload {
    DetectionBatch batch;                 // on the device; use only after hand_over()
    std::shared_ptr<DeviceEvent> copied;  // recorded on the copy stream after the copy
  };
  // Starts the copy of `host`, whose tensors must all view one host block.
  Upload upload(const DetectionBatch& host);
  // Makes the current stream wait for the upload's copy; the batch is then the caller's.
  void hand_over(const Upload& upload);

  const UploadStream& stream() const { return *stream_; }
  size_t device_blocks() const { return slots_.size(); }

 private:
  struct Slot {
    std::shared_ptr<Storage> storage;
    std::unique_ptr<DeviceEvent> released;  // set when free: the consumer's last use of it
    std::shared_ptr<DeviceEvent> copied;    // the last copy into it
    bool in_use = false;
  };
  struct HostInFlight {
    std::shared_ptr<DeviceEvent> copied;
    std::shared_ptr<Storage> block;
  };
  void collect();
  Slot& slot_for(size_t nbytes);

  Device device_;
  std::unique_ptr<UploadStream> stream_;
  std::vector<std::unique_ptr<Slot>> slots_;
  std::deque<HostInFlight> host_in_flight_;
};

}  // namespace osprey::data
