// Test support: a GoogleTest fixture with one real PostgreSQL server for the
// whole suite (started once in SetUpTestSuite, stopped in
// TearDownTestSuite) and a fresh, empty database for each test (`db_`). When
// the server cannot start, every test of the suite fails naming why.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "tests/server/fleet/postgres_instance.h"
#include "tests/server/support/poll.h"  // PollUntil: the fleet's state changes in other processes

namespace videogen::testing {

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
