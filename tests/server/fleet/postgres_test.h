// Test support: a GoogleTest fixture with one real PostgreSQL server for the
// whole suite (started once in SetUpTestSuite, stopped in
// TearDownTestSuite) and a fresh, empty database for each test (`db_`). When
// the server cannot start, every test of the suite fails naming why.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "absl/time/clock.h"
#include "absl/time/time.h"

#include "tests/server/fleet/postgres_instance.h"

namespace videogen::testing {

// Polls `done` every 10 ms until it holds or `timeout` passed; returns
// whether it held (the fleet's state changes in other processes, which
// offer nothing to wait on but the database and their logs).
inline bool PollUntil(const std::function<bool()>& done, absl::Duration timeout = absl::Seconds(60)) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!done()) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return true;
}

class PostgresTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto pg = PostgresInstance::Start();
    if (pg.ok()) {
      pg_ = pg->release();
    } else {
      start_error_ = new std::string(pg.status().ToString());
    }
  }
  static void TearDownTestSuite() {
    delete pg_;
    pg_ = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(pg_, nullptr) << (start_error_ != nullptr ? *start_error_ : "");
    auto db = pg_->CreateDatabase();
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = *db;
  }

  static inline PostgresInstance* pg_ = nullptr;
  static inline std::string* start_error_ = nullptr;
  std::string db_;
};

}  // namespace videogen::testing
