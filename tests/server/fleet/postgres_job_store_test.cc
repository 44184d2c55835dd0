// PostgresJobStore against a real PostgreSQL started by the test: several
// stores on one database stand for the servers of a fleet.
#include "server/jobs/postgres_job_store.h"
#include "server/jobs/postgres_migrations.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tests/server/fleet/postgres_instance.h"
#include "tests/server/fleet/postgres_test.h"

namespace videogen::jobs {
namespace {

using ::testing::HasSubstr;
using testing::PostgresInstance;
using testing::PollUntil;
using testing::PostgresTest;

// The persisted request of these tests is the prompt itself.
absl::StatusOr<JobSpec> DecodeSpec(const std::string& persisted, std::optional<CancelToken::Clock::time_point>) {
  if (persisted.empty()) return absl::DataLossError("request: empty");
  JobSpec spec;
  spec.model = "fake";
  spec.request.prompt = persisted;
  spec.persisted_request = persisted;
  return spec;
}

std::shared_ptr<Job> NewJob(const std::string& id, const std::string& prompt, int priority = 0,
                            const std::string& key = "") {
  JobSpec spec;
  spec.model = "fake";
  spec.request.prompt = prompt;
  spec.request.seed = 42;
  spec.priority = priority;
  spec.client_request_id = key;
  spec.fingerprint = "fp-" + prompt;
  spec.persisted_request = prompt;
  return std::make_shared<Job>(id, std::move(spec), absl::Now());
}

// One PostgreSQL for the suite, a fresh database for each test.
class PostgresJobStoreTest : public PostgresTest {
 protected:
  absl::StatusOr<std::unique_ptr<PostgresJobStore>> Open(const std::string& replica,
                                                         std::function<void(PostgresJobStoreOptions&)> tweak = {}) {
    PostgresJobStoreOptions o;
    o.dsn = pg_->dsn(db_);
    o.replica_id = replica;
    o.lease = absl::Hours(1);  // nothing expires unless a test says so
    o.tick = absl::Milliseconds(50);
    o.decode_spec = DecodeSpec;
    if (tweak) tweak(o);
    return PostgresJobStore::Open(std::move(o));
  }
  std::string Query(const std::string& sql) {
    auto r = pg_->Query(sql, db_);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : "";
  }
  // Makes every running job's lease run out now (its server "died").
  void ExpireLeases() { Query("UPDATE videogen_jobs SET lease_until = now() - interval '1 second'"); }

};

TEST_F(PostgresJobStoreTest, ConcurrentStartsApplyTheMigrationsOnce) {
  std::vector<absl::Status> results(4);
  std::vector<std::unique_ptr<PostgresJobStore>> stores(4);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      auto s = Open(absl::StrCat("r", i));
      results[i] = s.status();
      if (s.ok()) stores[i] = *std::move(s);
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& s : results) EXPECT_TRUE(s.ok()) << s;
  EXPECT_EQ(Query("SELECT count(*) FROM videogen_schema_migrations"), std::to_string(PgMigrations().size()));
}

TEST_F(PostgresJobStoreTest, ADatabaseMigratedByANewerServerIsRefused) {
  { ASSERT_TRUE(Open("old").ok()); }
  Query("INSERT INTO videogen_schema_migrations (version, name) VALUES (999, 'from the future')");
  auto store = Open("old");
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(store.status().message()), HasSubstr("schema version 999"));
}

TEST_F(PostgresJobStoreTest, ClaimsByPriorityThenAgeAndTheQueueIsBounded) {
  auto a = Open("a", [](PostgresJobStoreOptions& o) { o.max_queue = 3; });
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE((*a)->InsertOrAttach(NewJob("j1", "first")).ok());
  ASSERT_TRUE((*a)->InsertOrAttach(NewJob("j2", "urgent", 5)).ok());
  ASSERT_TRUE((*a)->InsertOrAttach(NewJob("j3", "third")).ok());
  auto full = (*a)->InsertOrAttach(NewJob("j4", "one too many"));
  EXPECT_EQ(full.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(full.status().message()), HasSubstr("depth 3 of max 3"));
  EXPECT_EQ((*a)->depth(), 3u);
  // Claimed from another server: the queue is the database's.
  auto b = Open("b");
  ASSERT_TRUE(b.ok()) << b.status();
  std::vector<std::string> order;
  for (int i = 0; i < 3; ++i) order.push_back((*b)->Pop()->id());
  EXPECT_EQ(order, (std::vector<std::string>{"j2", "j1", "j3"}));
  EXPECT_EQ(Query("SELECT string_agg(owner || ':' || attempts, ',' ORDER BY job_id) FROM videogen_jobs"),
            "b:1,b:1,b:1");
}

TEST_F(PostgresJobStoreTest, ProgressAndTheVideoReachACopyOnAnotherServer) {
  auto a = Open("a");
  auto b = Open("b");
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE((*a)->InsertOrAttach(NewJob("j1", "watched from b")).ok());
  std::shared_ptr<Job> copy = (*b)->Find("j1");
  ASSERT_NE(copy, nullptr);
  EXPECT_EQ(copy->state(), JobState::kQueued);
  EXPECT_EQ(copy->Snapshot().queue_position, 1);

  std::shared_ptr<Job> running = (*a)->Pop();
  ASSERT_EQ(running->id(), "j1");
  ASSERT_TRUE(running->MarkRunning(absl::Now()));
  running->ReportProgress(pipeline::Stage::kDenoising, 3, 8, absl::Now());
  EXPECT_TRUE(PollUntil([&] {
    const JobSnapshot s = copy->Snapshot();
    return s.state == JobState::kRunning && !s.stages.empty() && s.stages.back().step == 3;
  }));
  EXPECT_EQ(copy->attempt(), 1);

  JobResult result;  // 2.5 MiB: three chunks
  result.bytes.assign((size_t{5} << 20) / 2, '\0');
  for (size_t i = 0; i < result.bytes.size(); ++i) result.bytes[i] = static_cast<char>(i * 7 + i / 4096);
  result.sha256 = "not checked here";
  result.width = 64;
  result.frames = 9;
  result.seed = 42;
  running->Succeed(result, absl::Now());
  EXPECT_EQ(Query("SELECT count(*) FROM videogen_job_chunks WHERE job_id = 'j1'"), "3");
  ASSERT_TRUE(PollUntil([&] { return copy->state() == JobState::kSucceeded; }));
  const JobSnapshot done = copy->Snapshot();
  ASSERT_NE(done.result, nullptr);
  EXPECT_EQ(done.result->bytes, result.bytes);
  EXPECT_EQ(done.result->width, 64);
  EXPECT_EQ(done.result->seed, 42u);
  // A server that never saw the job reads it whole too.
  auto c = Open("c");
  ASSERT_TRUE(c.ok());
  std::shared_ptr<Job> late = (*c)->Find("j1");
  ASSERT_NE(late, nullptr);
  ASSERT_NE(late->Snapshot().result, nullptr);
  EXPECT_EQ(late->Snapshot().result->bytes, result.bytes);
}

TEST_F(PostgresJobStoreTest, AnExpiredLeaseIsClaimedAgainAndTheOldWorkerRecordsNothing) {
  auto a = Open("a");
  auto b = Open("b");
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE((*a)->InsertOrAttach(NewJob("j1", "outlives its lease")).ok());
  std::shared_ptr<Job> first = (*a)->Pop();
  ASSERT_TRUE(first->MarkRunning(absl::Now()));
  ExpireLeases();
  std::shared_ptr<Job> second = (*b)->Pop();
  ASSERT_EQ(second->id(), "j1");
  ASSERT_TRUE(second->MarkRunning(absl::Now()));
  EXPECT_EQ(second->attempt(), 2);
  EXPECT_EQ(second->spec().request.prompt, "outlives its lease");
  // a notices it lost the job: its worker is asked to stop.
  EXPECT_TRUE(PollUntil([&] { return first->cancel_token().cancelled(); }));
  JobResult stale;
  stale.bytes = "stale";
  first->Succeed(stale, absl::Now());  // fenced: not recorded
  EXPECT_EQ(Query("SELECT state || ':' || owner || ':' || attempts FROM videogen_jobs"), "running:b:2");
  JobResult fresh;
  fresh.bytes = "fresh";
  second->Succeed(fresh, absl::Now());
  EXPECT_EQ(Query("SELECT state || ':' || attempts || ':' || result_bytes FROM videogen_jobs"), "succeeded:2:5");
}

TEST_F(PostgresJobStoreTest, AJobWhoseServersKeepDyingFailsAtTheCrashLimit) {
  auto a = Open("a", [](PostgresJobStoreOptions& o) { o.max_crashes = 1; });
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE((*a)->InsertOrAttach(NewJob("j1", "kills its server")).ok());
  ASSERT_TRUE((*a)->InsertOrAttach(NewJob("j2", "innocent")).ok());
  std::shared_ptr<Job> first = (*a)->Pop();
  ASSERT_EQ(first->id(), "j1");
  ExpireLeases();
  // The next claim refuses j1 (it was running when its server died, the
  // limit) and takes j2.
  std::shared_ptr<Job> next = (*a)->Pop();
  EXPECT_EQ(next->id(), "j2");
  EXPECT_EQ(Query("SELECT state || ':' || error_code FROM videogen_jobs WHERE job_id = 'j1'"),
            absl::StrCat("failed:", static_cast<int>(absl::StatusCode::kInternal)));
  EXPECT_THAT(Query("SELECT error_message FROM videogen_jobs WHERE job_id = 'j1'"), HasSubstr("not run again"));
}

TEST_F(PostgresJobStoreTest, KeysAreUniqueAcrossServersAndCancelReachesEveryCopy) {
  auto a = Open("a");
  auto b = Open("b");
  ASSERT_TRUE(a.ok() && b.ok());
  auto inserted = (*a)->InsertOrAttach(NewJob("j1", "keyed", 0, "key-1"));
  ASSERT_TRUE(inserted.ok() && inserted->inserted);
  auto attached = (*b)->InsertOrAttach(NewJob("j2", "keyed", 0, "key-1"));
  ASSERT_TRUE(attached.ok()) << attached.status();
  EXPECT_FALSE(attached->inserted);
  EXPECT_EQ(attached->job->id(), "j1");
  auto conflict = (*b)->InsertOrAttach(NewJob("j3", "other parameters", 0, "key-1"));
  EXPECT_EQ(conflict.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(std::string(conflict.status().message()), HasSubstr("client_request_id"));

  // Cancelled while queued, from b: a's copy (the submitter's) is told.
  EXPECT_TRUE((*b)->Remove("j1"));
  EXPECT_TRUE(PollUntil([&] { return inserted->job->state() == JobState::kCancelled; }));
  EXPECT_EQ(inserted->job->Snapshot().error.code(), absl::StatusCode::kCancelled);
  EXPECT_EQ((*a)->depth(), 0u);

  // Running on a, cancelled from b: a's worker is asked to stop.
  ASSERT_TRUE((*a)->InsertOrAttach(NewJob("j4", "running")).ok());
  std::shared_ptr<Job> running = (*a)->Pop();
  ASSERT_TRUE(running->MarkRunning(absl::Now()));
  EXPECT_FALSE((*b)->Remove("j4"));  // not waiting: asked to stop instead
  EXPECT_TRUE(PollUntil([&] { return running->cancel_token().cancelled(); }));
}

TEST_F(PostgresJobStoreTest, RetentionDeletesFinishedJobsAndTheirChunks) {
  auto a = Open("a", [](PostgresJobStoreOptions& o) { o.retention.max_jobs = 1; });
  ASSERT_TRUE(a.ok());
  for (const char* id : {"j1", "j2"}) {
    ASSERT_TRUE((*a)->InsertOrAttach(NewJob(id, id)).ok());
    std::shared_ptr<Job> job = (*a)->Pop();
    ASSERT_TRUE(job->MarkRunning(absl::Now()));
    JobResult r;
    r.bytes = std::string(1000, 'x');
    job->Succeed(r, absl::Now());
  }
  EXPECT_EQ((*a)->Sweep(), 1u);
  EXPECT_EQ(Query("SELECT string_agg(job_id, ',') FROM videogen_jobs"), "j2");
  EXPECT_EQ(Query("SELECT count(*) FROM videogen_job_chunks WHERE job_id = 'j1'"), "0");
  EXPECT_EQ((*a)->Find("j1"), nullptr);
}

}  // namespace
}  // namespace videogen::jobs
