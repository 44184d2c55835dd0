// Renders a job's events for people or scripts:
//   kBar    a live single-line bar on a terminal (stage, step n/N, elapsed,
//           ETA, queue position while queued), redrawn in place with '\r';
//   kLines  plain lines, one per change (pipes, CI, TERM=dumb);
//   kQuiet  plain lines for milestones only (accepted, stage changes,
//           re-attach, cancel), no per-step lines;
//   kJson   one JSON object per line on `out` (see progress.cc for the
//           fields), for scripts; nothing is written to `progress`.
// Progress goes to `progress` (stderr), the final result to `out` (stdout).
// Not thread-safe; the caller serialises calls.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>

#include "absl/time/time.h"
#include "videogen/v1/videogen.pb.h"

namespace videogen::client {

enum class ProgressMode { kBar, kLines, kQuiet, kJson };

// kJson when `json`; else kQuiet when `quiet`; else kBar when `is_tty` and
// neither CI nor TERM=dumb is set in the environment (`ci`, `dumb_term`); else kLines.
ProgressMode ChooseProgressMode(bool json, bool quiet, bool is_tty, bool ci, bool dumb_term);

// What the CLI prints once the video is safely on disk.
struct ResultSummary {
  std::string job_id;
  std::string path;       // "" when the video was not kept
  v1::Completed completed;
  absl::Duration wall_time;  // submit -> verified file, as seen by the client
};

class ProgressPrinter {
 public:
  ProgressPrinter(ProgressMode mode, std::ostream* progress, std::ostream* out);

  void OnEvent(const v1::JobEvent& event);
  // The stream broke; re-attaching (attempt n of max) from `from_offset`.
  void OnReattach(int attempt, int max_attempts, uint64_t from_offset, const std::string& reason);
  // Ctrl-C: the job is being cancelled.
  void OnCancelRequested(const std::string& job_id);
  void OnResult(const ResultSummary& summary);
  // A one-line error (also emitted as {"type":"error"} in kJson mode).
  void OnError(int exit_code, const std::string& message);

 private:
  // OnEvent() per kind of event.
  void OnAccepted(const v1::JobEvent& event);
  void OnQueued(const v1::JobEvent& event);
  void OnProgress(const v1::JobEvent& event);
  void OnVideoChunk(const v1::JobEvent& event);
  void OnCompleted(const v1::JobEvent& event);
  void OnFailed(const v1::JobEvent& event);
  // The job ended: clears the bar and forgets its queue and progress state.
  void EndOfJob();
  // "[job <id>] ", the prefix of the job's lines.
  std::string Tag() const;
  void DrawBar();
  void ClearBar();
  void Line(const std::string& text);
  void Json(const std::string& json_line);

  const ProgressMode mode_;
  std::ostream* const progress_;
  std::ostream* const out_;

  std::string job_id_;
  bool queued_ = false;
  uint32_t queue_position_ = 0;
  bool have_progress_ = false;
  v1::Progress last_;
  uint64_t video_bytes_ = 0;
  size_t bar_width_ = 0;  // characters of the bar currently on screen (kBar)
};

// "1:05", "12:00:03" for a duration (whole seconds, rounded down).
std::string FormatClock(absl::Duration d);
// "text encoding", "denoising", ... for a stage.
std::string StageLabel(v1::Stage stage);
// "1.5 MiB", "812 B".
std::string FormatBytes(uint64_t bytes);

}  // namespace videogen::client
