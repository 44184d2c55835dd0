#include "server/jobs/job_queue.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace videogen::jobs {

JobQueue::JobQueue(size_t capacity) : capacity_(capacity) {}

absl::Status JobQueue::Push(std::shared_ptr<Job> job) { return Insert(std::move(job), true); }

absl::Status JobQueue::Restore(std::shared_ptr<Job> job) { return Insert(std::move(job), false); }

absl::Status JobQueue::CheckLocked(bool check_capacity) const {
  if (closed_) return absl::UnavailableError("the server is shutting down; retry elsewhere");
  if (check_capacity && entries_.size() >= capacity_) {
    return absl::ResourceExhaustedError(
        absl::StrCat("job queue is full (depth ", entries_.size(), " of max ", capacity_, ")"));
  }
  return absl::OkStatus();
}

absl::Status JobQueue::CheckCapacity() const {
  absl::MutexLock lock(&mu_);
  return CheckLocked(true);
}

absl::Status JobQueue::Insert(std::shared_ptr<Job> job, bool check_capacity) {
  {
    absl::MutexLock lock(&mu_);
    if (absl::Status s = CheckLocked(check_capacity); !s.ok()) return s;
    Entry e{job->spec().priority, next_seq_++, std::move(job)};
    auto pos = std::upper_bound(entries_.begin(), entries_.end(), e, [](const Entry& a, const Entry& b) {
      return a.priority != b.priority ? a.priority > b.priority : a.seq < b.seq;
    });
    entries_.insert(pos, std::move(e));
    ready_.Signal();
  }
  Renumber();
  return absl::OkStatus();
}

std::shared_ptr<Job> JobQueue::Pop() {
  std::shared_ptr<Job> job;
  {
    absl::MutexLock lock(&mu_);
    while (!closed_ && entries_.empty()) ready_.Wait(&mu_);
    if (closed_) return nullptr;
    job = std::move(entries_.front().job);
    entries_.erase(entries_.begin());
  }
  Renumber();
  return job;
}

bool JobQueue::Remove(const std::string& job_id) {
  {
    absl::MutexLock lock(&mu_);
    auto it = std::find_if(entries_.begin(), entries_.end(), [&](const Entry& e) { return e.job->id() == job_id; });
    if (it == entries_.end()) return false;
    entries_.erase(it);
  }
  Renumber();
  return true;
}

std::vector<std::shared_ptr<Job>> JobQueue::RemoveExpired() {
  std::vector<std::shared_ptr<Job>> expired;
  {
    absl::MutexLock lock(&mu_);
    auto it = entries_.begin();
    while (it != entries_.end()) {
      if (!it->job->cancel_token().Check("queue").ok()) {
        expired.push_back(std::move(it->job));
        it = entries_.erase(it);
      } else {
        ++it;
      }
    }
  }
  if (!expired.empty()) Renumber();
  return expired;
}

std::vector<std::shared_ptr<Job>> JobQueue::Close() {
  std::vector<std::shared_ptr<Job>> remaining;
  absl::MutexLock lock(&mu_);
  closed_ = true;
  for (auto& e : entries_) remaining.push_back(std::move(e.job));
  entries_.clear();
  ready_.SignalAll();
  return remaining;
}

size_t JobQueue::depth() const {
  absl::MutexLock lock(&mu_);
  return entries_.size();
}

void JobQueue::Renumber() {
  std::vector<std::shared_ptr<Job>> order;
  uint64_t epoch;
  {
    absl::MutexLock lock(&mu_);
    epoch = ++epoch_;
    order.reserve(entries_.size());
    for (const auto& e : entries_) order.push_back(e.job);
  }
  for (size_t i = 0; i < order.size(); ++i) order[i]->SetQueuePosition(static_cast<int>(i + 1), epoch);
}

}  // namespace videogen::jobs
