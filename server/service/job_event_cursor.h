// Decides the next JobEvent a stream should send, from the job's current
// snapshot and what this stream already sent. Holds no queue of events:
// progress within a stage is coalesced to the newest (the first unsent stage
// is always sent, so every stage appears), and video chunks are cut from the
// shared, immutable result on demand. Memory per stream is one event.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "server/jobs/job.h"
#include "videogen/v1/videogen.pb.h"

namespace videogen::service {

inline constexpr size_t kMaxChunkBytes = size_t{1} << 20;

// OutOfRange naming from_offset: `from_offset` is beyond a video of `video_bytes`.
absl::Status FromOffsetBeyondVideo(uint64_t from_offset, size_t video_bytes);

// Not thread-safe; owned by one stream under its lock.
class JobEventCursor {
 public:
  // `send_accepted`: start with `accepted {job_id, queue_position}`.
  // `from_offset`: first byte of the video to send.
  JobEventCursor(std::string job_id, bool send_accepted, uint64_t from_offset, size_t chunk_bytes = kMaxChunkBytes);

  enum class Step {
    kWait,      // nothing new; wait for the job to change
    kEvent,     // `event` holds the next event
    kTerminal,  // `event` holds the last event (completed / failed)
    kDone,      // the last event was already produced
    kRefused,   // no event: the job succeeded with a video shorter than
                // from_offset; end the call with refusal() (OutOfRange)
  };
  Step Next(const jobs::JobSnapshot& snapshot, v1::JobEvent* event);
  // Why Next() returned kRefused.
  const absl::Status& refusal() const { return refusal_; }

 private:
  const std::string job_id_;
  const size_t chunk_bytes_;
  bool accepted_pending_;
  int sent_position_ = 0;
  uint64_t sent_progress_seq_ = 0;
  uint64_t offset_;
  bool terminal_sent_ = false;
  absl::Status refusal_;
};

}  // namespace videogen::service
