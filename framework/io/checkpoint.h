// Checkpoint files: a proto::Checkpoint behind a small integrity header.
//
// Layout (all integers little-endian):
//   bytes  0..7   magic "OSPREYCK"
//   bytes  8..11  u32 container version (kCheckpointContainerVersion)
//   bytes 12..15  u32 CRC-32 (zlib's crc32) of the payload
//   bytes 16..23  u64 payload length in bytes
//   bytes 24..    payload: the serialized proto::Checkpoint
// The header lets a reader tell "not a checkpoint", "truncated" and "corrupted" apart before
// protobuf sees a byte. Files are written atomically (framework/io/atomic_file.h): a failed or
// interrupted write never replaces a good checkpoint.
//
// Run directories keep the last N checkpoints as `checkpoint_iter_<N>.ckpt` plus a `latest`
// file holding the newest one's file name (also written atomically).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "experiments/proto/osprey.pb.h"

namespace osprey::io {

inline constexpr char kCheckpointMagic[] = "OSPREYCK";
inline constexpr uint32_t kCheckpointContainerVersion = 1;
inline constexpr size_t kCheckpointHeaderSize = 24;
// The newest Checkpoint.format_version this build understands.
inline constexpr int32_t kCheckpointFormatVersion = 1;

void write_checkpoint(const std::string& path, const proto::Checkpoint& checkpoint);
// Every failure is an io error naming the path and the problem (missing file, not a checkpoint,
// truncated, checksum mismatch, unreadable payload, newer format).
proto::Checkpoint read_checkpoint(const std::string& path);

// --- run directories ---

// "checkpoint_iter_<iteration>.ckpt"
std::string checkpoint_file_name(int64_t iteration);
// Writes `checkpoint` as run_dir/checkpoint_iter_<checkpoint.iteration()>.ckpt, points `latest`
// at it, then deletes the oldest checkpoint files so that at most `keep_last` remain
// (keep_last <= 0 keeps all). Creates run_dir when needed. Returns the written path.
std::string save_run_checkpoint(const std::string& run_dir, const proto::Checkpoint& checkpoint,
                                int keep_last);
// The checkpoint files of a run directory, oldest (lowest iteration) first.
std::vector<std::string> list_run_checkpoints(const std::string& run_dir);
// The checkpoint named by run_dir/latest; without a usable pointer, the highest-iteration
// checkpoint file; nullopt when the directory has none.
std::optional<std::string> find_latest_checkpoint(const std::string& run_dir);

}  // namespace osprey::io
