#include "server/jobs/job_store.h"

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

std::shared_ptr<Job> MakeJob(const std::string& id, const std::string& request_id, absl::Time now) {
  JobSpec spec;
  spec.model = "fake";
  spec.client_request_id = request_id;
  return std::make_shared<Job>(id, std::move(spec), now);
}

void Finish(Job& job, size_t bytes, absl::Time now) {
  ASSERT_TRUE(job.MarkRunning(now));
  JobResult r;
  r.bytes.assign(bytes, 'x');
  job.Succeed(std::move(r), now);
}

TEST(JobStoreTest, SameClientRequestIdAttaches) {
  FakeClock clock;
  JobStore store({}, [&] { return clock.Now(); });
  auto first = store.InsertOrAttach(MakeJob("j1", "req-1", clock.Now()));
  EXPECT_TRUE(first.inserted);
  auto retry = store.InsertOrAttach(MakeJob("j2", "req-1", clock.Now()));
  EXPECT_FALSE(retry.inserted);
  EXPECT_EQ(retry.job->id(), "j1");
  auto other = store.InsertOrAttach(MakeJob("j3", "", clock.Now()));
  EXPECT_TRUE(other.inserted);
  EXPECT_EQ(store.size(), 2u);
}

TEST(JobStoreTest, TtlEvictsFinishedJobsOnly) {
  FakeClock clock;
  JobStore store({absl::Minutes(10), size_t{1} << 30}, [&] { return clock.Now(); });
  auto done = MakeJob("done", "", clock.Now());
  auto running = MakeJob("running", "", clock.Now());
  store.InsertOrAttach(done);
  store.InsertOrAttach(running);
  Finish(*done, 10, clock.Now());
  ASSERT_TRUE(running->MarkRunning(clock.Now()));
  clock.Advance(absl::Minutes(9));
  EXPECT_EQ(store.Sweep(), 0u);
  clock.Advance(absl::Minutes(2));
  EXPECT_EQ(store.Sweep(), 1u);
  EXPECT_EQ(store.Find("done"), nullptr);
  EXPECT_NE(store.Find("running"), nullptr);
}

TEST(JobStoreTest, ByteBudgetEvictsOldestFinishedFirst) {
  FakeClock clock;
  JobStore store({absl::Hours(1), 250}, [&] { return clock.Now(); });
  for (const char* id : {"a", "b", "c"}) {
    auto job = MakeJob(id, std::string("req-") + id, clock.Now());
    store.InsertOrAttach(job);
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
  EXPECT_TRUE(store.InsertOrAttach(MakeJob("a2", "req-a", clock.Now())).inserted);
}

TEST(JobStoreTest, RecentIsNewestFirst) {
  FakeClock clock;
  JobStore store({}, [&] { return clock.Now(); });
  for (const char* id : {"a", "b", "c"}) {
    store.InsertOrAttach(MakeJob(id, "", clock.Now()));
    clock.Advance(absl::Seconds(1));
  }
  auto recent = store.Recent(2);
  ASSERT_EQ(recent.size(), 2u);
  EXPECT_EQ(recent[0]->id(), "c");
  EXPECT_EQ(recent[1]->id(), "b");
}

}  // namespace
}  // namespace videogen::jobs
