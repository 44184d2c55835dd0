#include "server/service/job_event_cursor.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "server/service/convert.h"

namespace videogen::service {

absl::Status FromOffsetBeyondVideo(uint64_t from_offset, size_t video_bytes) {
  return absl::OutOfRangeError(
      absl::StrCat("from_offset: ", from_offset, " is beyond the video's ", video_bytes, " bytes"));
}

JobEventCursor::JobEventCursor(std::string job_id, bool send_accepted, uint64_t from_offset, size_t chunk_bytes)
    : job_id_(std::move(job_id)), chunk_bytes_(chunk_bytes), accepted_pending_(send_accepted), offset_(from_offset) {}

JobEventCursor::Step JobEventCursor::Next(const jobs::JobSnapshot& s, v1::JobEvent* event) {
  if (terminal_sent_) return Step::kDone;
  event->Clear();
  event->set_job_id(job_id_);
  if (accepted_pending_) {
    accepted_pending_ = false;
    event->mutable_accepted()->set_job_id(job_id_);
    event->mutable_accepted()->set_queue_position(static_cast<uint32_t>(s.queue_position));
    sent_position_ = s.queue_position;
    return Step::kEvent;
  }
  if (s.state == jobs::JobState::kQueued && s.queue_position > 0 && s.queue_position != sent_position_) {
    sent_position_ = s.queue_position;
    event->mutable_queued()->set_position(static_cast<uint32_t>(s.queue_position));
    return Step::kEvent;
  }
  for (const jobs::JobProgress& p : s.stages) {
    if (p.seq > sent_progress_seq_) {
      sent_progress_seq_ = p.seq;
      ToProto(p, event->mutable_progress());
      return Step::kEvent;
    }
  }
  if (s.state == jobs::JobState::kSucceeded) {
    const std::string& bytes = s.result->bytes;
    if (offset_ > bytes.size()) {
      refusal_ = FromOffsetBeyondVideo(offset_, bytes.size());
      terminal_sent_ = true;
      return Step::kRefused;
    }
    if (offset_ < bytes.size()) {
      const size_t n = std::min<uint64_t>(chunk_bytes_, bytes.size() - offset_);
      event->mutable_video_chunk()->set_offset(offset_);
      event->mutable_video_chunk()->set_data(bytes.data() + offset_, n);
      offset_ += n;
      return Step::kEvent;
    }
    ToProto(*s.result, event->mutable_completed());
    terminal_sent_ = true;
    return Step::kTerminal;
  }
  if (s.state == jobs::JobState::kFailed || s.state == jobs::JobState::kCancelled) {
    ToProto(s.error, event->mutable_failed());
    terminal_sent_ = true;
    return Step::kTerminal;
  }
  return Step::kWait;
}

}  // namespace videogen::service
