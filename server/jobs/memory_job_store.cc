#include "server/jobs/memory_job_store.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "server/log/echo.h"

namespace videogen::jobs {

namespace {

}  // namespace

bool IsServerFault(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kUnknown:
    case absl::StatusCode::kDataLoss:
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kAborted:
      return true;
    default:
      return false;
  }
}

MemoryJobStore::MemoryJobStore(RetentionOptions options, Clock clock)
    : options_(options), clock_(clock ? std::move(clock) : Clock([] { return absl::Now(); })) {}

absl::StatusOr<JobStore::InsertResult> MemoryJobStore::InsertOrAttach(std::shared_ptr<Job> job) {
  absl::MutexLock lock(&mu_);
  const std::string& key = job->spec().client_request_id;
  if (!key.empty()) {
    auto it = by_request_id_.find(key);
    if (it != by_request_id_.end()) {
      auto existing = by_id_.find(it->second);
      if (existing != by_id_.end()) {
        const Job& old = *existing->second;
        const JobSnapshot s = old.Snapshot();
        const bool retry_after_fault = IsTerminal(s.state) && IsServerFault(s.error);
        if (!retry_after_fault) {
          if (old.spec().fingerprint != job->spec().fingerprint) {
            return absl::AlreadyExistsError(
                absl::StrCat("client_request_id: \"", logging::Echo(key), "\" was already used for job ", old.id(),
                             " with different parameters; use a new client_request_id"));
          }
          return InsertResult{existing->second, false};
        }
      }
    }
    by_request_id_[key] = job->id();
  }
  by_id_[job->id()] = job;
  return InsertResult{std::move(job), true};
}

void MemoryJobStore::Restore(std::shared_ptr<Job> job) {
  absl::MutexLock lock(&mu_);
  if (!job->spec().client_request_id.empty()) by_request_id_[job->spec().client_request_id] = job->id();
  by_id_[job->id()] = std::move(job);
}

std::shared_ptr<Job> MemoryJobStore::Find(const std::string& job_id) const {
  absl::MutexLock lock(&mu_);
  auto it = by_id_.find(job_id);
  return it == by_id_.end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<Job>> MemoryJobStore::Recent(size_t limit) const {
  std::vector<std::shared_ptr<Job>> all;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [id, job] : by_id_) all.push_back(job);
  }
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
    return a->created() != b->created() ? a->created() > b->created() : a->id() < b->id();
  });
  if (all.size() > limit) all.resize(limit);
  return all;
}

void MemoryJobStore::Erase(const std::string& job_id) {
  absl::MutexLock lock(&mu_);
  auto it = by_id_.find(job_id);
  if (it == by_id_.end()) return;
  const std::string& key = it->second->spec().client_request_id;
  if (!key.empty()) {
    auto r = by_request_id_.find(key);
    if (r != by_request_id_.end() && r->second == job_id) by_request_id_.erase(r);
  }
  by_id_.erase(it);
}

std::vector<std::shared_ptr<Job>> MemoryJobStore::Evict() {
  const absl::Time now = clock_();
  struct Finished {
    absl::Time at;
    std::shared_ptr<Job> job;
    size_t bytes;
  };
  std::vector<Finished> finished;
  std::vector<std::shared_ptr<Job>> evict;
  size_t total = 0;
  size_t count = 0;
  {
    absl::MutexLock lock(&mu_);
    count = by_id_.size();
    for (const auto& [id, job] : by_id_) {
      if (!IsTerminal(job->state())) continue;
      const absl::Time at = job->finished_at();
      if (now - at >= options_.ttl) {
        evict.push_back(job);
      } else {
        finished.push_back({at, job, job->held_bytes()});
        total += finished.back().bytes;
      }
    }
  }
  count -= evict.size();
  std::sort(finished.begin(), finished.end(), [](const Finished& a, const Finished& b) {
    return a.at != b.at ? a.at < b.at : a.job->id() < b.job->id();
  });
  for (const auto& f : finished) {
    if (total <= options_.max_bytes && count <= options_.max_jobs) break;
    evict.push_back(f.job);
    total -= f.bytes;
    --count;
  }
  for (const auto& job : evict) Erase(job->id());
  return evict;
}

size_t MemoryJobStore::retained_bytes() const {
  absl::MutexLock lock(&mu_);
  size_t total = 0;
  for (const auto& [id, job] : by_id_) total += job->held_bytes();
  return total;
}

size_t MemoryJobStore::size() const {
  absl::MutexLock lock(&mu_);
  return by_id_.size();
}

}  // namespace videogen::jobs
