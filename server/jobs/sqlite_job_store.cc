#include "server/jobs/sqlite_job_store.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "engine/common/status_macros.h"
#include "server/jobs/job_record.h"
#include "server/log/log.h"

namespace videogen::jobs {

namespace {

namespace fs = std::filesystem;

// Bumped when the schema changes incompatibly; a newer file is refused.
constexpr int kSchemaVersion = 1;

// state: queued, running, succeeded, failed, cancelled. Times are Unix
// microseconds (deadline: milliseconds). seed: the request's (chosen at
// accept), as the signed 64-bit pattern of the unsigned value.
constexpr char kSchema[] = R"sql(
CREATE TABLE IF NOT EXISTS jobs (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  job_id TEXT NOT NULL UNIQUE,
  model TEXT NOT NULL,
  client_request_id TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  priority INTEGER NOT NULL,
  request BLOB NOT NULL,
  seed INTEGER NOT NULL,
  deadline_unix_ms INTEGER,
  created_unix_us INTEGER NOT NULL,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  error_code INTEGER,
  error_message TEXT,
  finished_unix_us INTEGER,
  result_file TEXT,
  result_bytes INTEGER,
  result_sha256 TEXT,
  result_container TEXT,
  result_codec TEXT,
  result_width INTEGER,
  result_height INTEGER,
  result_frames INTEGER,
  result_fps REAL,
  result_seed INTEGER,
  result_timings TEXT
);
CREATE INDEX IF NOT EXISTS jobs_by_client_request_id ON jobs(client_request_id) WHERE client_request_id != '';
)sql";

absl::Status Errno(const std::string& what, const std::string& path) {
  return absl::InternalError(absl::StrCat(what, " ", path, ": ", std::strerror(errno)));
}

absl::Status SyncDirectory(const std::string& dir) {
  const int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Errno("open", dir);
  const int rc = fsync(fd);
  close(fd);
  if (rc != 0) return Errno("fsync", dir);
  return absl::OkStatus();
}

// Writes `bytes` to `path` atomically: PATH.tmp, fsync, rename, fsync the directory.
absl::Status WriteFileAtomically(const std::string& dir, const std::string& path, const std::string& bytes) {
  const std::string tmp = path + ".tmp";
  const int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) return Errno("open", tmp);
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      absl::Status s = Errno("write", tmp);
      close(fd);
      unlink(tmp.c_str());
      return s;
    }
    done += static_cast<size_t>(n);
  }
  if (fsync(fd) != 0) {
    absl::Status s = Errno("fsync", tmp);
    close(fd);
    unlink(tmp.c_str());
    return s;
  }
  close(fd);
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    absl::Status s = Errno("rename", tmp);
    unlink(tmp.c_str());
    return s;
  }
  return SyncDirectory(dir);
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return absl::DataLossError(absl::StrCat("cannot read ", path));
  return bytes;
}

// One prepared statement; finalized on destruction.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql) : db_(db) {
    rc_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr);
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& Bind(int i, const std::string& v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Statement& BindBlob(int i, const std::string& v) {
    sqlite3_bind_blob(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Statement& Bind(int i, int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  Statement& Bind(int i, double v) {
    sqlite3_bind_double(stmt_, i, v);
    return *this;
  }
  Statement& Bind(int i, std::optional<int64_t> v) {
    if (v) {
      sqlite3_bind_int64(stmt_, i, *v);
    } else {
      sqlite3_bind_null(stmt_, i);
    }
    return *this;
  }

  // Runs a statement that returns no rows.
  absl::Status Run() {
    if (rc_ != SQLITE_OK) return Error("prepare");
    const int rc = sqlite3_step(stmt_);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) return Error("step");
    return absl::OkStatus();
  }
  // Steps to the next row: true with a row, false at the end (or on error: status()).
  bool Next() {
    if (rc_ != SQLITE_OK) return false;
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc != SQLITE_DONE) rc_ = rc;
    return false;
  }
  absl::Status status() const { return rc_ == SQLITE_OK ? absl::OkStatus() : Error("step"); }

  std::string Text(int col) const {
    const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt_, col));
    return p == nullptr ? std::string() : std::string(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, col)));
  }
  int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
  double Real(int col) const { return sqlite3_column_double(stmt_, col); }
  bool IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

 private:
  absl::Status Error(const char* what) const {
    return absl::InternalError(absl::StrCat("sqlite ", what, ": ", sqlite3_errmsg(db_)));
  }
  sqlite3* const db_;
  sqlite3_stmt* stmt_ = nullptr;
  int rc_ = SQLITE_OK;
};

absl::Status Exec(sqlite3* db, const char* sql) {
  char* error = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &error) != SQLITE_OK) {
    absl::Status s = absl::InternalError(absl::StrCat("sqlite: ", error != nullptr ? error : "error", " (", sql, ")"));
    sqlite3_free(error);
    return s;
  }
  return absl::OkStatus();
}

void LogPersistFailure(const std::string& job_id, const absl::Status& status) {
  logging::LogEvent("job_persist_failed", {{"job_id", job_id}, {"error", status.ToString()}});
}

}  // namespace

absl::StatusOr<std::unique_ptr<SqliteJobStore>> SqliteJobStore::Open(SqliteJobStoreOptions options) {
  if (options.state_dir.empty()) return absl::InvalidArgumentError("state_dir: must not be empty");
  if (options.max_crashes < 1) return absl::InvalidArgumentError("max_crashes: must be at least 1");
  if (!options.decode_spec) return absl::InvalidArgumentError("decode_spec: must be set");
  if (!options.clock) options.clock = [] { return absl::Now(); };
  std::error_code ec;
  fs::create_directories(fs::path(options.state_dir) / "results", ec);
  if (ec) {
    return absl::InternalError(absl::StrCat("state_dir: cannot create ", options.state_dir, ": ", ec.message()));
  }
  const std::string lock_path = (fs::path(options.state_dir) / "LOCK").string();
  const int lock_fd = open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
  if (lock_fd < 0) return Errno("state_dir: cannot open", lock_path);
  if (flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
    const bool busy = errno == EWOULDBLOCK;
    close(lock_fd);
    if (busy) {
      return absl::FailedPreconditionError(
          absl::StrCat("state_dir: ", options.state_dir, " is in use by another videogen-server"));
    }
    return Errno("state_dir: cannot lock", lock_path);
  }
  std::unique_ptr<SqliteJobStore> store(new SqliteJobStore(std::move(options), lock_fd));
  RETURN_IF_ERROR(store->OpenDatabase());
  RETURN_IF_ERROR(store->Restore());
  store->RemoveOrphanFiles();
  return store;
}

SqliteJobStore::SqliteJobStore(SqliteJobStoreOptions options, int lock_fd)
    : options_(std::move(options)),
      results_dir_((fs::path(options_.state_dir) / "results").string()),
      lock_fd_(lock_fd),
      index_(options_.retention, options_.clock) {}

SqliteJobStore::~SqliteJobStore() {
  {
    absl::MutexLock lock(&mu_);
    if (db_ != nullptr) sqlite3_close_v2(db_);
    db_ = nullptr;
  }
  close(lock_fd_);  // releases the flock
}

absl::Status SqliteJobStore::OpenDatabase() {
  const std::string path = (fs::path(options_.state_dir) / "jobs.db").string();
  absl::MutexLock lock(&mu_);
  if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      nullptr) != SQLITE_OK) {
    return absl::InternalError(absl::StrCat("state_dir: cannot open ", path, ": ",
                                            db_ != nullptr ? sqlite3_errmsg(db_) : "out of memory"));
  }
  sqlite3_busy_timeout(db_, 5000);
  // WAL: readers never block the writer and a commit appends to one file.
  // synchronous=FULL: every commit is fsynced, so an accepted job survives
  // power loss too, not only a process crash (~0.3 ms a commit, a handful
  // of commits per job that runs for minutes).
  absl::Status s = Exec(db_, "PRAGMA journal_mode=WAL");
  if (s.ok()) s = Exec(db_, "PRAGMA synchronous=FULL");
  if (!s.ok()) {
    return absl::DataLossError(absl::StrCat("state_dir: ", path, " is not a usable SQLite database: ", s.message()));
  }
  Statement version(db_, "PRAGMA user_version");
  const int64_t found = version.Next() ? version.Int(0) : 0;
  if (found > kSchemaVersion) {
    return absl::DataLossError(absl::StrCat("state_dir: ", path, " has schema version ", found,
                                            "; this server reads version ", kSchemaVersion));
  }
  RETURN_IF_ERROR(Exec(db_, kSchema));
  return Exec(db_, absl::StrCat("PRAGMA user_version=", kSchemaVersion).c_str());
}

std::string SqliteJobStore::ResultPath(const std::string& job_id, Container container) const {
  return (fs::path(results_dir_) / absl::StrCat(job_id, container == Container::kWebm ? ".webm" : ".mp4")).string();
}

std::string SqliteJobStore::ResultPath(const Job& job) const {
  const JobSnapshot s = job.Snapshot();
  const bool webm = s.result != nullptr ? s.result->container == Container::kWebm
                                        : job.spec().output.format == OutputFormat::kWebmVp9;
  return ResultPath(job.id(), webm ? Container::kWebm : Container::kMp4);
}

absl::Status SqliteJobStore::Restore() {
  struct Row {
    std::string job_id, model, key, fingerprint, request, state, error_message, file, sha256, container, codec,
        timings;
    int64_t priority = 0, seed = 0, created_us = 0, attempts = 0, error_code = 0, finished_us = 0, bytes = 0,
            width = 0, height = 0, frames = 0, result_seed = 0;
    std::optional<int64_t> deadline_ms;
    double fps = 0;
  };
  std::vector<Row> rows;
  {
    absl::MutexLock lock(&mu_);
    Statement q(db_,
                "SELECT job_id, model, client_request_id, fingerprint, priority, request, seed, deadline_unix_ms, "
                "created_unix_us, state, attempts, error_code, error_message, finished_unix_us, result_file, "
                "result_bytes, result_sha256, result_container, result_codec, result_width, result_height, "
                "result_frames, result_fps, result_seed, result_timings FROM jobs ORDER BY seq");
    while (q.Next()) {
      Row r;
      r.job_id = q.Text(0);
      r.model = q.Text(1);
      r.key = q.Text(2);
      r.fingerprint = q.Text(3);
      r.priority = q.Int(4);
      r.request = q.Text(5);
      r.seed = q.Int(6);
      if (!q.IsNull(7)) r.deadline_ms = q.Int(7);
      r.created_us = q.Int(8);
      r.state = q.Text(9);
      r.attempts = q.Int(10);
      r.error_code = q.Int(11);
      r.error_message = q.Text(12);
      r.finished_us = q.Int(13);
      r.file = q.Text(14);
      r.bytes = q.Int(15);
      r.sha256 = q.Text(16);
      r.container = q.Text(17);
      r.codec = q.Text(18);
      r.width = q.Int(19);
      r.height = q.Int(20);
      r.frames = q.Int(21);
      r.fps = q.Real(22);
      r.result_seed = q.Int(23);
      r.timings = q.Text(24);
      rows.push_back(std::move(r));
    }
    RETURN_IF_ERROR(q.status());
  }
  int requeued = 0, finished = 0, failed = 0;
  for (Row& r : rows) {
    JobSpec summary;  // what a finished job keeps: no inputs
    summary.model = r.model;
    summary.client_request_id = r.key;
    summary.fingerprint = r.fingerprint;
    summary.priority = static_cast<int>(r.priority);
    summary.request.seed = static_cast<uint64_t>(r.seed);
    const absl::Time created = absl::FromUnixMicros(r.created_us);
    const std::optional<JobState> state = ParseState(r.state);
    if (state && IsTerminal(*state)) {
      summary.output.format = r.container == "webm" ? OutputFormat::kWebmVp9 : OutputFormat::kMp4H264;
      auto job = std::make_shared<Job>(r.job_id, std::move(summary), created, static_cast<int>(r.attempts));
      std::shared_ptr<const JobResult> result;
      absl::Status error;
      JobState restored = *state;
      if (*state == JobState::kSucceeded) {
        absl::StatusOr<std::string> bytes = ReadFile((fs::path(results_dir_) / r.file).string());
        if (bytes.ok() && static_cast<int64_t>(bytes->size()) == r.bytes) {
          auto res = std::make_shared<JobResult>();
          res->container = r.container == "webm" ? Container::kWebm : Container::kMp4;
          res->codec = r.codec == "vp9" ? Codec::kVp9 : Codec::kH264;
          res->width = static_cast<int>(r.width);
          res->height = static_cast<int>(r.height);
          res->frames = static_cast<int>(r.frames);
          res->fps = r.fps;
          res->bytes = *std::move(bytes);
          res->sha256 = r.sha256;
          res->seed = static_cast<uint64_t>(r.result_seed);
          res->timings = DecodeTimings(r.timings);
          result = std::move(res);
        } else {
          restored = JobState::kFailed;
          error = absl::DataLossError(
              absl::StrCat("result: the video of job ", r.job_id, " was lost (", r.file, " missing or damaged)"));
        }
      } else {
        error = absl::Status(static_cast<absl::StatusCode>(r.error_code), r.error_message);
        if (error.ok()) error = absl::InternalError("job failed without a status");
      }
      if (restored != *state) {
        JobOutcome lost;
        lost.error = error;
        lost.finished = absl::FromUnixMicros(r.finished_us);
        OnFinished(*job, lost);
      }
      job->RestoreFinished(restored, std::move(result), std::move(error), absl::FromUnixMicros(r.finished_us));
      job->SetJournal(this);
      index_.Restore(job);
      ++finished;
      continue;
    }
    // Queued, or running when the server died (or an unreadable state).
    const bool crashed = state == JobState::kRunning;
    absl::Status refuse;
    if (!state) {
      refuse = absl::InternalError(absl::StrCat("job_id: job ", r.job_id, " has unknown state \"", r.state, "\""));
    } else if (crashed && r.attempts >= options_.max_crashes) {
      refuse = absl::InternalError(absl::StrCat("job_id: job ", r.job_id,
                                                " was running each time the server stopped unexpectedly (",
                                                r.attempts, " times, the limit); it is not run again"));
    }
    std::shared_ptr<Job> job;
    if (refuse.ok()) {
      std::optional<CancelToken::Clock::time_point> deadline;
      if (r.deadline_ms) deadline = SteadyDeadline(*r.deadline_ms);
      absl::StatusOr<JobSpec> spec = options_.decode_spec(r.request, deadline);
      if (spec.ok()) {
        // The row's own columns win: the fingerprint is the request's as
        // submitted (before the seed was chosen).
        spec->client_request_id = r.key;
        spec->fingerprint = r.fingerprint;
        spec->priority = static_cast<int>(r.priority);
        spec->persisted_request = std::move(r.request);
        job = std::make_shared<Job>(r.job_id, *std::move(spec), created, static_cast<int>(r.attempts));
      } else {
        refuse = absl::InternalError(
            absl::StrCat("job_id: the request of job ", r.job_id, " cannot be restored: ", spec.status().message()));
      }
    }
    if (job == nullptr) {
      job = std::make_shared<Job>(r.job_id, std::move(summary), created, static_cast<int>(r.attempts));
    }
    job->SetJournal(this);
    index_.Restore(job);
    if (!refuse.ok()) {
      logging::LogEvent("job_not_restored", {{"job_id", r.job_id}, {"error", refuse.ToString()}});
      job->Fail(refuse, options_.clock());  // recorded through OnFinished
      ++failed;
      continue;
    }
    if (crashed) {
      absl::MutexLock lock(&mu_);
      absl::Status s = Statement(db_, "UPDATE jobs SET state = 'queued' WHERE job_id = ?").Bind(1, r.job_id).Run();
      if (!s.ok()) LogPersistFailure(r.job_id, s);
    }
    logging::LogEvent("job_restored", {{"job_id", r.job_id},
                                       {"was", r.state},
                                       {"attempts", absl::StrCat(r.attempts)}});
    {
      absl::MutexLock lock(&mu_);
      unfinished_.push_back(job);
    }
    ++requeued;
  }
  logging::LogEvent("state_restored", {{"state_dir", options_.state_dir},
                                       {"requeued", absl::StrCat(requeued)},
                                       {"finished", absl::StrCat(finished)},
                                       {"failed", absl::StrCat(failed)}});
  return absl::OkStatus();
}

void SqliteJobStore::RemoveOrphanFiles() {
  std::set<std::string> keep;
  for (const auto& job : index_.Recent(index_.size())) {
    if (job->state() == JobState::kSucceeded) keep.insert(fs::path(ResultPath(*job)).filename().string());
  }
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(results_dir_, ec)) {
    const std::string name = entry.path().filename().string();
    if (keep.count(name) == 0) fs::remove(entry.path(), ec);
  }
}

std::vector<std::shared_ptr<Job>> SqliteJobStore::TakeUnfinished() {
  absl::MutexLock lock(&mu_);
  return std::exchange(unfinished_, {});
}

absl::StatusOr<JobStore::InsertResult> SqliteJobStore::InsertOrAttach(std::shared_ptr<Job> job) {
  ASSIGN_OR_RETURN(InsertResult result, index_.InsertOrAttach(job));
  if (!result.inserted) return result;
  const JobSpec& spec = job->spec();
  absl::Status s;
  {
    absl::MutexLock lock(&mu_);
    s = Statement(db_,
                  "INSERT INTO jobs (job_id, model, client_request_id, fingerprint, priority, request, seed, "
                  "deadline_unix_ms, created_unix_us, state, attempts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?)")
            .Bind(1, job->id())
            .Bind(2, spec.model)
            .Bind(3, spec.client_request_id)
            .Bind(4, spec.fingerprint)
            .Bind(5, int64_t{spec.priority})
            .BindBlob(6, spec.persisted_request)
            .Bind(7, static_cast<int64_t>(spec.request.seed))
            .Bind(8, DeadlineUnixMillis(spec))
            .Bind(9, absl::ToUnixMicros(job->created()))
            .Bind(10, int64_t{job->attempt()})
            .Run();
  }
  if (!s.ok()) {
    index_.Erase(job->id());
    LogPersistFailure(job->id(), s);
    return absl::UnavailableError(absl::StrCat("the job could not be recorded (", s.message(), "); retry later"));
  }
  job->SetJournal(this);
  return result;
}

void SqliteJobStore::OnStarted(const Job& job) {
  absl::MutexLock lock(&mu_);
  if (db_ == nullptr) return;
  absl::Status s = Statement(db_, "UPDATE jobs SET state = 'running', attempts = ? WHERE job_id = ?")
                       .Bind(1, int64_t{job.attempt()})
                       .Bind(2, job.id())
                       .Run();
  if (!s.ok()) LogPersistFailure(job.id(), s);
}

void SqliteJobStore::OnFinished(const Job& job, const JobOutcome& outcome) {
  const int64_t finished_us = absl::ToUnixMicros(outcome.finished);
  std::string file;
  if (outcome.state == JobState::kSucceeded && outcome.result != nullptr) {
    const std::string path = ResultPath(job.id(), outcome.result->container);
    absl::Status w = WriteFileAtomically(results_dir_, path, outcome.result->bytes);
    if (!w.ok()) {
      // The job still succeeds in memory; after a restart it reads as lost.
      LogPersistFailure(job.id(), w);
    }
    file = fs::path(path).filename().string();
  }
  absl::MutexLock lock(&mu_);
  if (db_ == nullptr) return;
  absl::Status s;
  if (outcome.state == JobState::kSucceeded && outcome.result != nullptr) {
    const JobResult& r = *outcome.result;
    s = Statement(db_,
                  "UPDATE jobs SET state = 'succeeded', finished_unix_us = ?, result_file = ?, result_bytes = ?, "
                  "result_sha256 = ?, result_container = ?, result_codec = ?, result_width = ?, result_height = ?, "
                  "result_frames = ?, result_fps = ?, result_seed = ?, result_timings = ?, request = x'' "
                  "WHERE job_id = ?")
            .Bind(1, finished_us)
            .Bind(2, file)
            .Bind(3, static_cast<int64_t>(r.bytes.size()))
            .Bind(4, r.sha256)
            .Bind(5, std::string(r.container == Container::kWebm ? "webm" : "mp4"))
            .Bind(6, std::string(r.codec == Codec::kVp9 ? "vp9" : "h264"))
            .Bind(7, int64_t{r.width})
            .Bind(8, int64_t{r.height})
            .Bind(9, int64_t{r.frames})
            .Bind(10, r.fps)
            .Bind(11, static_cast<int64_t>(r.seed))
            .Bind(12, EncodeTimings(r.timings))
            .Bind(13, job.id())
            .Run();
  } else {
    s = Statement(db_,
                  "UPDATE jobs SET state = ?, finished_unix_us = ?, error_code = ?, error_message = ?, request = x'' "
                  "WHERE job_id = ?")
            .Bind(1, std::string(StateName(outcome.state)))
            .Bind(2, finished_us)
            .Bind(3, static_cast<int64_t>(outcome.error.code()))
            .Bind(4, std::string(outcome.error.message()))
            .Bind(5, job.id())
            .Run();
  }
  if (!s.ok()) LogPersistFailure(job.id(), s);
}

void SqliteJobStore::Forget(const std::vector<std::shared_ptr<Job>>& jobs) {
  if (jobs.empty()) return;
  std::vector<std::string> files;
  {
    absl::MutexLock lock(&mu_);
    if (db_ == nullptr) return;
    absl::Status s = Exec(db_, "BEGIN IMMEDIATE");
    for (const auto& job : jobs) {
      if (!s.ok()) break;
      s = Statement(db_, "DELETE FROM jobs WHERE job_id = ?").Bind(1, job->id()).Run();
    }
    if (s.ok()) {
      s = Exec(db_, "COMMIT");
    } else {
      Exec(db_, "ROLLBACK").IgnoreError();
    }
    if (!s.ok()) {
      LogPersistFailure(jobs.front()->id(), s);
      return;
    }
  }
  // The rows are gone first: a crash in between leaves orphan files, removed at the next start.
  for (const auto& job : jobs) unlink(ResultPath(*job).c_str());
}

void SqliteJobStore::Erase(const std::string& job_id) {
  std::shared_ptr<Job> job = index_.Find(job_id);
  if (job == nullptr) return;
  index_.Erase(job_id);
  Forget({job});
}

size_t SqliteJobStore::Sweep() {
  std::vector<std::shared_ptr<Job>> evicted = index_.Evict();
  Forget(evicted);
  return evicted.size();
}

}  // namespace videogen::jobs
