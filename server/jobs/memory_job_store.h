// MemoryJobStore: the jobs in maps, lost with the process. Used alone when
// persistence is off (--state-dir none) and as the index of SqliteJobStore.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/jobs/job_store.h"

namespace videogen::jobs {

// Thread-safe.
class MemoryJobStore final : public JobStore {
 public:
  using Clock = std::function<absl::Time()>;
  // `clock` defaults to absl::Now.
  explicit MemoryJobStore(RetentionOptions options, Clock clock = nullptr);

  absl::StatusOr<InsertResult> InsertOrAttach(std::shared_ptr<Job> job) override;
  std::shared_ptr<Job> Find(const std::string& job_id) const override;
  std::vector<std::shared_ptr<Job>> Recent(size_t limit) const override;
  void Erase(const std::string& job_id) override;
  size_t Sweep() override { return Evict().size(); }
  size_t retained_bytes() const override;
  size_t size() const override;

  // Adds a job read back from durable storage; its client_request_id (if
  // any) now names it. Restore in submission order.
  void Restore(std::shared_ptr<Job> job);
  // Applies retention and returns the jobs it forgot.
  std::vector<std::shared_ptr<Job>> Evict();

 private:
  const RetentionOptions options_;
  const Clock clock_;

  mutable absl::Mutex mu_;
  std::map<std::string, std::shared_ptr<Job>> by_id_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::string> by_request_id_ ABSL_GUARDED_BY(mu_);  // client id -> job id
};

}  // namespace videogen::jobs
