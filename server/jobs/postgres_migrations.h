// The PostgreSQL job store's schema, as numbered migrations kept in the tree
// (postgres_migrations.cc) and applied in order when a server starts.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "server/jobs/postgres_connection.h"

namespace videogen::jobs {

struct PgMigration {
  int version;       // 1, 2, ...: applied in order, each once
  const char* name;  // what it does
  const char* sql;   // statements, run in one transaction
};

// Every migration this server knows, oldest first.
const std::vector<PgMigration>& PgMigrations();

// Applies the migrations `conn`'s database lacks, under a session advisory
// lock, so servers starting together apply each exactly once (the others
// wait, then find nothing to do). Records each in videogen_schema_migrations.
// Errors: FailedPrecondition when the database has a migration newer than
// this server knows (a newer server migrated it); those of Exec().
absl::Status ApplyPgMigrations(PgConnection& conn);

}  // namespace videogen::jobs
