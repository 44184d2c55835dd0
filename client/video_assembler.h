// Reassembles a video from VideoChunk events (possibly across re-attached
// streams), hashes it, and publishes it atomically: the bytes go to a
// temporary file next to the destination, which is renamed over the
// destination only after the size and sha256 announced by `Completed` match.
//
// Offsets: the next expected offset is next_offset() (the bytes received so
// far); a re-attached stream is asked to resume from it. A chunk that starts
// before next_offset() (a resent prefix) has its known part skipped; a chunk
// that starts after it (a gap) is DataLoss.
//
// Not thread-safe; one owner. Destroying an unfinished assembler removes its
// temporary file, so an interrupted run never leaves a partial video behind.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace videogen::client {

struct VideoAssemblerOptions {
  // Final path; "" keeps nothing on disk (the video is only counted and hashed).
  std::string output_path;
};

class VideoAssembler {
 public:
  // Creates the temporary file (`<output>.partial-XXXXXX`, same directory).
  // Errors: PermissionDenied / NotFound / Internal naming `output` when it
  // cannot be created.
  static absl::StatusOr<std::unique_ptr<VideoAssembler>> Create(const VideoAssemblerOptions& options);
  ~VideoAssembler();
  VideoAssembler(const VideoAssembler&) = delete;
  VideoAssembler& operator=(const VideoAssembler&) = delete;

  // Appends the chunk that starts at `offset`. Errors: DataLoss on a gap,
  // Internal on a write error, FailedPrecondition after Finish()/Abort().
  absl::Status Append(uint64_t offset, absl::string_view data);

  // Verifies the total size and the sha256 (lowercase hex) and renames the
  // temporary file to the output path. Errors: DataLoss naming `bytes` or
  // `sha256` on a mismatch (the temporary file is removed), Internal when the
  // rename or flush fails.
  absl::Status Finish(uint64_t expected_bytes, absl::string_view expected_sha256);

  // Removes the temporary file (idempotent).
  void Abort();

  uint64_t next_offset() const { return received_; }
  const std::string& temp_path() const { return temp_path_; }
  // Lowercase hex sha256 of the bytes so far (valid at any time).
  std::string Sha256Hex() const;

 private:
  struct Hasher;
  VideoAssembler(std::string output_path, std::string temp_path, int fd);

  const std::string output_path_;
  const std::string temp_path_;  // "" when output_path_ is ""
  int fd_ = -1;
  bool done_ = false;
  uint64_t received_ = 0;
  std::unique_ptr<Hasher> hasher_;
};

// Lowercase hex sha256 of `data`.
std::string Sha256Hex(absl::string_view data);

}  // namespace videogen::client
