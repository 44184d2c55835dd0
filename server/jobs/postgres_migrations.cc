#include "server/jobs/postgres_migrations.h"

#include "absl/strings/str_cat.h"
#include "engine/common/status_macros.h"
#include "server/log/log.h"

namespace videogen::jobs {

namespace {

// pg_advisory_lock key of the migrations ("vgmigr" in ASCII).
constexpr int64_t kMigrationLock = 0x7667'6d69'6772;

// Version 1: jobs, their result chunks and the queue's indexes.
//
// videogen_jobs: one row per retained job. state: queued, running,
// succeeded, failed, cancelled. Times: Unix microseconds (deadline:
// milliseconds). seed: the request's (chosen at accept), as the signed 64-bit
// pattern of the unsigned value. client_request_id: NULL when none, or once
// released (its job ended by a server fault and a new job took the key).
// owner, lease_until: the server whose worker runs the job and until when
// its lease holds; another server may claim the job after it. attempts:
// times the job was claimed; with owner, the fencing token of the worker's
// writes. progress: every stage's newest progress (job_record.h).
// cancel_requested: a CancelJob reached the job while it ran.
//
// videogen_job_chunks: the video of a succeeded job in pieces of up to
// 1 MiB, in order (idx 0, 1, ...), deleted with the job.
constexpr char kV1Jobs[] = R"sql(
CREATE TABLE videogen_jobs (
  seq BIGSERIAL NOT NULL UNIQUE,
  job_id TEXT PRIMARY KEY,
  model TEXT NOT NULL,
  client_request_id TEXT,
  fingerprint TEXT NOT NULL,
  priority INTEGER NOT NULL,
  request BYTEA NOT NULL,
  seed BIGINT NOT NULL,
  deadline_unix_ms BIGINT,
  created_unix_us BIGINT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
  attempts INTEGER NOT NULL DEFAULT 0,
  owner TEXT,
  lease_until TIMESTAMPTZ,
  cancel_requested BOOLEAN NOT NULL DEFAULT false,
  progress TEXT NOT NULL DEFAULT '',
  error_code INTEGER,
  error_message TEXT,
  finished_unix_us BIGINT,
  result_bytes BIGINT,
  result_sha256 TEXT,
  result_container TEXT,
  result_codec TEXT,
  result_width INTEGER,
  result_height INTEGER,
  result_frames INTEGER,
  result_fps DOUBLE PRECISION,
  result_seed BIGINT,
  result_timings TEXT
);
CREATE UNIQUE INDEX videogen_jobs_client_request_id ON videogen_jobs (client_request_id)
  WHERE client_request_id IS NOT NULL;
CREATE INDEX videogen_jobs_queue ON videogen_jobs (priority DESC, seq) WHERE state IN ('queued', 'running');
CREATE INDEX videogen_jobs_created ON videogen_jobs (created_unix_us DESC);
CREATE INDEX videogen_jobs_finished ON videogen_jobs (finished_unix_us) WHERE finished_unix_us IS NOT NULL;
CREATE TABLE videogen_job_chunks (
  job_id TEXT NOT NULL REFERENCES videogen_jobs (job_id) ON DELETE CASCADE,
  idx INTEGER NOT NULL,
  data BYTEA NOT NULL,
  PRIMARY KEY (job_id, idx)
);
)sql";

}  // namespace

const std::vector<PgMigration>& PgMigrations() {
  static const std::vector<PgMigration> migrations = {
      {1, "jobs, result chunks, queue indexes", kV1Jobs},
  };
  return migrations;
}

absl::Status ApplyPgMigrations(PgConnection& conn) {
  RETURN_IF_ERROR(conn.Run("SELECT pg_advisory_lock($1)", {PgParam::Int(kMigrationLock)}));
  auto apply = [&conn]() -> absl::Status {
    RETURN_IF_ERROR(conn.Run(
        "CREATE TABLE IF NOT EXISTS videogen_schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
        "applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"));
    ASSIGN_OR_RETURN(PgRows found, conn.Exec("SELECT coalesce(max(version), 0) FROM videogen_schema_migrations"));
    const int64_t current = found.Int(0, 0);
    const int known = PgMigrations().back().version;
    if (current > known) {
      return absl::FailedPreconditionError(absl::StrCat("job store: the database has schema version ", current,
                                                        "; this server knows up to version ", known));
    }
    for (const PgMigration& m : PgMigrations()) {
      if (m.version <= current) continue;
      ASSIGN_OR_RETURN(std::unique_ptr<PgTransaction> tx, PgTransaction::Begin(conn));
      RETURN_IF_ERROR(conn.RunScript(m.sql));
      RETURN_IF_ERROR(conn.Run("INSERT INTO videogen_schema_migrations (version, name) VALUES ($1, $2)",
                               {PgParam::Int(m.version), PgParam::Text(m.name)}));
      RETURN_IF_ERROR(tx->Commit());
      logging::LogEvent("job_store_migrated", {{"version", absl::StrCat(m.version)}, {"name", m.name}});
    }
    return absl::OkStatus();
  };
  absl::Status s = apply();
  conn.Run("SELECT pg_advisory_unlock($1)", {PgParam::Int(kMigrationLock)}).IgnoreError();
  return s;
}

}  // namespace videogen::jobs
