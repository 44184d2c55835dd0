#include "server/jobs/job_store.h"

#include <algorithm>
#include <utility>

namespace videogen::jobs {

JobStore::JobStore(RetentionOptions options, Clock clock)
    : options_(options), clock_(clock ? std::move(clock) : Clock([] { return absl::Now(); })) {}

JobStore::InsertResult JobStore::InsertOrAttach(std::shared_ptr<Job> job) {
  absl::MutexLock lock(&mu_);
  const std::string& key = job->spec().client_request_id;
  if (!key.empty()) {
    auto it = by_request_id_.find(key);
    if (it != by_request_id_.end()) {
      auto existing = by_id_.find(it->second);
      if (existing != by_id_.end()) return {existing->second, false};
    }
    by_request_id_[key] = job->id();
  }
  by_id_[job->id()] = job;
  return {std::move(job), true};
}

std::shared_ptr<Job> JobStore::Find(const std::string& job_id) const {
  absl::MutexLock lock(&mu_);
  auto it = by_id_.find(job_id);
  return it == by_id_.end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<Job>> JobStore::Recent(size_t limit) const {
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

void JobStore::Erase(const std::string& job_id) {
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

size_t JobStore::Sweep() {
  const absl::Time now = clock_();
  struct Finished {
    absl::Time at;
    std::string id;
    size_t bytes;
  };
  std::vector<Finished> finished;
  std::vector<std::string> evict;
  size_t total = 0;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [id, job] : by_id_) {
      if (!IsTerminal(job->state())) continue;
      const absl::Time at = job->finished_at();
      const size_t bytes = job->result_bytes();
      if (now - at >= options_.ttl) {
        evict.push_back(id);
      } else {
        finished.push_back({at, id, bytes});
        total += bytes;
      }
    }
  }
  std::sort(finished.begin(), finished.end(),
            [](const Finished& a, const Finished& b) { return a.at != b.at ? a.at < b.at : a.id < b.id; });
  for (const auto& f : finished) {
    if (total <= options_.max_bytes) break;
    evict.push_back(f.id);
    total -= f.bytes;
  }
  for (const auto& id : evict) Erase(id);
  return evict.size();
}

size_t JobStore::retained_bytes() const {
  absl::MutexLock lock(&mu_);
  size_t total = 0;
  for (const auto& [id, job] : by_id_) total += job->result_bytes();
  return total;
}

size_t JobStore::size() const {
  absl::MutexLock lock(&mu_);
  return by_id_.size();
}

}  // namespace videogen::jobs
