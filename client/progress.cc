#include "client/progress.h"

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "client/exit_code.h"

namespace videogen::client {
namespace {

absl::Duration FromProto(const google::protobuf::Duration& d) {
  return absl::Seconds(d.seconds()) + absl::Nanoseconds(d.nanos());
}

double Seconds(const google::protobuf::Duration& d) { return absl::ToDoubleSeconds(FromProto(d)); }

const char* StageId(v1::Stage stage) {
  switch (stage) {
    case v1::TEXT_ENCODING: return "text_encoding";
    case v1::IMAGE_ENCODING: return "image_encoding";
    case v1::DENOISING: return "denoising";
    case v1::VAE_DECODING: return "vae_decoding";
    case v1::VIDEO_ENCODING: return "video_encoding";
    default: return "unspecified";
  }
}

// {"<stage id>": seconds, ...}
nlohmann::json TimingsJson(const v1::Completed& c) {
  nlohmann::json timings = nlohmann::json::object();
  for (const auto& t : c.timings()) timings[StageId(t.stage())] = Seconds(t.duration());
  return timings;
}

// The fields every event's JSON line has.
nlohmann::json EventJson(const v1::JobEvent& event, const char* type) {
  nlohmann::json j;
  j["job_id"] = event.job_id();
  j["type"] = type;
  return j;
}

constexpr int kBarCells = 24;

}  // namespace

ProgressMode ChooseProgressMode(bool json, bool quiet, bool is_tty, bool ci, bool dumb_term) {
  if (json) return ProgressMode::kJson;
  if (quiet) return ProgressMode::kQuiet;
  if (is_tty && !ci && !dumb_term) return ProgressMode::kBar;
  return ProgressMode::kLines;
}

std::string FormatClock(absl::Duration d) {
  if (d < absl::ZeroDuration()) d = absl::ZeroDuration();
  const int64_t total = absl::ToInt64Seconds(d);
  const int64_t h = total / 3600, m = (total / 60) % 60, s = total % 60;
  if (h > 0) return absl::StrFormat("%d:%02d:%02d", h, m, s);
  return absl::StrFormat("%d:%02d", m, s);
}

std::string StageLabel(v1::Stage stage) {
  switch (stage) {
    case v1::TEXT_ENCODING: return "text encoding";
    case v1::IMAGE_ENCODING: return "image encoding";
    case v1::DENOISING: return "denoising";
    case v1::VAE_DECODING: return "VAE decoding";
    case v1::VIDEO_ENCODING: return "video encoding";
    default: return "starting";
  }
}

std::string FormatBytes(uint64_t bytes) {
  if (bytes < 1024) return absl::StrCat(bytes, " B");
  if (bytes < 1024 * 1024) return absl::StrFormat("%.1f KiB", bytes / 1024.0);
  if (bytes < (uint64_t{1} << 30)) return absl::StrFormat("%.1f MiB", bytes / (1024.0 * 1024.0));
  return absl::StrFormat("%.2f GiB", bytes / (1024.0 * 1024.0 * 1024.0));
}

ProgressPrinter::ProgressPrinter(ProgressMode mode, std::ostream* progress, std::ostream* out)
    : mode_(mode), progress_(progress), out_(out) {}

void ProgressPrinter::Line(const std::string& text) {
  ClearBar();
  *progress_ << text << '\n';
  progress_->flush();
  if (mode_ == ProgressMode::kBar) DrawBar();
}

void ProgressPrinter::Json(const std::string& json_line) {
  *out_ << json_line << '\n';
  out_->flush();
}

void ProgressPrinter::ClearBar() {
  if (mode_ != ProgressMode::kBar || bar_width_ == 0) return;
  *progress_ << '\r' << std::string(bar_width_, ' ') << '\r';
  bar_width_ = 0;
}

void ProgressPrinter::DrawBar() {
  std::string text;
  if (queued_) {
    text = absl::StrCat("queued: position ", queue_position_);
  } else if (have_progress_) {
    text = absl::StrFormat("%-14s", StageLabel(last_.stage()));
    if (last_.total_steps() > 0) {
      const uint32_t step = std::min(last_.step(), last_.total_steps());
      const int filled = static_cast<int>(kBarCells * static_cast<uint64_t>(step) / last_.total_steps());
      absl::StrAppend(&text, " [", std::string(filled, '#'), std::string(kBarCells - filled, '-'),
                      "] ", step, "/", last_.total_steps());
    }
    absl::StrAppend(&text, "  elapsed ", FormatClock(FromProto(last_.elapsed())));
    if (last_.has_eta() && FromProto(last_.eta()) >= absl::Seconds(1)) {
      absl::StrAppend(&text, "  ETA ", FormatClock(FromProto(last_.eta())));
    }
    if (video_bytes_ > 0) absl::StrAppend(&text, "  received ", FormatBytes(video_bytes_));
  } else {
    return;
  }
  ClearBar();
  *progress_ << '\r' << text;
  progress_->flush();
  bar_width_ = text.size();
}

void ProgressPrinter::OnEvent(const v1::JobEvent& event) {
  if (!event.job_id().empty()) job_id_ = event.job_id();
  switch (event.event_case()) {
    case v1::JobEvent::kAccepted:
      return OnAccepted(event);
    case v1::JobEvent::kQueued:
      return OnQueued(event);
    case v1::JobEvent::kProgress:
      return OnProgress(event);
    case v1::JobEvent::kVideoChunk:
      return OnVideoChunk(event);
    case v1::JobEvent::kCompleted:
      return OnCompleted(event);
    case v1::JobEvent::kFailed:
      return OnFailed(event);
    default:
      return;
  }
}

std::string ProgressPrinter::Tag() const { return absl::StrCat("[job ", job_id_, "] "); }

void ProgressPrinter::OnAccepted(const v1::JobEvent& event) {
  const auto& a = event.accepted();
  if (!a.job_id().empty()) job_id_ = a.job_id();
  queued_ = a.queue_position() > 0;
  queue_position_ = a.queue_position();
  if (mode_ == ProgressMode::kJson) {
    nlohmann::json j = EventJson(event, "accepted");
    j["job_id"] = job_id_;
    j["queue_position"] = a.queue_position();
    return Json(j.dump());
  }
  Line(absl::StrCat(Tag(), "accepted", queued_ ? absl::StrCat(", queue position ", a.queue_position()) : ""));
}

void ProgressPrinter::OnQueued(const v1::JobEvent& event) {
  const uint32_t position = event.queued().position();
  const bool changed = !queued_ || position != queue_position_;
  queued_ = true;
  queue_position_ = position;
  if (mode_ == ProgressMode::kJson) {
    nlohmann::json j = EventJson(event, "queued");
    j["position"] = position;
    return Json(j.dump());
  }
  if (mode_ == ProgressMode::kBar) return DrawBar();
  if (changed) Line(absl::StrCat(Tag(), "queued, position ", position));
}

void ProgressPrinter::OnProgress(const v1::JobEvent& event) {
  const auto& p = event.progress();
  const bool stage_changed = !have_progress_ || p.stage() != last_.stage();
  const bool step_changed = stage_changed || p.step() != last_.step() || p.total_steps() != last_.total_steps();
  queued_ = false;
  have_progress_ = true;
  last_ = p;
  if (mode_ == ProgressMode::kJson) {
    nlohmann::json j = EventJson(event, "progress");
    j["stage"] = StageId(p.stage());
    j["step"] = p.step();
    j["total_steps"] = p.total_steps();
    if (!p.expert().empty()) j["expert"] = p.expert();
    j["elapsed_s"] = Seconds(p.elapsed());
    j["eta_s"] = Seconds(p.eta());
    return Json(j.dump());
  }
  if (mode_ == ProgressMode::kBar) return DrawBar();
  if (mode_ == ProgressMode::kQuiet ? !stage_changed : !step_changed) return;
  std::string text = absl::StrCat(Tag(), StageLabel(p.stage()));
  if (p.total_steps() > 0 && mode_ == ProgressMode::kLines) {
    absl::StrAppend(&text, " ", p.step(), "/", p.total_steps());
    if (!p.expert().empty()) absl::StrAppend(&text, " (", p.expert(), " expert)");
  }
  absl::StrAppend(&text, " elapsed ", FormatClock(FromProto(p.elapsed())));
  if (FromProto(p.eta()) >= absl::Seconds(1) && mode_ == ProgressMode::kLines) {
    absl::StrAppend(&text, " ETA ", FormatClock(FromProto(p.eta())));
  }
  Line(text);
}

void ProgressPrinter::OnVideoChunk(const v1::JobEvent& event) {
  const auto& c = event.video_chunk();
  const bool first = video_bytes_ == 0;
  video_bytes_ = c.offset() + c.data().size();
  if (mode_ == ProgressMode::kJson) {
    nlohmann::json j = EventJson(event, "video_chunk");
    j["offset"] = c.offset();
    j["bytes"] = c.data().size();
    return Json(j.dump());
  }
  if (mode_ == ProgressMode::kBar) return DrawBar();
  if (first) Line(absl::StrCat(Tag(), "receiving video"));
}

void ProgressPrinter::OnCompleted(const v1::JobEvent& event) {
  const auto& c = event.completed();
  if (mode_ == ProgressMode::kJson) {
    nlohmann::json j = EventJson(event, "completed");
    j["container"] = c.container();
    j["codec"] = c.codec();
    j["width"] = c.width();
    j["height"] = c.height();
    j["frames"] = c.frames();
    j["fps"] = c.fps();
    j["bytes"] = c.bytes();
    j["sha256"] = c.sha256();
    j["seed"] = c.seed();
    j["timings_s"] = TimingsJson(c);
    return Json(j.dump());
  }
  EndOfJob();
}

void ProgressPrinter::OnFailed(const v1::JobEvent& event) {
  const auto& f = event.failed();
  if (mode_ == ProgressMode::kJson) {
    nlohmann::json j = EventJson(event, "failed");
    j["code"] = StatusCodeName(f.code());
    j["message"] = f.message();
    return Json(j.dump());
  }
  EndOfJob();
}

void ProgressPrinter::EndOfJob() {
  ClearBar();
  queued_ = false;
  have_progress_ = false;
}

void ProgressPrinter::OnReattach(int attempt, int max_attempts, uint64_t from_offset,
                                 const std::string& reason) {
  if (mode_ == ProgressMode::kJson) {
    nlohmann::json j;
    j["type"] = "reattach";
    j["job_id"] = job_id_;
    j["attempt"] = attempt;
    j["max_attempts"] = max_attempts;
    j["from_offset"] = from_offset;
    j["reason"] = reason;
    return Json(j.dump());
  }
  Line(absl::StrCat("[job ", job_id_, "] connection lost (", reason, "); re-attaching (attempt ",
                    attempt, "/", max_attempts, ") from byte ", from_offset));
}

void ProgressPrinter::OnCancelRequested(const std::string& job_id) {
  if (mode_ == ProgressMode::kJson) {
    nlohmann::json j;
    j["type"] = "cancel_requested";
    j["job_id"] = job_id;
    return Json(j.dump());
  }
  Line(job_id.empty() ? std::string("interrupted: cancelling (press Ctrl-C again to exit at once)")
                      : absl::StrCat("[job ", job_id, "] interrupted: cancelling the job (press Ctrl-C again to exit at once)"));
}

void ProgressPrinter::OnResult(const ResultSummary& s) {
  const v1::Completed& c = s.completed;
  if (mode_ == ProgressMode::kJson) {
    nlohmann::json j;
    j["type"] = "result";
    j["job_id"] = s.job_id;
    j["path"] = s.path;
    j["bytes"] = c.bytes();
    j["sha256"] = c.sha256();
    j["seed"] = c.seed();
    j["width"] = c.width();
    j["height"] = c.height();
    j["frames"] = c.frames();
    j["fps"] = c.fps();
    j["duration_s"] = c.fps() > 0 ? c.frames() / c.fps() : 0.0;
    j["wall_time_s"] = absl::ToDoubleSeconds(s.wall_time);
    j["timings_s"] = TimingsJson(c);
    return Json(j.dump());
  }
  ClearBar();
  std::vector<std::string> timings;
  for (const auto& t : c.timings()) {
    timings.push_back(absl::StrFormat("%s %.2fs", StageLabel(t.stage()), Seconds(t.duration())));
  }
  *out_ << (s.path.empty() ? std::string("video verified (not saved)") : absl::StrCat("wrote ", s.path))
        << "\n"
        << absl::StrFormat("  size     %s (%d bytes), %s/%s %dx%d, %d frames @ %g fps = %.2fs of video\n",
                           FormatBytes(c.bytes()), c.bytes(), c.container(), c.codec(), c.width(),
                           c.height(), c.frames(), c.fps(), c.fps() > 0 ? c.frames() / c.fps() : 0.0)
        << "  seed     " << c.seed() << "\n"
        << "  sha256   " << c.sha256() << " (verified)\n"
        << "  job      " << s.job_id << ", took "
        << (s.wall_time < absl::Minutes(1) ? absl::StrFormat("%.1fs", absl::ToDoubleSeconds(s.wall_time))
                                           : FormatClock(s.wall_time))
        << "\n";
  if (!timings.empty()) *out_ << "  timings  " << absl::StrJoin(timings, ", ") << "\n";
  out_->flush();
}

void ProgressPrinter::OnError(int exit_code, const std::string& message) {
  ClearBar();
  if (mode_ == ProgressMode::kJson) {
    nlohmann::json j;
    j["type"] = "error";
    j["exit_code"] = exit_code;
    j["message"] = message;
    Json(j.dump());
  }
  *progress_ << "videogen: error: " << message << '\n';
  progress_->flush();
}

}  // namespace videogen::client
