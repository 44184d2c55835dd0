#include "server/jobs/postgres_connection.h"

#include <libpq-fe.h>

#include <cstdlib>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace videogen::jobs {

namespace {
std::string Trimmed(const char* message) {
  std::string s = message != nullptr ? message : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}
}  // namespace

PgParam PgParam::Real(double v) { return PgParam{absl::StrFormat("%.17g", v), false}; }

PgRows::PgRows(pg_result* result) : result_(result) {}
PgRows::~PgRows() { PQclear(result_); }
PgRows::PgRows(PgRows&& other) noexcept : result_(std::exchange(other.result_, nullptr)) {}
PgRows& PgRows::operator=(PgRows&& other) noexcept {
  if (this != &other) {
    PQclear(result_);
    result_ = std::exchange(other.result_, nullptr);
  }
  return *this;
}

int PgRows::rows() const { return result_ == nullptr ? 0 : PQntuples(result_); }
bool PgRows::IsNull(int row, int col) const { return PQgetisnull(result_, row, col) != 0; }
std::string PgRows::Text(int row, int col) const {
  return std::string(PQgetvalue(result_, row, col), static_cast<size_t>(PQgetlength(result_, row, col)));
}
int64_t PgRows::Int(int row, int col) const {
  int64_t v = 0;
  if (IsNull(row, col) || !absl::SimpleAtoi(PQgetvalue(result_, row, col), &v)) return 0;
  return v;
}
double PgRows::Real(int row, int col) const {
  double v = 0;
  if (IsNull(row, col) || !absl::SimpleAtod(PQgetvalue(result_, row, col), &v)) return 0;
  return v;
}
std::string PgRows::Bytes(int row, int col) const {
  if (IsNull(row, col)) return "";
  size_t n = 0;
  unsigned char* raw = PQunescapeBytea(reinterpret_cast<const unsigned char*>(PQgetvalue(result_, row, col)), &n);
  if (raw == nullptr) return "";
  std::string out(reinterpret_cast<const char*>(raw), n);
  PQfreemem(raw);
  return out;
}
int64_t PgRows::affected() const {
  int64_t v = 0;
  return absl::SimpleAtoi(PQcmdTuples(result_), &v) ? v : 0;
}

absl::StatusOr<std::unique_ptr<PgConnection>> PgConnection::Connect(const std::string& dsn) {
  pg_conn* conn = PQconnectdb(dsn.c_str());
  if (conn == nullptr) return absl::UnavailableError("job store: out of memory connecting to PostgreSQL");
  if (PQstatus(conn) != CONNECTION_OK) {
    // libpq's message names host and port, never the password.
    absl::Status s = absl::UnavailableError(absl::StrCat("job store: cannot connect to PostgreSQL: ",
                                                         Trimmed(PQerrorMessage(conn))));
    PQfinish(conn);
    return s;
  }
  return std::unique_ptr<PgConnection>(new PgConnection(conn));
}

PgConnection::~PgConnection() { PQfinish(conn_); }

std::string PgConnection::Describe() const {
  const char* host = PQhost(conn_);
  return absl::StrCat(Trimmed(PQuser(conn_)), "@", Trimmed(host), ":", Trimmed(PQport(conn_)), "/",
                      Trimmed(PQdb(conn_)));
}

absl::Status PgConnection::EnsureConnected() {
  if (PQstatus(conn_) == CONNECTION_OK) return absl::OkStatus();
  PQreset(conn_);
  if (PQstatus(conn_) == CONNECTION_OK) {
    ++generation_;
    return absl::OkStatus();
  }
  return absl::UnavailableError(
      absl::StrCat("job store: the connection to PostgreSQL is lost: ", Trimmed(PQerrorMessage(conn_))));
}

absl::StatusOr<PgRows> PgConnection::Exec(const std::string& sql, const std::vector<PgParam>& params,
                                          bool binary_results) {
  sqlstate_.clear();
  if (absl::Status s = EnsureConnected(); !s.ok()) return s;
  std::vector<const char*> values;
  std::vector<int> lengths;
  std::vector<int> formats;
  for (const PgParam& p : params) {
    values.push_back(p.value ? p.value->data() : nullptr);
    lengths.push_back(p.value ? static_cast<int>(p.value->size()) : 0);
    formats.push_back(p.binary ? 1 : 0);
  }
  pg_result* result = PQexecParams(conn_, sql.c_str(), static_cast<int>(params.size()), nullptr, values.data(),
                                   lengths.data(), formats.data(), binary_results ? 1 : 0);
  const ExecStatusType status = result != nullptr ? PQresultStatus(result) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return PgRows(result);
  const bool lost = PQstatus(conn_) != CONNECTION_OK;
  if (result != nullptr) {
    const char* state = PQresultErrorField(result, PG_DIAG_SQLSTATE);
    sqlstate_ = state != nullptr ? state : "";
  }
  const std::string message = Trimmed(result != nullptr ? PQresultErrorMessage(result) : PQerrorMessage(conn_));
  PQclear(result);
  if (lost) return absl::UnavailableError(absl::StrCat("job store: the connection to PostgreSQL is lost: ", message));
  return absl::InternalError(absl::StrCat("job store: PostgreSQL: ", message));
}

absl::Status PgConnection::Run(const std::string& sql, const std::vector<PgParam>& params) {
  return Exec(sql, params).status();
}

absl::Status PgConnection::RunScript(const std::string& sql) {
  sqlstate_.clear();
  if (absl::Status s = EnsureConnected(); !s.ok()) return s;
  pg_result* result = PQexec(conn_, sql.c_str());
  const ExecStatusType status = result != nullptr ? PQresultStatus(result) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
    PQclear(result);
    return absl::OkStatus();
  }
  const std::string message = Trimmed(result != nullptr ? PQresultErrorMessage(result) : PQerrorMessage(conn_));
  PQclear(result);
  return absl::InternalError(absl::StrCat("job store: PostgreSQL: ", message));
}

int PgConnection::socket() const { return PQsocket(conn_); }

absl::Status PgConnection::Consume() {
  if (PQconsumeInput(conn_) == 1) return absl::OkStatus();
  return EnsureConnected();
}

std::vector<std::string> PgConnection::TakeNotifications() {
  std::vector<std::string> out;
  while (PGnotify* n = PQnotifies(conn_)) {
    out.emplace_back(n->extra != nullptr ? n->extra : "");
    PQfreemem(n);
  }
  return out;
}

absl::StatusOr<std::unique_ptr<PgTransaction>> PgTransaction::Begin(PgConnection& conn) {
  if (absl::Status s = conn.Run("BEGIN"); !s.ok()) return s;
  return std::unique_ptr<PgTransaction>(new PgTransaction(conn));
}

PgTransaction::~PgTransaction() {
  if (!done_) conn_.Run("ROLLBACK").IgnoreError();
}

absl::Status PgTransaction::Commit() {
  done_ = true;
  return conn_.Run("COMMIT");
}

}  // namespace videogen::jobs
