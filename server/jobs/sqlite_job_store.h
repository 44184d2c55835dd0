// SqliteJobStore: jobs that survive a crash, an OOM kill or a restart.
//
// Layout of the state directory:
//   DIR/LOCK             flock()ed while a server uses DIR (one server per DIR)
//   DIR/jobs.db          SQLite (WAL, synchronous=FULL): one row per retained job
//                        (table `jobs`, see sqlite_job_store.cc for the schema)
//   DIR/results/ID.mp4   the video of each succeeded job (or .webm), written
//                        atomically: temporary file, fsync, rename, fsync DIR/results
//
// A row holds the request as the service layer persisted it (the seed chosen
// at accept included), the idempotency key and the parameters' fingerprint,
// the state, the attempt count, the failure status and the result's metadata
// (size, sha256, container, codec, size, frames, fps, seed, stage timings).
// Every transition is committed before observers are told (JobJournal), so a
// client that saw a job accepted, started or finished sees it after a restart.
//
// Opening the store restores what the previous process left: finished jobs
// stay watchable (their video read back), queued jobs and jobs that were
// running are handed to the caller (TakeUnfinished) to run again from the
// start with the same seed; a job found running `max_crashes` times (it was
// running each time the server died) fails with Internal instead. Eviction
// (Sweep) deletes the row and the video file.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/jobs/job_store.h"
#include "server/jobs/memory_job_store.h"

struct sqlite3;

namespace videogen::jobs {

// Makes a JobSpec from JobSpec::persisted_request again (the service layer),
// with the job's deadline (unset: none).
using SpecDecoder = std::function<absl::StatusOr<JobSpec>(
    const std::string& persisted_request, std::optional<CancelToken::Clock::time_point> deadline)>;

struct SqliteJobStoreOptions {
  std::string state_dir;  // required; created (with parents) if missing
  RetentionOptions retention;
  // A job that was running when the server died this many times fails with
  // Internal instead of running again. At least 1.
  int max_crashes = 3;
  SpecDecoder decode_spec;              // required
  std::function<absl::Time()> clock;    // default absl::Now
};

// Thread-safe. Is the journal of every job it holds (Job::SetJournal).
class SqliteJobStore final : public JobStore, public JobJournal {
 public:
  // Opens or creates the state directory and restores its jobs. Errors:
  // InvalidArgument (state_dir empty, max_crashes < 1, no decode_spec),
  // FailedPrecondition when another process holds DIR/LOCK, DataLoss when
  // jobs.db is not a database this version reads, Internal for I/O and
  // SQLite errors (each names the path).
  static absl::StatusOr<std::unique_ptr<SqliteJobStore>> Open(SqliteJobStoreOptions options);
  // Closes the database and releases the lock. Jobs must not make
  // transitions after this (the manager's workers are joined first).
  ~SqliteJobStore() override;

  absl::StatusOr<InsertResult> InsertOrAttach(std::shared_ptr<Job> job) override;
  std::shared_ptr<Job> Find(const std::string& job_id) const override { return index_.Find(job_id); }
  std::vector<std::shared_ptr<Job>> Recent(size_t limit) const override { return index_.Recent(limit); }
  void Erase(const std::string& job_id) override;
  size_t Sweep() override;
  std::vector<std::shared_ptr<Job>> TakeUnfinished() override;
  size_t retained_bytes() const override { return index_.retained_bytes(); }
  size_t size() const override { return index_.size(); }

  // JobJournal: commit the transition (and write the video) before returning.
  void OnStarted(const Job& job) override;
  void OnFinished(const Job& job, const JobOutcome& outcome) override;

  // The video file of a succeeded job (whether or not it exists).
  std::string ResultPath(const Job& job) const;
  std::string ResultPath(const std::string& job_id, Container container) const;

 private:
  SqliteJobStore(SqliteJobStoreOptions options, int lock_fd);
  absl::Status OpenDatabase();
  absl::Status Restore();
  void RemoveOrphanFiles();
  void Forget(const std::vector<std::shared_ptr<Job>>& jobs);

  // Constant after construction.
  const SqliteJobStoreOptions options_;
  const std::string results_dir_;
  const int lock_fd_;
  MemoryJobStore index_;

  mutable absl::Mutex mu_;  // the connection
  sqlite3* db_ ABSL_GUARDED_BY(mu_) = nullptr;
  std::vector<std::shared_ptr<Job>> unfinished_ ABSL_GUARDED_BY(mu_);
};

}  // namespace videogen::jobs
