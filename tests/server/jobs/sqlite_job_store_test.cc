#include "server/jobs/sqlite_job_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace videogen::jobs {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

class FakeClock {
 public:
  absl::Time Now() const { return now_; }
  void Advance(absl::Duration d) { now_ += d; }

 private:
  absl::Time now_ = absl::FromUnixSeconds(1'700'000'000);
};

// The tests' persisted request: "SEED|PROMPT".
absl::StatusOr<JobSpec> DecodeSpec(const std::string& persisted, std::optional<CancelToken::Clock::time_point> d) {
  std::pair<std::string, std::string> parts = absl::StrSplit(persisted, absl::MaxSplits('|', 1));
  JobSpec spec;
  spec.model = "fake";
  if (!absl::SimpleAtoi(parts.first, &spec.request.seed)) return absl::DataLossError("bad seed");
  spec.request.prompt = parts.second;
  spec.deadline = d;
  return spec;
}

class SqliteJobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/videogen_sqlite_store_XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
  }
  void TearDown() override { fs::remove_all(dir_); }

  absl::StatusOr<std::unique_ptr<SqliteJobStore>> Open(RetentionOptions retention = {}, int max_crashes = 3) {
    SqliteJobStoreOptions o;
    o.state_dir = dir_;
    o.retention = retention;
    o.max_crashes = max_crashes;
    o.decode_spec = DecodeSpec;
    o.clock = [this] { return clock_.Now(); };
    return SqliteJobStore::Open(std::move(o));
  }

  std::shared_ptr<Job> MakeJob(const std::string& id, const std::string& key, uint64_t seed,
                               const std::string& prompt, const std::string& fingerprint = "fp") {
    JobSpec spec;
    spec.model = "fake";
    spec.client_request_id = key;
    spec.fingerprint = fingerprint;
    spec.request.prompt = prompt;
    spec.request.seed = seed;
    spec.persisted_request = absl::StrCat(seed, "|", prompt);
    return std::make_shared<Job>(id, std::move(spec), clock_.Now());
  }

  static JobStore::InsertResult Insert(JobStore& store, std::shared_ptr<Job> job) {
    absl::StatusOr<JobStore::InsertResult> r = store.InsertOrAttach(std::move(job));
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : JobStore::InsertResult{};
  }

  static JobResult Video(const std::string& bytes) {
    JobResult r;
    r.width = 64;
    r.height = 48;
    r.frames = 9;
    r.fps = 16;
    r.bytes = bytes;
    r.sha256 = absl::StrCat("sha-of-", bytes);
    r.seed = 7;
    return r;
  }

  std::string dir_;
  FakeClock clock_;
};

TEST_F(SqliteJobStoreTest, RestoresUnfinishedJobsInOrderAndFinishedJobsWithTheirResults) {
  {
    auto store = Open();
    ASSERT_TRUE(store.ok()) << store.status();
    auto running = MakeJob("j1", "key-1", 11, "first");
    auto queued = MakeJob("j2", "", 22, "second");
    auto done = MakeJob("j3", "key-3", 33, "third");
    auto cancelled = MakeJob("j4", "key-4", 44, "fourth");
    for (const auto& j : {running, queued, done, cancelled}) {
      Insert(**store, j);
      clock_.Advance(absl::Seconds(1));
    }
    ASSERT_TRUE(running->MarkRunning(clock_.Now()));
    ASSERT_TRUE(done->MarkRunning(clock_.Now()));
    done->Succeed(Video("video-bytes-3"), clock_.Now());
    cancelled->Fail(absl::CancelledError("cancelled by the client"), clock_.Now());
    EXPECT_TRUE(fs::exists((*store)->ResultPath(*done)));
  }  // closed with j1 running and j2 queued: as after a crash

  auto store = Open();
  ASSERT_TRUE(store.ok()) << store.status();
  std::vector<std::shared_ptr<Job>> again = (*store)->TakeUnfinished();
  ASSERT_EQ(again.size(), 2u);
  EXPECT_EQ(again[0]->id(), "j1");
  EXPECT_EQ(again[1]->id(), "j2");
  EXPECT_EQ(again[0]->spec().request.seed, 11u);
  EXPECT_EQ(again[0]->spec().request.prompt, "first");
  EXPECT_EQ(again[0]->state(), JobState::kQueued);
  EXPECT_EQ(again[0]->attempt(), 1);
  ASSERT_TRUE(again[0]->MarkRunning(clock_.Now()));
  EXPECT_EQ(again[0]->attempt(), 2);
  EXPECT_EQ(again[1]->attempt(), 0);
  EXPECT_TRUE((*store)->TakeUnfinished().empty());

  std::shared_ptr<Job> done = (*store)->Find("j3");
  ASSERT_NE(done, nullptr);
  JobSnapshot s = done->Snapshot();
  EXPECT_EQ(s.state, JobState::kSucceeded);
  ASSERT_NE(s.result, nullptr);
  EXPECT_EQ(s.result->bytes, "video-bytes-3");
  EXPECT_EQ(s.result->sha256, "sha-of-video-bytes-3");
  EXPECT_EQ(s.result->frames, 9);
  EXPECT_EQ(s.result->seed, 7u);

  std::shared_ptr<Job> cancelled = (*store)->Find("j4");
  ASSERT_NE(cancelled, nullptr);
  EXPECT_EQ(cancelled->state(), JobState::kCancelled);
  EXPECT_EQ(cancelled->Snapshot().error.message(), "cancelled by the client");
  EXPECT_EQ((*store)->Recent(10).size(), 4u);
}

TEST_F(SqliteJobStoreTest, KeysStillDeduplicateAfterReopening) {
  {
    auto store = Open();
    ASSERT_TRUE(store.ok()) << store.status();
    Insert(**store, MakeJob("j1", "key-1", 1, "p", "params-a"));
  }
  auto store = Open();
  ASSERT_TRUE(store.ok()) << store.status();
  auto same = Insert(**store, MakeJob("j2", "key-1", 1, "p", "params-a"));
  EXPECT_FALSE(same.inserted);
  EXPECT_EQ(same.job->id(), "j1");
  auto different = (*store)->InsertOrAttach(MakeJob("j3", "key-1", 1, "p", "params-b"));
  ASSERT_EQ(different.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(std::string(different.status().message()), HasSubstr("client_request_id"));
}

TEST_F(SqliteJobStoreTest, AJobThatCrashedTheServerTooOftenFailsWithInternal) {
  for (int crash = 1; crash <= 2; ++crash) {
    auto store = Open({}, /*max_crashes=*/2);
    ASSERT_TRUE(store.ok()) << store.status();
    std::shared_ptr<Job> job;
    if (crash == 1) {
      job = MakeJob("j1", "key-1", 5, "boom");
      Insert(**store, job);
    } else {
      auto again = (*store)->TakeUnfinished();
      ASSERT_EQ(again.size(), 1u);
      job = again[0];
    }
    ASSERT_TRUE(job->MarkRunning(clock_.Now()));
    EXPECT_EQ(job->attempt(), crash);
  }  // each time closed while the job runs
  auto store = Open({}, 2);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_TRUE((*store)->TakeUnfinished().empty());
  std::shared_ptr<Job> job = (*store)->Find("j1");
  ASSERT_NE(job, nullptr);
  EXPECT_EQ(job->state(), JobState::kFailed);
  EXPECT_EQ(job->Snapshot().error.code(), absl::StatusCode::kInternal);
  EXPECT_THAT(std::string(job->Snapshot().error.message()), HasSubstr("2 times"));
  // A key whose job failed on the server's side may be used again.
  auto retry = Insert(**store, MakeJob("j2", "key-1", 5, "boom", "other-params"));
  EXPECT_TRUE(retry.inserted);
}

TEST_F(SqliteJobStoreTest, EvictionDeletesTheRowAndTheVideoFile) {
  RetentionOptions retention;
  retention.ttl = absl::Minutes(10);
  std::string path;
  {
    auto store = Open(retention);
    ASSERT_TRUE(store.ok()) << store.status();
    auto job = MakeJob("j1", "key-1", 1, "p");
    Insert(**store, job);
    ASSERT_TRUE(job->MarkRunning(clock_.Now()));
    job->Succeed(Video("bytes"), clock_.Now());
    path = (*store)->ResultPath(*job);
    ASSERT_TRUE(fs::exists(path));
    EXPECT_EQ((*store)->Sweep(), 0u);
    clock_.Advance(absl::Minutes(11));
    EXPECT_EQ((*store)->Sweep(), 1u);
    EXPECT_FALSE(fs::exists(path));
    EXPECT_EQ((*store)->Find("j1"), nullptr);
  }
  auto store = Open(retention);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ((*store)->size(), 0u);
  // The key is free again.
  EXPECT_TRUE(Insert(**store, MakeJob("j2", "key-1", 1, "p", "other")).inserted);
}

TEST_F(SqliteJobStoreTest, ALostVideoFileReadsAsDataLossAndOrphansAreRemoved) {
  std::string path;
  {
    auto store = Open();
    ASSERT_TRUE(store.ok()) << store.status();
    auto job = MakeJob("j1", "", 1, "p");
    Insert(**store, job);
    ASSERT_TRUE(job->MarkRunning(clock_.Now()));
    job->Succeed(Video("bytes"), clock_.Now());
    path = (*store)->ResultPath(*job);
  }
  fs::remove(path);
  const std::string orphan = (fs::path(dir_) / "results" / "job-orphan.mp4.tmp").string();
  std::ofstream(orphan) << "partial";
  auto store = Open();
  ASSERT_TRUE(store.ok()) << store.status();
  std::shared_ptr<Job> job = (*store)->Find("j1");
  ASSERT_NE(job, nullptr);
  EXPECT_EQ(job->state(), JobState::kFailed);
  EXPECT_EQ(job->Snapshot().error.code(), absl::StatusCode::kDataLoss);
  EXPECT_FALSE(fs::exists(orphan));
}

TEST_F(SqliteJobStoreTest, OneServerPerStateDirectory) {
  auto first = Open();
  ASSERT_TRUE(first.ok()) << first.status();
  auto second = Open();
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(second.status().message()), HasSubstr("state_dir"));
  first->reset();
  EXPECT_TRUE(Open().ok());
}

TEST_F(SqliteJobStoreTest, ARequestThatNoLongerDecodesFailsWithInternal) {
  {
    auto store = Open();
    ASSERT_TRUE(store.ok()) << store.status();
    JobSpec spec;
    spec.model = "fake";
    spec.persisted_request = "not-a-seed|p";
    Insert(**store, std::make_shared<Job>("j1", std::move(spec), clock_.Now()));
  }
  auto store = Open();
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_TRUE((*store)->TakeUnfinished().empty());
  std::shared_ptr<Job> job = (*store)->Find("j1");
  ASSERT_NE(job, nullptr);
  EXPECT_EQ(job->state(), JobState::kFailed);
  EXPECT_EQ(job->Snapshot().error.code(), absl::StatusCode::kInternal);
}

TEST_F(SqliteJobStoreTest, OptionsAreChecked) {
  SqliteJobStoreOptions o;
  o.decode_spec = DecodeSpec;
  EXPECT_EQ(SqliteJobStore::Open(o).status().code(), absl::StatusCode::kInvalidArgument);
  o.state_dir = dir_;
  o.max_crashes = 0;
  EXPECT_EQ(SqliteJobStore::Open(o).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace videogen::jobs
