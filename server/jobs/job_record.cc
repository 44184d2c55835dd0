#include "server/jobs/job_record.h"

#include <chrono>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace videogen::jobs {

const char* StateName(JobState s) {
  switch (s) {
    case JobState::kQueued:
      return "queued";
    case JobState::kRunning:
      return "running";
    case JobState::kSucceeded:
      return "succeeded";
    case JobState::kFailed:
      return "failed";
    case JobState::kCancelled:
      return "cancelled";
  }
  return "failed";
}

std::optional<JobState> ParseState(const std::string& s) {
  for (JobState st : {JobState::kQueued, JobState::kRunning, JobState::kSucceeded, JobState::kFailed,
                      JobState::kCancelled}) {
    if (s == StateName(st)) return st;
  }
  return std::nullopt;
}

namespace {
bool ValidStage(int stage) { return stage >= 0 && stage <= static_cast<int>(pipeline::Stage::kVideoEncoding); }
}  // namespace

std::string EncodeTimings(const std::vector<StageTiming>& timings) {
  std::vector<std::string> parts;
  for (const auto& t : timings) {
    parts.push_back(absl::StrCat(static_cast<int>(t.stage), ":", absl::ToInt64Microseconds(t.duration)));
  }
  return absl::StrJoin(parts, ",");
}

std::vector<StageTiming> DecodeTimings(const std::string& text) {
  std::vector<StageTiming> out;
  for (absl::string_view part : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    std::pair<std::string, std::string> kv = absl::StrSplit(part, absl::MaxSplits(':', 1));
    int stage = 0;
    int64_t us = 0;
    if (!absl::SimpleAtoi(kv.first, &stage) || !absl::SimpleAtoi(kv.second, &us)) continue;
    if (!ValidStage(stage)) continue;
    out.push_back({static_cast<pipeline::Stage>(stage), absl::Microseconds(us)});
  }
  return out;
}

std::string EncodeProgress(const std::vector<JobProgress>& stages) {
  std::vector<std::string> parts;
  for (const auto& p : stages) {
    parts.push_back(absl::StrCat(static_cast<int>(p.stage), ":", p.step, ":", p.total_steps, ":",
                                 static_cast<int>(p.expert), ":", absl::ToInt64Microseconds(p.elapsed), ":",
                                 absl::ToInt64Microseconds(p.eta)));
  }
  return absl::StrJoin(parts, ";");
}

std::vector<JobProgress> DecodeProgress(const std::string& text) {
  std::vector<JobProgress> out;
  for (absl::string_view part : absl::StrSplit(text, ';', absl::SkipEmpty())) {
    std::vector<std::string> f = absl::StrSplit(part, ':');
    int64_t v[6];
    if (f.size() != 6) continue;
    bool ok = true;
    for (size_t i = 0; i < 6; ++i) ok = ok && absl::SimpleAtoi(f[i], &v[i]);
    if (!ok || !ValidStage(static_cast<int>(v[0])) || v[3] < 0 || v[3] > static_cast<int>(pipeline::Expert::kLowNoise)) {
      continue;
    }
    JobProgress p;
    p.stage = static_cast<pipeline::Stage>(v[0]);
    p.step = static_cast<int>(v[1]);
    p.total_steps = static_cast<int>(v[2]);
    p.expert = static_cast<pipeline::Expert>(v[3]);
    p.elapsed = absl::Microseconds(v[4]);
    p.eta = absl::Microseconds(v[5]);
    out.push_back(p);
  }
  return out;
}

std::optional<int64_t> DeadlineUnixMillis(const JobSpec& spec) {
  if (!spec.deadline) return std::nullopt;
  const auto remaining = *spec.deadline - CancelToken::Clock::now();
  return absl::ToUnixMillis(absl::Now() + absl::FromChrono(remaining));
}

CancelToken::Clock::time_point SteadyDeadline(int64_t unix_ms) {
  const absl::Duration remaining = absl::FromUnixMillis(unix_ms) - absl::Now();
  return CancelToken::Clock::now() +
         std::chrono::duration_cast<CancelToken::Clock::duration>(absl::ToChronoNanoseconds(remaining));
}

}  // namespace videogen::jobs
