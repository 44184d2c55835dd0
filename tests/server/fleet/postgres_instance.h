// Test support: a real PostgreSQL server of its own for a test, from
// Debian's `postgresql` package: initdb on a temporary directory, then the
// postgres server listening only on a Unix socket in that directory (no
// port to collide with). It runs as a child of the test process that dies
// with it (PR_SET_PDEATHSIG), so a crashed test leaves no server behind; the
// destructor stops it and removes the directory. As root (initdb refuses
// root) it runs as the `postgres` user, or `nobody`.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace videogen::testing {

// Where initdb and postgres are: `pg_config --bindir`, else the newest
// /usr/lib/postgresql/*/bin that has them; "" when none.
std::string PostgresBinDir();

class PostgresInstance {
 public:
  // Errors: NotFound when PostgreSQL is not installed (bootstrap installs
  // it), Internal when initdb or the server fails (with its log).
  static absl::StatusOr<std::unique_ptr<PostgresInstance>> Start();
  ~PostgresInstance();

  // A postgresql:// URI for database `db` as the superuser `videogen`.
  std::string dsn(const std::string& db = "postgres") const;
  // Creates a new, empty database (db1, db2, ...: one per test, so tests
  // share one server) and returns its name.
  absl::StatusOr<std::string> CreateDatabase();
  // Runs one SQL statement on database `db` through libpq and returns the
  // first column of the first row ("" when no row). Internal on errors.
  absl::StatusOr<std::string> Query(const std::string& sql, const std::string& db = "postgres") const;

 private:
  PostgresInstance() = default;
  std::string dir_;
  pid_t pid_ = -1;
  int databases_ = 0;
};

}  // namespace videogen::testing
