#include "server/jobs/memory_job_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace videogen::jobs {
namespace {

class FakeClock {
 public:
  absl::Time Now() const { return now_; }
  void Advance(absl::Duration d) { now_ += d; }

 private:
  absl::Time now_ = absl::FromUnixSeconds(1'000'000);
};

std::shared_ptr<Job> MakeJob(const std::string& id, const std::string& request_id, absl::Time now,
                             const std::string& fingerprint = "f1") {
  JobSpec spec;
  spec.model = "fake";
  spec.client_request_id = request_id;
  spec.fingerprint = fingerprint;
  return std::make_shared<Job>(id, std::move(spec), now);
}

// Inserts and expects the insertion to succeed.
JobStore::InsertResult Insert(JobStore& store, std::shared_ptr<Job> job) {
  absl::StatusOr<JobStore::InsertResult> r = store.InsertOrAttach(std::move(job));
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *r : JobStore::InsertResult{};
}

void Finish(Job& job, size_t bytes, absl::Time now) {
  ASSERT_TRUE(job.MarkRunning(now));
  JobResult r;
  r.bytes.assign(bytes, 'x');
  job.Succeed(std::move(r), now);
}

TEST(MemoryJobStoreTest, SameClientRequestIdAttaches) {
  FakeClock clock;
  MemoryJobStore store({}, [&] { return clock.Now(); });
  auto first = Insert(store, MakeJob("j1", "req-1", clock.Now()));
  EXPECT_TRUE(first.inserted);
  auto retry = Insert(store, MakeJob("j2", "req-1", clock.Now()));
  EXPECT_FALSE(retry.inserted);
  EXPECT_EQ(retry.job->id(), "j1");
  auto other = Insert(store, MakeJob("j3", "", clock.Now()));
  EXPECT_TRUE(other.inserted);
  EXPECT_EQ(store.size(), 2u);
}

TEST(MemoryJobStoreTest, TtlEvictsFinishedJobsOnly) {
  FakeClock clock;
  MemoryJobStore store({absl::Minutes(10), size_t{1} << 30}, [&] { return clock.Now(); });
  auto done = MakeJob("done", "", clock.Now());
  auto running = MakeJob("running", "", clock.Now());
  Insert(store, done);
  Insert(store, running);
  Finish(*done, 10, clock.Now());
  ASSERT_TRUE(running->MarkRunning(clock.Now()));
  clock.Advance(absl::Minutes(9));
  EXPECT_EQ(store.Sweep(), 0u);
  clock.Advance(absl::Minutes(2));
  EXPECT_EQ(store.Sweep(), 1u);
  EXPECT_EQ(store.Find("done"), nullptr);
  EXPECT_NE(store.Find("running"), nullptr);
}

TEST(MemoryJobStoreTest, ByteBudgetEvictsOldestFinishedFirst) {
  FakeClock clock;
  MemoryJobStore store({absl::Hours(1), 250}, [&] { return clock.Now(); });
  for (const char* id : {"a", "b", "c"}) {
    auto job = MakeJob(id, std::string("req-") + id, clock.Now());
    Insert(store, job);
    Finish(*job, 100, clock.Now());
    clock.Advance(absl::Seconds(1));
  }
  EXPECT_EQ(store.retained_bytes(), 300u);
  EXPECT_EQ(store.Sweep(), 1u);
  EXPECT_EQ(store.Find("a"), nullptr);
  EXPECT_NE(store.Find("b"), nullptr);
  EXPECT_NE(store.Find("c"), nullptr);
  EXPECT_EQ(store.retained_bytes(), 200u);
  // The evicted job's idempotency key is free again.
  EXPECT_TRUE(Insert(store, MakeJob("a2", "req-a", clock.Now())).inserted);
}

TEST(MemoryJobStoreTest, RecentIsNewestFirst) {
  FakeClock clock;
  MemoryJobStore store({}, [&] { return clock.Now(); });
  for (const char* id : {"a", "b", "c"}) {
    Insert(store, MakeJob(id, "", clock.Now()));
    clock.Advance(absl::Seconds(1));
  }
  auto recent = store.Recent(2);
  ASSERT_EQ(recent.size(), 2u);
  EXPECT_EQ(recent[0]->id(), "c");
  EXPECT_EQ(recent[1]->id(), "b");
}

TEST(MemoryJobStoreTest, SameKeyDifferentParametersIsAlreadyExistsNamingTheKey) {
  FakeClock clock;
  MemoryJobStore store({}, [&] { return clock.Now(); });
  Insert(store, MakeJob("j1", "req-1", clock.Now(), "params-a"));
  auto other = store.InsertOrAttach(MakeJob("j2", "req-1", clock.Now(), "params-b"));
  ASSERT_EQ(other.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(std::string(other.status().message()), ::testing::HasSubstr("client_request_id"));
  EXPECT_THAT(std::string(other.status().message()), ::testing::HasSubstr("j1"));
  EXPECT_EQ(store.size(), 1u);
}

TEST(MemoryJobStoreTest, LongKeysAreCutInTheMessage) {
  FakeClock clock;
  MemoryJobStore store({}, [&] { return clock.Now(); });
  const std::string key(100000, 'k');
  Insert(store, MakeJob("j1", key, clock.Now(), "params-a"));
  auto other = store.InsertOrAttach(MakeJob("j2", key, clock.Now(), "params-b"));
  ASSERT_EQ(other.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_LT(other.status().message().size(), 300u);
}

TEST(MemoryJobStoreTest, KeyOfAJobEndedByAServerFaultMakesANewJob) {
  FakeClock clock;
  MemoryJobStore store({}, [&] { return clock.Now(); });
  for (const absl::Status& fault : {absl::UnavailableError("drained"), absl::InternalError("crash limit"),
                                    absl::ResourceExhaustedError("out of memory")}) {
    const std::string key = std::string("req-") + absl::StatusCodeToString(fault.code());
    auto first = MakeJob(key + "-1", key, clock.Now(), "params-a");
    Insert(store, first);
    first->Fail(fault, clock.Now());
    auto retry = Insert(store, MakeJob(key + "-2", key, clock.Now(), "params-b"));
    EXPECT_TRUE(retry.inserted) << fault;
    // The key now names the new job.
    auto again = Insert(store, MakeJob(key + "-3", key, clock.Now(), "params-b"));
    EXPECT_FALSE(again.inserted);
    EXPECT_EQ(again.job->id(), key + "-2");
  }
}

TEST(MemoryJobStoreTest, KeyOfACancelledJobStillAttaches) {
  FakeClock clock;
  MemoryJobStore store({}, [&] { return clock.Now(); });
  auto first = MakeJob("j1", "req-1", clock.Now());
  Insert(store, first);
  first->Fail(absl::CancelledError("by the client"), clock.Now());
  auto retry = Insert(store, MakeJob("j2", "req-1", clock.Now()));
  EXPECT_FALSE(retry.inserted);
  EXPECT_EQ(retry.job->id(), "j1");
}

TEST(MemoryJobStoreTest, HeldBytesCountTheDecodedInputImageUntilTheJobEnds) {
  FakeClock clock;
  MemoryJobStore store({absl::Hours(1), 1000}, [&] { return clock.Now(); });
  JobSpec spec;
  spec.model = "fake";
  pipeline::RgbImage image;
  image.width = 20;
  image.height = 20;
  image.rgb.assign(20 * 20 * 3, 0);  // 1200 bytes: over the budget alone
  spec.request.image = image;
  auto job = std::make_shared<Job>("img", std::move(spec), clock.Now());
  Insert(store, job);
  EXPECT_EQ(store.retained_bytes(), 1200u);
  EXPECT_EQ(store.Sweep(), 0u);  // unfinished jobs are never evicted
  job->Fail(absl::CancelledError("cancelled"), clock.Now());
  EXPECT_EQ(store.retained_bytes(), 0u);  // a finished job keeps no image
  EXPECT_EQ(store.Sweep(), 0u);
  EXPECT_EQ(store.size(), 1u);
}

TEST(MemoryJobStoreTest, JobCountIsBounded) {
  FakeClock clock;
  RetentionOptions options;
  options.max_jobs = 2;
  MemoryJobStore store(options, [&] { return clock.Now(); });
  for (const char* id : {"a", "b", "c", "d"}) {
    auto job = MakeJob(id, "", clock.Now());
    Insert(store, job);
    Finish(*job, 1, clock.Now());
    clock.Advance(absl::Seconds(1));
  }
  EXPECT_EQ(store.Sweep(), 2u);
  EXPECT_EQ(store.Find("a"), nullptr);
  EXPECT_EQ(store.Find("b"), nullptr);
  EXPECT_NE(store.Find("d"), nullptr);
}

}  // namespace
}  // namespace videogen::jobs
