// PostgresJobStore: one queue and one set of jobs for a fleet of servers
// sharing a PostgreSQL database (--job-store postgres://...).
//
// Every server may accept a job (a row inserted as queued; the queue's
// capacity and the client_request_id are checked fleet-wide under a
// transaction-level advisory lock). A worker on any server claims the next
// job, by priority then age, with SELECT ... FOR UPDATE SKIP LOCKED, and
// holds a lease on it that its server renews while the job runs. When a
// server dies its lease runs out and another server claims the job again:
// it runs from the start with the seed chosen at accept (same video), and a
// job that was running each of `max_crashes` times its server died fails
// with Internal instead. The claim's attempt number fences the worker's
// writes: a worker that lost its lease records nothing.
//
// Each transition, each progress update and each outcome is a row update
// with a NOTIFY on channel `videogen_jobs` (payload: the job id), in the same
// transaction. Every server keeps local copies of the jobs its clients
// asked about (Job::Mirror) and a listener thread refreshes them when
// notified, and at every tick in case a notification was lost: so
// GetJob/WatchJob/ListJobs answer the same on every server, and a CancelJob
// on any server reaches the worker on another one (the worker's job is
// cancelled when its server is notified; it stops at its next step).
// A job this server stops because it shuts down (the drain timed out or
// was ended) goes back to the queue for the other servers instead of
// failing, and Close() leaves the queued jobs to them.
// The video of a succeeded job is stored as chunks (videogen_job_chunks)
// and read back whole by the servers that serve it. Retention (TTL, bytes,
// job count) deletes rows and chunks for the whole fleet.
//
// Schema: postgres_migrations.cc, applied at Open under an advisory lock.
//
// Threads: the listener thread (owned; stopped and joined by the
// destructor) uses its own connection; every other call shares one
// connection under a mutex.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/jobs/job_source.h"
#include "server/jobs/job_store.h"
#include "server/jobs/memory_job_store.h"
#include "server/jobs/postgres_connection.h"
#include "server/jobs/sqlite_job_store.h"  // SpecDecoder

namespace videogen::jobs {

struct PostgresJobStoreOptions {
  std::string dsn;  // required: a libpq URI or connection string; never logged
  // This server in the fleet (the owner of the jobs its workers run); must
  // be unique among live servers. Default: HOSTNAME-PID-RANDOM.
  std::string replica_id;
  RetentionOptions retention;
  size_t max_queue = 16;  // jobs that may wait, fleet-wide
  // A claimed job's lease; its server renews it every lease/3 while the job
  // runs. A dead server's jobs are claimed again after at most this long.
  absl::Duration lease = absl::Seconds(30);
  // How often the listener refreshes the local copies and idle workers look
  // for claimable jobs without a notification (expired leases); default
  // min(lease / 4, 1 s).
  absl::Duration tick = absl::ZeroDuration();
  int max_crashes = 3;            // at least 1
  SpecDecoder decode_spec;        // required: makes the claimed job's spec
  std::function<absl::Time()> clock;  // default absl::Now
};

// Thread-safe. Is the journal of the jobs its workers claim, and the queue.
class PostgresJobStore final : public JobStore, public JobJournal, public JobSource {
 public:
  // Connects (twice: queries, LISTEN), applies the migrations and starts the
  // listener. Errors: InvalidArgument (no dsn, max_crashes < 1, no
  // decode_spec, non-positive lease), Unavailable when PostgreSQL cannot be
  // reached, FailedPrecondition for a schema newer than this server's.
  static absl::StatusOr<std::unique_ptr<PostgresJobStore>> Open(PostgresJobStoreOptions options);
  // Stops the listener; jobs must make no transitions after this.
  ~PostgresJobStore() override;

  // "USER@HOST:PORT/DB": safe to log.
  const std::string& description() const { return description_; }
  const std::string& replica_id() const { return options_.replica_id; }

  // ---- JobStore ----
  absl::StatusOr<InsertResult> InsertOrAttach(std::shared_ptr<Job> job) override;
  std::shared_ptr<Job> Find(const std::string& job_id) const override;
  std::vector<std::shared_ptr<Job>> Recent(size_t limit) const override;
  void Erase(const std::string& job_id) override;
  size_t Sweep() override;
  JobSource* SharedQueue() override { return this; }
  size_t retained_bytes() const override;
  size_t size() const override;

  // ---- JobJournal (the jobs this server's workers claimed) ----
  void OnStarted(const Job& job) override {}
  void OnProgress(const Job& job, const std::vector<JobProgress>& stages) override;
  void OnFinished(const Job& job, const JobOutcome& outcome) override;

  // ---- JobSource ----
  absl::Status Push(std::shared_ptr<Job> job) override;
  absl::Status CheckCapacity() const override;
  absl::Status Restore(std::shared_ptr<Job> job) override { return Push(std::move(job)); }
  std::shared_ptr<Job> Pop() override;
  bool Remove(const std::string& job_id) override;
  std::vector<std::shared_ptr<Job>> RemoveExpired() override;
  std::vector<std::shared_ptr<Job>> Close() override;
  size_t depth() const override { return depth_.load(); }

 private:
  struct Running {
    std::shared_ptr<Job> job;  // the copy the worker runs (journal: this store)
    int attempt = 0;           // the claim's attempts: the fencing token
    absl::Time renewed;
  };

  PostgresJobStore(PostgresJobStoreOptions options, std::unique_ptr<PgConnection> conn,
                   std::unique_ptr<PgConnection> listen_conn);
  // One claim attempt: the claimed job, nullptr when none is claimable.
  absl::StatusOr<std::shared_ptr<Job>> TryClaim();
  // A local copy of `job_id` read from the database (nullptr: no such row).
  absl::StatusOr<std::shared_ptr<Job>> Load(PgConnection& conn, const std::string& job_id) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(conn_mu_);
  void ListenLoop();
  // Refreshes the unfinished local copies, the cached depth and the cancel
  // requests of the jobs running here (listener thread).
  void Refresh();
  void RenewLeases();
  void WakeWorkers();

  // Constant after construction.
  const PostgresJobStoreOptions options_;
  const std::string description_;
  const int stop_fd_;  // eventfd: wakes the listener to stop

  mutable absl::Mutex conn_mu_;  // the shared connection; also serializes Find()'s loads
  const std::unique_ptr<PgConnection> conn_ ABSL_PT_GUARDED_BY(conn_mu_);
  // The listener thread's own connection (LISTEN, refreshes, lease renewals).
  const std::unique_ptr<PgConnection> listen_conn_;
  // Local copies, by id; Find() adds the ones it reads.
  mutable MemoryJobStore index_;
  // Jobs queued in the whole fleet, as of the newest count stored. Each count
  // is numbered when its query starts (StartDepthRead); a count whose query
  // started before the stored one's is dropped (StoreDepth), so a refresh
  // that read before an insert committed cannot overwrite the insert's newer
  // count when it stores later (CI saw depth() 2 right after a third insert).
  std::atomic<size_t> depth_{0};
  std::atomic<uint64_t> depth_reads_{0};
  absl::Mutex depth_mu_;
  uint64_t depth_stored_read_ ABSL_GUARDED_BY(depth_mu_) = 0;
  uint64_t StartDepthRead() { return depth_reads_.fetch_add(1) + 1; }
  void StoreDepth(uint64_t read, size_t value);

  mutable absl::Mutex mu_;
  absl::CondVar work_;  // signalled when a claim may succeed (or on Close)
  uint64_t wakeups_ ABSL_GUARDED_BY(mu_) = 0;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::map<std::string, Running> running_ ABSL_GUARDED_BY(mu_);  // claimed by this server's workers

  std::thread listener_;
};

}  // namespace videogen::jobs
