// A thin layer over libpq, PostgreSQL's C client library. libpq's C API is
// the same on Debian 12 (PostgreSQL 15) and Debian 13 (PostgreSQL 17), unlike
// libpqxx (6.4 vs 7.10): no version-specific code is needed here.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

struct pg_conn;
struct pg_result;

namespace videogen::jobs {

// One query parameter: text, NULL, or bytes sent in binary (bytea).
struct PgParam {
  std::optional<std::string> value;  // nullopt: NULL
  bool binary = false;

  static PgParam Text(std::string v) { return PgParam{std::move(v), false}; }
  static PgParam Int(int64_t v) { return PgParam{std::to_string(v), false}; }
  static PgParam Real(double v);
  static PgParam Bytes(std::string v) { return PgParam{std::move(v), true}; }
  static PgParam Null() { return PgParam{}; }
  static PgParam MaybeInt(std::optional<int64_t> v) { return v ? Int(*v) : Null(); }
};

// The rows of one statement. Columns come as text, or as raw bytes when the
// statement asked for binary results.
class PgRows {
 public:
  explicit PgRows(pg_result* result);
  ~PgRows();
  PgRows(PgRows&& other) noexcept;
  PgRows& operator=(PgRows&& other) noexcept;
  PgRows(const PgRows&) = delete;

  int rows() const;
  bool IsNull(int row, int col) const;
  std::string Text(int row, int col) const;  // "" for NULL
  int64_t Int(int row, int col) const;       // 0 for NULL or not a number
  double Real(int row, int col) const;
  // A bytea column of a text-format result, unescaped.
  std::string Bytes(int row, int col) const;
  // Rows changed by an INSERT/UPDATE/DELETE.
  int64_t affected() const;

 private:
  pg_result* result_;
};

// One connection. Not thread-safe: the owner serializes its use.
class PgConnection {
 public:
  // Connects with a libpq connection string or URI (postgres://...). The
  // password may come from the DSN, PGPASSWORD or a password file (libpq's
  // rules). Errors: Unavailable naming the server (never the password).
  static absl::StatusOr<std::unique_ptr<PgConnection>> Connect(const std::string& dsn);
  ~PgConnection();

  // "USER@HOST:PORT/DB" of the connection: safe to log.
  std::string Describe() const;

  // Runs one statement with $1.. parameters. `binary_results`: columns come
  // as raw bytes (for bytea). A lost connection is re-established for the
  // next call. Errors: Unavailable when the connection is lost or cannot be
  // made, Internal for a failed statement (with PostgreSQL's message);
  // sqlstate() then holds the SQLSTATE.
  absl::StatusOr<PgRows> Exec(const std::string& sql, const std::vector<PgParam>& params = {},
                              bool binary_results = false);
  // Exec() for statements whose rows are not needed.
  absl::Status Run(const std::string& sql, const std::vector<PgParam>& params = {});
  // Runs several statements without parameters (a migration script).
  absl::Status RunScript(const std::string& sql);
  // SQLSTATE of the last failed statement ("" otherwise).
  const std::string& sqlstate() const { return sqlstate_; }

  // For LISTEN: the socket to poll, then Consume() and the channel payloads
  // that arrived (also those that arrived during Exec()).
  int socket() const;
  // Incremented every time the connection is re-established (a LISTEN must
  // then be issued again).
  uint64_t generation() const { return generation_; }
  absl::Status Consume();
  std::vector<std::string> TakeNotifications();

 private:
  explicit PgConnection(pg_conn* conn) : conn_(conn) {}
  absl::Status EnsureConnected();

  pg_conn* conn_;
  std::string sqlstate_;
  uint64_t generation_ = 0;
};

// A transaction on `conn` (BEGIN at construction); rolled back unless
// Commit() succeeded.
class PgTransaction {
 public:
  static absl::StatusOr<std::unique_ptr<PgTransaction>> Begin(PgConnection& conn);
  ~PgTransaction();
  absl::Status Commit();

 private:
  explicit PgTransaction(PgConnection& conn) : conn_(conn) {}
  PgConnection& conn_;
  bool done_ = false;
};

}  // namespace videogen::jobs
