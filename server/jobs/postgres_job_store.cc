#include "server/jobs/postgres_job_store.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "engine/common/status_macros.h"
#include "server/jobs/job_record.h"
#include "server/jobs/postgres_migrations.h"
#include "server/log/echo.h"
#include "server/log/log.h"

namespace videogen::jobs {

namespace {

// pg_advisory_xact_lock key taken by every insert ("vginsr"): the queue's
// capacity and client_request_ids are checked and changed one insert at a
// time, fleet-wide.
constexpr int64_t kInsertLock = 0x7667'696e'7372;
constexpr char kChannel[] = "videogen_jobs";
constexpr size_t kChunkBytes = size_t{1} << 20;
// Notification payloads: "KIND JOB_ID". kQueueChanged wakes idle workers (a
// job became claimable or the queue moved); kJobChanged only refreshes.
constexpr char kQueueChanged = 'q';
constexpr char kJobChanged = 'j';

std::string Payload(char kind, const std::string& job_id) { return absl::StrCat(std::string(1, kind), " ", job_id); }

// The columns Load()/Refresh() read, for the ids in $1 (a text[] literal);
// pos: 1 = next to run among the queued jobs; the last column is the depth.
constexpr char kRowQuery[] = R"sql(
WITH q AS (
  SELECT job_id, row_number() OVER (ORDER BY priority DESC, seq) AS pos
  FROM videogen_jobs WHERE state = 'queued')
SELECT j.job_id, j.state, j.attempts, coalesce(q.pos, 0), j.progress, j.error_code, j.error_message,
       j.finished_unix_us, j.result_bytes, j.result_sha256, j.result_container, j.result_codec, j.result_width,
       j.result_height, j.result_frames, j.result_fps, j.result_seed, j.result_timings, j.cancel_requested,
       coalesce(j.owner, ''), j.model, coalesce(j.client_request_id, ''), j.fingerprint, j.priority, j.seed,
       j.created_unix_us, (SELECT count(*) FROM q)
FROM videogen_jobs j LEFT JOIN q ON q.job_id = j.job_id
WHERE j.job_id = ANY($1::text[])
)sql";
enum RowCol {
  kId, kState, kAttempts, kPos, kProgress, kErrorCode, kErrorMessage, kFinished, kBytes, kSha256, kContainer,
  kCodec, kWidth, kHeight, kFrames, kFps, kResultSeed, kTimings, kCancelRequested, kOwner, kModel, kKey,
  kFingerprint, kPriority, kSeed, kCreated, kDepth
};

// A text[] literal of job ids (ids are "job-" + hex: nothing to escape, but
// quote them anyway).
std::string IdArray(const std::vector<std::string>& ids) {
  std::vector<std::string> quoted;
  for (const auto& id : ids) {
    std::string q = "\"";
    for (char c : id) {
      if (c == '"' || c == '\\') q += '\\';
      q += c;
    }
    quoted.push_back(q + "\"");
  }
  return absl::StrCat("{", absl::StrJoin(quoted, ","), "}");
}

void LogStoreError(const char* what, const std::string& job_id, const absl::Status& status) {
  logging::LogEvent("job_store_error", {{"op", what}, {"job_id", job_id}, {"error", status.ToString()}});
}

std::string DefaultReplicaId() {
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0) host[0] = '\0';
  absl::BitGen gen;
  return absl::StrFormat("%s-%d-%04x", host[0] != '\0' ? host : "videogen", getpid(), absl::Uniform<uint32_t>(gen, 0, 1u << 16));
}

// The video of a succeeded job, read back from its chunks; DataLoss when the
// chunks do not add up to `expected` bytes.
absl::StatusOr<std::string> ReadChunks(PgConnection& conn, const std::string& job_id, int64_t expected) {
  ASSIGN_OR_RETURN(PgRows rows, conn.Exec("SELECT data FROM videogen_job_chunks WHERE job_id = $1 ORDER BY idx",
                                          {PgParam::Text(job_id)}, /*binary_results=*/true));
  std::string bytes;
  bytes.reserve(static_cast<size_t>(std::max<int64_t>(expected, 0)));
  for (int i = 0; i < rows.rows(); ++i) bytes += rows.Text(i, 0);
  if (static_cast<int64_t>(bytes.size()) != expected) {
    return absl::DataLossError(absl::StrCat("result: the video of job ", job_id, " is incomplete in the job store (",
                                            bytes.size(), " of ", expected, " bytes)"));
  }
  return bytes;
}

// What row `i` records, the result read from its chunks. Unavailable /
// Internal when the chunks cannot be read now (the caller tries again later).
absl::StatusOr<MirroredState> RecordedState(PgConnection& conn, const PgRows& rows, int i) {
  MirroredState m;
  const std::optional<JobState> state = ParseState(rows.Text(i, kState));
  m.state = state.value_or(JobState::kFailed);
  m.attempts = static_cast<int>(rows.Int(i, kAttempts));
  m.queue_position = static_cast<int>(rows.Int(i, kPos));
  m.stages = DecodeProgress(rows.Text(i, kProgress));
  if (!state) {
    m.error = absl::InternalError(absl::StrCat("job_id: unknown state \"", rows.Text(i, kState), "\""));
  }
  if (!IsTerminal(m.state)) return m;
  m.finished = absl::FromUnixMicros(rows.Int(i, kFinished));
  if (m.state != JobState::kSucceeded) {
    if (m.error.ok()) {
      m.error = absl::Status(static_cast<absl::StatusCode>(rows.Int(i, kErrorCode)), rows.Text(i, kErrorMessage));
    }
    if (m.error.ok()) m.error = absl::InternalError("job failed without a status");
    return m;
  }
  absl::StatusOr<std::string> bytes = ReadChunks(conn, rows.Text(i, kId), rows.Int(i, kBytes));
  if (!bytes.ok()) {
    if (!absl::IsDataLoss(bytes.status())) return bytes.status();
    m.state = JobState::kFailed;
    m.error = bytes.status();
    return m;
  }
  auto result = std::make_shared<JobResult>();
  result->container = rows.Text(i, kContainer) == "webm" ? Container::kWebm : Container::kMp4;
  result->codec = rows.Text(i, kCodec) == "vp9" ? Codec::kVp9 : Codec::kH264;
  result->width = static_cast<int>(rows.Int(i, kWidth));
  result->height = static_cast<int>(rows.Int(i, kHeight));
  result->frames = static_cast<int>(rows.Int(i, kFrames));
  result->fps = rows.Real(i, kFps);
  result->bytes = *std::move(bytes);
  result->sha256 = rows.Text(i, kSha256);
  result->seed = static_cast<uint64_t>(rows.Int(i, kResultSeed));
  result->timings = DecodeTimings(rows.Text(i, kTimings));
  m.result = std::move(result);
  return m;
}

}  // namespace

absl::StatusOr<std::unique_ptr<PostgresJobStore>> PostgresJobStore::Open(PostgresJobStoreOptions options) {
  if (options.dsn.empty()) return absl::InvalidArgumentError("job_store: the PostgreSQL DSN must not be empty");
  if (options.max_crashes < 1) return absl::InvalidArgumentError("max_crashes: must be at least 1");
  if (!options.decode_spec) return absl::InvalidArgumentError("decode_spec: must be set");
  if (options.lease <= absl::ZeroDuration()) return absl::InvalidArgumentError("job_lease: must be positive");
  if (options.max_queue == 0) return absl::InvalidArgumentError("max_queue: must be at least 1");
  if (options.replica_id.empty()) options.replica_id = DefaultReplicaId();
  if (options.tick <= absl::ZeroDuration()) options.tick = std::min(options.lease / 4, absl::Seconds(1));
  if (!options.clock) options.clock = [] { return absl::Now(); };
  ASSIGN_OR_RETURN(std::unique_ptr<PgConnection> conn, PgConnection::Connect(options.dsn));
  RETURN_IF_ERROR(ApplyPgMigrations(*conn));
  ASSIGN_OR_RETURN(std::unique_ptr<PgConnection> listen_conn, PgConnection::Connect(options.dsn));
  std::unique_ptr<PostgresJobStore> store(
      new PostgresJobStore(std::move(options), std::move(conn), std::move(listen_conn)));
  if (store->stop_fd_ < 0) return absl::InternalError("job store: eventfd failed");
  // LISTEN before the first refresh: no change between them is missed.
  RETURN_IF_ERROR(store->listen_conn_->Run(absl::StrCat("LISTEN ", kChannel)));
  store->Refresh();
  PostgresJobStore* self = store.get();
  store->listener_ = std::thread([self] { self->ListenLoop(); });
  logging::LogEvent("job_store_opened", {{"job_store", store->description_},
                                         {"replica_id", store->options_.replica_id},
                                         {"lease_ms", absl::StrCat(absl::ToInt64Milliseconds(store->options_.lease))}});
  return store;
}

PostgresJobStore::PostgresJobStore(PostgresJobStoreOptions options, std::unique_ptr<PgConnection> conn,
                                   std::unique_ptr<PgConnection> listen_conn)
    : options_(std::move(options)),
      description_(conn->Describe()),
      stop_fd_(eventfd(0, EFD_CLOEXEC)),
      conn_(std::move(conn)),
      listen_conn_(std::move(listen_conn)),
      index_(options_.retention, options_.clock) {}

PostgresJobStore::~PostgresJobStore() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    closed_ = true;
    work_.SignalAll();
  }
  if (listener_.joinable()) {
    const uint64_t one = 1;
    (void)!write(stop_fd_, &one, sizeof(one));
    listener_.join();
  }
  if (stop_fd_ >= 0) close(stop_fd_);
}

void PostgresJobStore::WakeWorkers() {
  absl::MutexLock lock(&mu_);
  ++wakeups_;
  work_.SignalAll();
}

// ---- JobStore ----

absl::StatusOr<JobStore::InsertResult> PostgresJobStore::InsertOrAttach(std::shared_ptr<Job> job) {
  const JobSpec& spec = job->spec();
  if (spec.persisted_request.empty()) {
    return absl::InternalError("request: a shared job store needs the persisted request");
  }
  auto unavailable = [&job](const absl::Status& s) {
    LogStoreError("insert", job->id(), s);
    return absl::UnavailableError(absl::StrCat("the job could not be recorded (", s.message(), "); retry later"));
  };
  {
    absl::MutexLock lock(&mu_);
    if (closed_) return absl::UnavailableError("the server is shutting down; retry elsewhere");
  }
  absl::MutexLock lock(&conn_mu_);
  absl::StatusOr<std::unique_ptr<PgTransaction>> tx = PgTransaction::Begin(*conn_);
  if (!tx.ok()) return unavailable(tx.status());
  if (absl::Status s = conn_->Run("SELECT pg_advisory_xact_lock($1)", {PgParam::Int(kInsertLock)}); !s.ok()) {
    return unavailable(s);
  }
  const std::string& key = spec.client_request_id;
  if (!key.empty()) {
    absl::StatusOr<PgRows> found = conn_->Exec(
        "SELECT job_id, fingerprint, state, error_code FROM videogen_jobs WHERE client_request_id = $1",
        {PgParam::Text(key)});
    if (!found.ok()) return unavailable(found.status());
    if (found->rows() > 0) {
      const std::string old_id = found->Text(0, 0);
      const std::optional<JobState> state = ParseState(found->Text(0, 2));
      const absl::Status old_error(static_cast<absl::StatusCode>(found->Int(0, 3)), "");
      const bool retry_after_fault = state && IsTerminal(*state) && *state != JobState::kSucceeded &&
                                     IsServerFault(old_error);
      if (!retry_after_fault) {
        if (found->Text(0, 1) != spec.fingerprint) {
          return absl::AlreadyExistsError(absl::StrCat("client_request_id: \"", logging::Echo(key),
                                                       "\" was already used for job ", old_id,
                                                       " with different parameters; use a new client_request_id"));
        }
        std::shared_ptr<Job> existing = index_.Find(old_id);
        if (existing == nullptr) {
          absl::StatusOr<std::shared_ptr<Job>> loaded = Load(*conn_, old_id);
          if (!loaded.ok()) return unavailable(loaded.status());
          existing = *loaded;
          if (existing != nullptr) index_.Restore(existing);
        }
        if (existing != nullptr) return InsertResult{existing, false};
      }
      // The old job ended by a server fault: the new job takes its key.
      if (absl::Status s = conn_->Run("UPDATE videogen_jobs SET client_request_id = NULL WHERE job_id = $1",
                                      {PgParam::Text(old_id)});
          !s.ok()) {
        return unavailable(s);
      }
    }
  }
  const uint64_t depth_read = StartDepthRead();
  absl::StatusOr<PgRows> depth = conn_->Exec("SELECT count(*) FROM videogen_jobs WHERE state = 'queued'");
  if (!depth.ok()) return unavailable(depth.status());
  const size_t queued = static_cast<size_t>(depth->Int(0, 0));
  StoreDepth(depth_read, queued);
  if (queued >= options_.max_queue) {
    return absl::ResourceExhaustedError(
        absl::StrCat("job queue is full (depth ", queued, " of max ", options_.max_queue, ")"));
  }
  absl::Status s = conn_->Run(
      "INSERT INTO videogen_jobs (job_id, model, client_request_id, fingerprint, priority, request, seed, "
      "deadline_unix_ms, created_unix_us, state, attempts) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'queued', $10)",
      {PgParam::Text(job->id()), PgParam::Text(spec.model), key.empty() ? PgParam::Null() : PgParam::Text(key),
       PgParam::Text(spec.fingerprint), PgParam::Int(spec.priority), PgParam::Bytes(spec.persisted_request),
       PgParam::Int(static_cast<int64_t>(spec.request.seed)), PgParam::MaybeInt(DeadlineUnixMillis(spec)),
       PgParam::Int(absl::ToUnixMicros(job->created())), PgParam::Int(job->attempt())});
  if (s.ok()) {
    s = conn_->Run("SELECT pg_notify($1, $2)", {PgParam::Text(kChannel), PgParam::Text(Payload(kQueueChanged, job->id()))});
  }
  if (s.ok()) s = (*tx)->Commit();
  if (!s.ok()) return unavailable(s);
  StoreDepth(StartDepthRead(), queued + 1);  // as of the commit
  // The worker that claims it, here or elsewhere, decodes the persisted
  // request: the local copy keeps no images.
  job->TakeInputs();
  index_.Restore(job);
  WakeWorkers();
  return InsertResult{std::move(job), true};
}

absl::StatusOr<std::shared_ptr<Job>> PostgresJobStore::Load(PgConnection& conn, const std::string& job_id) const {
  ASSIGN_OR_RETURN(PgRows rows, conn.Exec(kRowQuery, {PgParam::Text(IdArray({job_id}))}));
  if (rows.rows() == 0) return nullptr;
  JobSpec summary;  // what a copy keeps: no inputs (it never runs here)
  summary.model = rows.Text(0, kModel);
  summary.client_request_id = rows.Text(0, kKey);
  summary.fingerprint = rows.Text(0, kFingerprint);
  summary.priority = static_cast<int>(rows.Int(0, kPriority));
  summary.request.seed = static_cast<uint64_t>(rows.Int(0, kSeed));
  if (rows.Text(0, kContainer) == "webm") summary.output.format = OutputFormat::kWebmVp9;
  auto job = std::make_shared<Job>(job_id, std::move(summary), absl::FromUnixMicros(rows.Int(0, kCreated)),
                                   static_cast<int>(rows.Int(0, kAttempts)));
  ASSIGN_OR_RETURN(MirroredState recorded, RecordedState(conn, rows, 0));
  job->Mirror(recorded);
  return job;
}

std::shared_ptr<Job> PostgresJobStore::Find(const std::string& job_id) const {
  if (std::shared_ptr<Job> job = index_.Find(job_id)) return job;
  absl::MutexLock lock(&conn_mu_);
  if (std::shared_ptr<Job> job = index_.Find(job_id)) return job;
  absl::StatusOr<std::shared_ptr<Job>> loaded = Load(*conn_, job_id);
  if (!loaded.ok()) {
    LogStoreError("find", logging::Echo(job_id), loaded.status());
    return nullptr;
  }
  if (*loaded != nullptr) index_.Restore(*loaded);
  return *loaded;
}

std::vector<std::shared_ptr<Job>> PostgresJobStore::Recent(size_t limit) const {
  std::vector<std::string> ids;
  {
    absl::MutexLock lock(&conn_mu_);
    absl::StatusOr<PgRows> rows =
        conn_->Exec("SELECT job_id FROM videogen_jobs ORDER BY created_unix_us DESC, job_id LIMIT $1",
                    {PgParam::Int(static_cast<int64_t>(limit))});
    if (!rows.ok()) {
      LogStoreError("list", "", rows.status());
      return index_.Recent(limit);
    }
    for (int i = 0; i < rows->rows(); ++i) ids.push_back(rows->Text(i, 0));
  }
  std::vector<std::shared_ptr<Job>> out;
  for (const auto& id : ids) {
    if (std::shared_ptr<Job> job = Find(id)) out.push_back(std::move(job));
  }
  return out;
}

void PostgresJobStore::Erase(const std::string& job_id) {
  index_.Erase(job_id);
  absl::MutexLock lock(&conn_mu_);
  absl::Status s = conn_->Run("DELETE FROM videogen_jobs WHERE job_id = $1 AND state = 'queued'", {PgParam::Text(job_id)});
  if (!s.ok()) LogStoreError("erase", job_id, s);
}

size_t PostgresJobStore::Sweep() {
  const RetentionOptions& r = options_.retention;
  const int64_t ttl_before = absl::ToUnixMicros(options_.clock() - r.ttl);
  size_t deleted = 0;
  {
    absl::MutexLock lock(&conn_mu_);
    // Held bytes per finished job: its video and whatever of its request is
    // still stored (cleared when it finished).
    absl::StatusOr<PgRows> rows = conn_->Exec(R"sql(
WITH finished AS (
  SELECT job_id, finished_unix_us,
         sum(coalesce(result_bytes, 0) + octet_length(request)) OVER w AS newer_bytes,
         row_number() OVER w AS newer_jobs
  FROM videogen_jobs WHERE state IN ('succeeded', 'failed', 'cancelled')
  WINDOW w AS (ORDER BY finished_unix_us DESC, job_id DESC)),
unfinished AS (SELECT count(*) AS n FROM videogen_jobs WHERE state IN ('queued', 'running'))
DELETE FROM videogen_jobs WHERE job_id IN (
  SELECT job_id FROM finished, unfinished
  WHERE finished_unix_us <= $1 OR newer_bytes > $2 OR newer_jobs + unfinished.n > $3)
RETURNING job_id
)sql",
                                              {PgParam::Int(ttl_before), PgParam::Int(static_cast<int64_t>(r.max_bytes)),
                                               PgParam::Int(static_cast<int64_t>(r.max_jobs))});
    if (rows.ok()) {
      deleted = static_cast<size_t>(rows->rows());
      for (int i = 0; i < rows->rows(); ++i) index_.Erase(rows->Text(i, 0));
    } else {
      LogStoreError("sweep", "", rows.status());
    }
  }
  // Local copies are bounded by the same rules.
  index_.Evict();
  return deleted;
}

size_t PostgresJobStore::retained_bytes() const {
  absl::MutexLock lock(&conn_mu_);
  absl::StatusOr<PgRows> rows =
      conn_->Exec("SELECT coalesce(sum(coalesce(result_bytes, 0) + octet_length(request)), 0) FROM videogen_jobs");
  return rows.ok() ? static_cast<size_t>(rows->Int(0, 0)) : index_.retained_bytes();
}

size_t PostgresJobStore::size() const {
  absl::MutexLock lock(&conn_mu_);
  absl::StatusOr<PgRows> rows = conn_->Exec("SELECT count(*) FROM videogen_jobs");
  return rows.ok() ? static_cast<size_t>(rows->Int(0, 0)) : index_.size();
}

// ---- JobJournal ----

void PostgresJobStore::OnProgress(const Job& job, const std::vector<JobProgress>& stages) {
  int attempt = 0;
  {
    absl::MutexLock lock(&mu_);
    auto it = running_.find(job.id());
    if (it == running_.end()) return;
    attempt = it->second.attempt;
  }
  absl::MutexLock lock(&conn_mu_);
  absl::Status s = conn_->Run(
      "WITH u AS (UPDATE videogen_jobs SET progress = $1 WHERE job_id = $2 AND owner = $3 AND attempts = $4 "
      "AND state = 'running' RETURNING job_id) SELECT pg_notify($5, $6) FROM u",
      {PgParam::Text(EncodeProgress(stages)), PgParam::Text(job.id()), PgParam::Text(options_.replica_id),
       PgParam::Int(attempt), PgParam::Text(kChannel), PgParam::Text(Payload(kJobChanged, job.id()))});
  if (!s.ok()) LogStoreError("progress", job.id(), s);
}

void PostgresJobStore::OnFinished(const Job& job, const JobOutcome& outcome) {
  int attempt = 0;
  bool closed = false;
  {
    absl::MutexLock lock(&mu_);
    auto it = running_.find(job.id());
    if (it == running_.end()) return;
    attempt = it->second.attempt;
    running_.erase(it);
    closed = closed_;
  }
  const std::vector<PgParam> fence = {PgParam::Text(job.id()), PgParam::Text(options_.replica_id), PgParam::Int(attempt)};
  if (closed && outcome.state == JobState::kFailed && absl::IsUnavailable(outcome.error)) {
    // Stopped because this server shuts down (drain timeout, second
    // signal): the job goes back to the queue for the other servers.
    absl::Status s;
    {
      absl::MutexLock lock(&conn_mu_);
      std::vector<PgParam> params = fence;
      params.push_back(PgParam::Text(kChannel));
      s = conn_->Run(
          "WITH u AS (UPDATE videogen_jobs SET state = 'queued', owner = NULL, lease_until = NULL, progress = '' "
          "WHERE job_id = $1 AND owner = $2 AND attempts = $3 AND state = 'running' RETURNING job_id) "
          "SELECT pg_notify($4, 'q ' || job_id) FROM u",
          params);
    }
    if (s.ok()) {
      logging::LogEvent("job_released", {{"job_id", job.id()}, {"why", outcome.error.ToString()}});
    } else {
      LogStoreError("release", job.id(), s);  // the lease lapses instead
    }
    return;
  }
  auto record = [&]() -> absl::StatusOr<bool> {
    ASSIGN_OR_RETURN(std::unique_ptr<PgTransaction> tx, PgTransaction::Begin(*conn_));
    std::vector<PgParam> params = fence;
    params.push_back(PgParam::Text(StateName(outcome.state)));
    params.push_back(PgParam::Int(absl::ToUnixMicros(outcome.finished)));
    absl::StatusOr<PgRows> updated;
    const JobResult* r = outcome.state == JobState::kSucceeded ? outcome.result.get() : nullptr;
    if (r != nullptr) {
      for (PgParam p : {PgParam::Int(static_cast<int64_t>(r->bytes.size())), PgParam::Text(r->sha256),
                        PgParam::Text(r->container == Container::kWebm ? "webm" : "mp4"),
                        PgParam::Text(r->codec == Codec::kVp9 ? "vp9" : "h264"), PgParam::Int(r->width),
                        PgParam::Int(r->height), PgParam::Int(r->frames), PgParam::Real(r->fps),
                        PgParam::Int(static_cast<int64_t>(r->seed)), PgParam::Text(EncodeTimings(r->timings))}) {
        params.push_back(std::move(p));
      }
      updated = conn_->Exec(
          "UPDATE videogen_jobs SET state = $4, finished_unix_us = $5, result_bytes = $6, result_sha256 = $7, "
          "result_container = $8, result_codec = $9, result_width = $10, result_height = $11, result_frames = $12, "
          "result_fps = $13, result_seed = $14, result_timings = $15, request = ''::bytea, owner = NULL, "
          "lease_until = NULL WHERE job_id = $1 AND owner = $2 AND attempts = $3 AND state = 'running'",
          params);
    } else {
      params.push_back(PgParam::Int(static_cast<int64_t>(outcome.error.code())));
      params.push_back(PgParam::Text(std::string(outcome.error.message())));
      updated = conn_->Exec(
          "UPDATE videogen_jobs SET state = $4, finished_unix_us = $5, error_code = $6, error_message = $7, "
          "request = ''::bytea, owner = NULL, lease_until = NULL "
          "WHERE job_id = $1 AND owner = $2 AND attempts = $3 AND state = 'running'",
          params);
    }
    if (!updated.ok()) return updated.status();
    if (updated->affected() == 0) return false;  // the lease was lost: another worker owns the job now
    if (r != nullptr) {
      for (size_t off = 0, idx = 0; off < r->bytes.size(); off += kChunkBytes, ++idx) {
        RETURN_IF_ERROR(conn_->Run("INSERT INTO videogen_job_chunks (job_id, idx, data) VALUES ($1, $2, $3)",
                                   {PgParam::Text(job.id()), PgParam::Int(static_cast<int64_t>(idx)),
                                    PgParam::Bytes(r->bytes.substr(off, kChunkBytes))}));
      }
    }
    RETURN_IF_ERROR(conn_->Run("SELECT pg_notify($1, $2)",
                               {PgParam::Text(kChannel), PgParam::Text(Payload(kQueueChanged, job.id()))}));
    RETURN_IF_ERROR(tx->Commit());
    return true;
  };
  absl::StatusOr<bool> recorded;
  {
    absl::MutexLock lock(&conn_mu_);
    recorded = record();
  }
  if (!recorded.ok()) {
    // The lease lapses and another server runs the job again.
    LogStoreError("finish", job.id(), recorded.status());
  } else if (!*recorded) {
    logging::LogEvent("job_outcome_discarded", {{"job_id", job.id()},
                                                {"attempt", absl::StrCat(attempt)},
                                                {"why", "the lease was lost; another server runs the job"}});
  }
}

// ---- JobSource ----

absl::Status PostgresJobStore::Push(std::shared_ptr<Job> job) {
  absl::MutexLock lock(&mu_);
  if (closed_) return absl::UnavailableError("the server is shutting down; retry elsewhere");
  return absl::OkStatus();  // InsertOrAttach queued it
}

absl::Status PostgresJobStore::CheckCapacity() const {
  {
    absl::MutexLock lock(&mu_);
    if (closed_) return absl::UnavailableError("the server is shutting down; retry elsewhere");
  }
  const size_t queued = depth_.load();
  if (queued >= options_.max_queue) {
    return absl::ResourceExhaustedError(
        absl::StrCat("job queue is full (depth ", queued, " of max ", options_.max_queue, ")"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<Job>> PostgresJobStore::TryClaim() {
  // Rows refused by the crash limit or an undecodable request are failed and
  // the claim goes on with the next one.
  for (int tries = 0; tries < 64; ++tries) {
    const int64_t lease_us = absl::ToInt64Microseconds(options_.lease);
    absl::StatusOr<PgRows> rows = absl::UnknownError("not run");
    {
      absl::MutexLock lock(&conn_mu_);
      rows = conn_->Exec(R"sql(
WITH next AS (
  SELECT job_id, state AS was FROM videogen_jobs
  WHERE state = 'queued' OR (state = 'running' AND lease_until < now())
  ORDER BY priority DESC, seq LIMIT 1 FOR UPDATE SKIP LOCKED),
claimed AS (
  UPDATE videogen_jobs j SET state = 'running', owner = $1, attempts = j.attempts + 1,
         lease_until = now() + $2 * interval '1 microsecond', progress = ''
  FROM next WHERE j.job_id = next.job_id
  RETURNING j.job_id, next.was, j.attempts, j.request, j.deadline_unix_ms, j.created_unix_us,
            coalesce(j.client_request_id, ''), j.fingerprint, j.priority, j.cancel_requested)
SELECT claimed.*, pg_notify($3, 'q ' || claimed.job_id) FROM claimed
)sql",
                         {PgParam::Text(options_.replica_id), PgParam::Int(lease_us), PgParam::Text(kChannel)});
    }
    if (!rows.ok()) return rows.status();
    if (rows->rows() == 0) return nullptr;
    const std::string job_id = rows->Text(0, 0);
    const std::string was = rows->Text(0, 1);
    const int attempts = static_cast<int>(rows->Int(0, 2));
    absl::Status refuse;
    std::optional<JobSpec> spec;
    if (was == "running" && attempts - 1 >= options_.max_crashes) {
      refuse = absl::InternalError(absl::StrCat("job_id: job ", job_id,
                                                " was running each time its server stopped unexpectedly (",
                                                attempts - 1, " times, the limit); it is not run again"));
    } else {
      std::optional<CancelToken::Clock::time_point> deadline;
      if (!rows->IsNull(0, 4)) deadline = SteadyDeadline(rows->Int(0, 4));
      absl::StatusOr<JobSpec> decoded = options_.decode_spec(rows->Bytes(0, 3), deadline);
      if (decoded.ok()) {
        spec = *std::move(decoded);
      } else {
        refuse = absl::InternalError(absl::StrCat("job_id: the request of job ", job_id,
                                                  " cannot be restored: ", decoded.status().message()));
      }
    }
    if (!refuse.ok()) {
      logging::LogEvent("job_not_run", {{"job_id", job_id}, {"error", refuse.ToString()}});
      absl::MutexLock lock(&conn_mu_);
      absl::Status s = conn_->Run(
          "WITH u AS (UPDATE videogen_jobs SET state = 'failed', attempts = $3 - 1, error_code = $4, "
          "error_message = $5, finished_unix_us = $6, request = ''::bytea, owner = NULL, lease_until = NULL "
          "WHERE job_id = $1 AND owner = $2 AND attempts = $3 RETURNING job_id) SELECT pg_notify($7, 'q ' || job_id) FROM u",
          {PgParam::Text(job_id), PgParam::Text(options_.replica_id), PgParam::Int(attempts),
           PgParam::Int(static_cast<int64_t>(refuse.code())), PgParam::Text(std::string(refuse.message())),
           PgParam::Int(absl::ToUnixMicros(options_.clock())), PgParam::Text(kChannel)});
      if (!s.ok()) LogStoreError("refuse", job_id, s);
      continue;
    }
    // The row's own columns win: the fingerprint is the request's as submitted.
    spec->client_request_id = rows->Text(0, 6);
    spec->fingerprint = rows->Text(0, 7);
    spec->priority = static_cast<int>(rows->Int(0, 8));
    spec->persisted_request = rows->Bytes(0, 3);
    auto job = std::make_shared<Job>(job_id, *std::move(spec), absl::FromUnixMicros(rows->Int(0, 5)), attempts - 1);
    job->SetJournal(this);
    if (rows->Text(0, 9) == "t") job->RequestCancel();
    {
      absl::MutexLock lock(&mu_);
      running_[job_id] = Running{job, attempts, options_.clock()};
    }
    logging::LogEvent("job_claimed", {{"job_id", job_id},
                                      {"attempt", absl::StrCat(attempts)},
                                      {"was", was},
                                      {"replica_id", options_.replica_id}});
    return job;
  }
  return nullptr;
}

std::shared_ptr<Job> PostgresJobStore::Pop() {
  absl::Time last_error = absl::InfinitePast();
  while (true) {
    uint64_t seen = 0;
    {
      absl::MutexLock lock(&mu_);
      if (closed_) return nullptr;
      seen = wakeups_;
    }
    absl::StatusOr<std::shared_ptr<Job>> claimed = TryClaim();
    if (claimed.ok() && *claimed != nullptr) return *std::move(claimed);
    if (!claimed.ok() && absl::Now() - last_error > absl::Seconds(10)) {  // at most one line per 10 s
      LogStoreError("claim", "", claimed.status());
      last_error = absl::Now();
    }
    absl::MutexLock lock(&mu_);
    auto woken = [this, seen]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return closed_ || wakeups_ != seen; };
    mu_.AwaitWithTimeout(absl::Condition(&woken), options_.tick);
  }
}

bool PostgresJobStore::Remove(const std::string& job_id) {
  std::shared_ptr<Job> here;
  {
    absl::MutexLock lock(&mu_);
    auto it = running_.find(job_id);
    if (it != running_.end()) here = it->second.job;
  }
  if (here != nullptr) here->RequestCancel();  // running on this server: no need to wait for the notification
  auto remove = [&]() -> absl::StatusOr<bool> {
    ASSIGN_OR_RETURN(std::unique_ptr<PgTransaction> tx, PgTransaction::Begin(*conn_));
    ASSIGN_OR_RETURN(PgRows rows, conn_->Exec("SELECT state FROM videogen_jobs WHERE job_id = $1 FOR UPDATE",
                                              {PgParam::Text(job_id)}));
    if (rows.rows() == 0) return false;
    const std::string state = rows.Text(0, 0);
    bool removed = false;
    if (state == "queued") {
      RETURN_IF_ERROR(conn_->Run(
          "UPDATE videogen_jobs SET state = 'cancelled', cancel_requested = true, error_code = $2, "
          "error_message = 'cancelled while queued', finished_unix_us = $3, request = ''::bytea WHERE job_id = $1",
          {PgParam::Text(job_id), PgParam::Int(static_cast<int64_t>(absl::StatusCode::kCancelled)),
           PgParam::Int(absl::ToUnixMicros(options_.clock()))}));
      removed = true;
    } else if (state == "running") {
      RETURN_IF_ERROR(
          conn_->Run("UPDATE videogen_jobs SET cancel_requested = true WHERE job_id = $1", {PgParam::Text(job_id)}));
    } else {
      return false;
    }
    RETURN_IF_ERROR(conn_->Run("SELECT pg_notify($1, $2)",
                               {PgParam::Text(kChannel), PgParam::Text(Payload(kQueueChanged, job_id))}));
    RETURN_IF_ERROR(tx->Commit());
    return removed;
  };
  absl::StatusOr<bool> removed;
  {
    absl::MutexLock lock(&conn_mu_);
    removed = remove();
  }
  if (!removed.ok()) {
    LogStoreError("cancel", job_id, removed.status());
    return false;
  }
  return *removed;
}

std::vector<std::shared_ptr<Job>> PostgresJobStore::RemoveExpired() {
  const absl::Time now = options_.clock();
  const absl::Status expired = absl::DeadlineExceededError("deadline exceeded during queue");
  std::vector<std::string> ids;
  {
    absl::MutexLock lock(&conn_mu_);
    absl::StatusOr<PgRows> rows = conn_->Exec(
        "WITH u AS (UPDATE videogen_jobs SET state = 'failed', error_code = $1, error_message = $2, "
        "finished_unix_us = $3, request = ''::bytea WHERE state = 'queued' AND deadline_unix_ms <= $4 "
        "RETURNING job_id) SELECT job_id, pg_notify($5, 'q ' || job_id) FROM u",
        {PgParam::Int(static_cast<int64_t>(expired.code())), PgParam::Text(std::string(expired.message())),
         PgParam::Int(absl::ToUnixMicros(now)), PgParam::Int(absl::ToUnixMillis(now)), PgParam::Text(kChannel)});
    if (!rows.ok()) {
      LogStoreError("expire", "", rows.status());
      return {};
    }
    for (int i = 0; i < rows->rows(); ++i) ids.push_back(rows->Text(i, 0));
  }
  std::vector<std::shared_ptr<Job>> out;
  for (const auto& id : ids) {
    std::shared_ptr<Job> job = index_.Find(id);
    if (job == nullptr) continue;
    MirroredState m;
    m.state = JobState::kFailed;
    m.attempts = job->attempt();
    m.error = expired;
    m.finished = now;
    job->Mirror(m);
    out.push_back(std::move(job));
  }
  return out;
}

std::vector<std::shared_ptr<Job>> PostgresJobStore::Close() {
  absl::MutexLock lock(&mu_);
  closed_ = true;
  ++wakeups_;
  work_.SignalAll();
  return {};  // the fleet still runs the queued jobs
}

void PostgresJobStore::StoreDepth(uint64_t read, size_t value) {
  absl::MutexLock lock(&depth_mu_);
  if (read < depth_stored_read_) return;  // an older count than the one stored
  depth_stored_read_ = read;
  depth_.store(value);
}

// ---- The listener ----

void PostgresJobStore::Refresh() {
  std::vector<std::string> ids;
  std::map<std::string, std::shared_ptr<Job>> copies;
  for (const auto& job : index_.Recent(index_.size())) {
    if (IsTerminal(job->state())) continue;
    ids.push_back(job->id());
    copies[job->id()] = job;
  }
  std::map<std::string, Running> running;
  {
    absl::MutexLock lock(&mu_);
    running = running_;
  }
  for (const auto& [id, r] : running) {
    if (copies.count(id) == 0) ids.push_back(id);
  }
  const uint64_t depth_read = StartDepthRead();
  absl::StatusOr<PgRows> rows = ids.empty()
                                    ? listen_conn_->Exec("SELECT count(*) FROM videogen_jobs WHERE state = 'queued'")
                                    : listen_conn_->Exec(kRowQuery, {PgParam::Text(IdArray(ids))});
  if (!rows.ok()) {
    LogStoreError("refresh", "", rows.status());
    return;
  }
  if (ids.empty()) {
    StoreDepth(depth_read, static_cast<size_t>(rows->Int(0, 0)));
    return;
  }
  bool depth_known = false;
  for (int i = 0; i < rows->rows(); ++i) {
    const std::string id = rows->Text(i, kId);
    StoreDepth(depth_read, static_cast<size_t>(rows->Int(i, kDepth)));
    depth_known = true;
    if (auto c = copies.find(id); c != copies.end()) {
      absl::StatusOr<MirroredState> recorded = RecordedState(*listen_conn_, *rows, i);
      if (recorded.ok()) {
        c->second->Mirror(*recorded);
      } else {
        LogStoreError("refresh", id, recorded.status());
      }
    }
    if (auto r = running.find(id); r != running.end()) {
      const bool ours = rows->Text(i, kOwner) == options_.replica_id && rows->Int(i, kAttempts) == r->second.attempt;
      if (rows->Text(i, kCancelRequested) == "t" || !ours) r->second.job->RequestCancel();
    }
  }
  if (!depth_known) {
    const uint64_t count_read = StartDepthRead();
    absl::StatusOr<PgRows> d = listen_conn_->Exec("SELECT count(*) FROM videogen_jobs WHERE state = 'queued'");
    if (d.ok()) StoreDepth(count_read, static_cast<size_t>(d->Int(0, 0)));
  }
}

void PostgresJobStore::RenewLeases() {
  std::map<std::string, Running> running;
  {
    absl::MutexLock lock(&mu_);
    running = running_;
  }
  const int64_t lease_us = absl::ToInt64Microseconds(options_.lease);
  for (const auto& [id, r] : running) {
    absl::StatusOr<PgRows> renewed = listen_conn_->Exec(
        "UPDATE videogen_jobs SET lease_until = now() + $1 * interval '1 microsecond' "
        "WHERE job_id = $2 AND owner = $3 AND attempts = $4 AND state = 'running'",
        {PgParam::Int(lease_us), PgParam::Text(id), PgParam::Text(options_.replica_id), PgParam::Int(r.attempt)});
    if (!renewed.ok()) {
      LogStoreError("renew", id, renewed.status());
      continue;
    }
    if (renewed->affected() > 0) continue;
    bool still_running = false;
    {
      absl::MutexLock lock(&mu_);
      still_running = running_.count(id) > 0;
    }
    if (!still_running) continue;  // finished meanwhile
    logging::LogEvent("job_lease_lost", {{"job_id", id}, {"attempt", absl::StrCat(r.attempt)}});
    r.job->RequestCancel();
  }
}

void PostgresJobStore::ListenLoop() {
  bool listening = true;  // Open() issued LISTEN
  uint64_t generation = listen_conn_->generation();
  absl::Time last_renew = absl::Now();
  absl::Time last_wake = absl::Now();
  absl::Time last_error = absl::InfinitePast();
  const int tick_ms = static_cast<int>(std::max<int64_t>(1, absl::ToInt64Milliseconds(options_.tick)));
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
    }
    if (listen_conn_->generation() != generation) {  // reconnected: LISTEN again, and miss nothing
      listening = false;
      generation = listen_conn_->generation();
    }
    if (!listening) {
      absl::Status s = listen_conn_->Run(absl::StrCat("LISTEN ", kChannel));
      listening = s.ok();
      if (!s.ok() && absl::Now() - last_error > absl::Seconds(10)) {
        LogStoreError("listen", "", s);
        last_error = absl::Now();
      }
    }
    pollfd fds[2] = {{listen_conn_->socket(), POLLIN, 0}, {stop_fd_, POLLIN, 0}};
    const int n = poll(fds, listen_conn_->socket() >= 0 ? 2 : 1, tick_ms);
    if (listen_conn_->socket() < 0) {
      // No connection: wait a tick on the stop fd alone.
      pollfd stop = {stop_fd_, POLLIN, 0};
      if (poll(&stop, 1, tick_ms) > 0) return;
      listening = false;
      continue;
    }
    if (n > 0 && (fds[1].revents & POLLIN) != 0) return;
    if (n > 0 && (fds[0].revents & (POLLIN | POLLERR | POLLHUP)) != 0) {
      if (!listen_conn_->Consume().ok()) listening = false;
    }
    bool queue_changed = false;
    for (const std::string& note : listen_conn_->TakeNotifications()) {
      if (!note.empty() && note[0] == kQueueChanged) queue_changed = true;
    }
    const absl::Time now = absl::Now();
    if (queue_changed || now - last_wake >= options_.tick) {
      WakeWorkers();  // at every tick too: a lease may have run out
      last_wake = now;
    }
    Refresh();
    if (now - last_renew >= options_.lease / 3) {
      RenewLeases();
      last_renew = now;
    }
  }
}

}  // namespace videogen::jobs
