// Durable jobs through the real videogen-server (--model fake): the server is
// killed with SIGKILL while one job runs and others wait, restarted on the
// same --state-dir, and nothing is lost.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <filesystem>

#include "server/service/sha256.h"
#include "tests/server/exe/test_util.h"

namespace videogen::testing {
namespace {

using ::testing::HasSubstr;

// A GenerateVideo call left open: read up to an event, then abandoned.
struct OpenCall {
  grpc::ClientContext context;
  std::unique_ptr<grpc::ClientReader<v1::JobEvent>> reader;
  std::string job_id;

  void Abandon() {
    context.TryCancel();
    reader->Finish();
  }
};

// Submits `request` and reads until `stop` (an event of the job); job_id from `accepted`.
template <typename Pred>
std::unique_ptr<OpenCall> Submit(v1::VideoGeneration::Stub& stub, const v1::GenerateVideoRequest& request,
                                 Pred stop) {
  auto call = std::make_unique<OpenCall>();
  call->context.set_deadline(In(std::chrono::seconds(120)));
  call->reader = stub.GenerateVideo(&call->context, request);
  std::vector<v1::JobEvent> seen = ReadUntil(call->reader.get(), stop);
  if (!seen.empty()) call->job_id = seen.front().job_id();
  return call;
}

v1::GenerateVideoRequest Request(uint32_t steps, const std::string& key, const std::string& prompt) {
  v1::GenerateVideoRequest r = FakeRequest(steps);
  r.set_client_request_id(key);
  r.set_prompt(prompt);
  return r;
}

// The seed recorded for `job_id` in DIR/jobs.db (read while no server runs).
uint64_t StoredSeed(const std::string& dir, const std::string& job_id) {
  sqlite3* db = nullptr;
  uint64_t seed = 0;
  if (sqlite3_open_v2((dir + "/jobs.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* q = nullptr;
    sqlite3_prepare_v2(db, "SELECT seed FROM jobs WHERE job_id = ?", -1, &q, nullptr);
    sqlite3_bind_text(q, 1, job_id.c_str(), -1, SQLITE_TRANSIENT);
    if (sqlite3_step(q) == SQLITE_ROW) seed = static_cast<uint64_t>(sqlite3_column_int64(q, 0));
    sqlite3_finalize(q);
  }
  sqlite3_close(db);
  EXPECT_NE(seed, 0u) << "no seed recorded for " << job_id;
  return seed;
}

// Position of the first `event=job_started job_id=ID` line in `logs` (npos if none).
size_t StartedAt(const std::string& logs, const std::string& job_id) {
  return logs.find("event=job_started job_id=" + job_id);
}

TEST(ServerDurabilityTest, KillNineThenRestartLosesNothing) {
  StateDir dir;
  ASSERT_FALSE(dir.path().empty());
  // Slow steps: the long job is surely still running when the server is killed.
  auto first = ServerProcess::Start({"--model", "fake", "--fake-step-ms", "50", "--state-dir", dir.path()});
  ASSERT_TRUE(first.ok()) << first.status();
  auto stub = Connect(**first);

  // A job that finishes before the crash.
  const v1::GenerateVideoRequest done_request = Request(2, "done-1", "finished before the crash");
  JobStream done = Generate(*stub, done_request);
  ASSERT_TRUE(done.status.ok()) << done.status.error_message();
  ASSERT_NE(done.completed(), nullptr);

  // One job running (100 steps: 5 s at 50 ms; it is killed within its first
  // steps) and two waiting behind it.
  const v1::GenerateVideoRequest running_request = Request(100, "running-1", "running at the crash");
  auto running = Submit(*stub, running_request, [](const v1::JobEvent& e) {
    return e.has_progress() && e.progress().stage() == v1::DENOISING;
  });
  ASSERT_FALSE(running->job_id.empty());
  const v1::GenerateVideoRequest queued_request = Request(3, "queued-1", "queued at the crash");
  auto queued = Submit(*stub, queued_request, [](const v1::JobEvent& e) { return e.has_accepted(); });
  auto queued2 =
      Submit(*stub, Request(3, "queued-2", "queued second"), [](const v1::JobEvent& e) { return e.has_accepted(); });
  ASSERT_FALSE(queued->job_id.empty());
  ASSERT_FALSE(queued2->job_id.empty());
  EXPECT_EQ(GetJob(*stub, running->job_id).state(), v1::RUNNING);
  EXPECT_EQ(GetJob(*stub, queued->job_id).state(), v1::QUEUED);

  EXPECT_EQ((*first)->SignalAndWait(SIGKILL), 128 + SIGKILL);
  running->Abandon();
  queued->Abandon();
  queued2->Abandon();
  const uint64_t seed_at_accept = StoredSeed(dir.path(), running->job_id);

  auto second = ServerProcess::Start({"--model", "fake", "--fake-step-ms", "1", "--state-dir", dir.path()});
  ASSERT_TRUE(second.ok()) << second.status();
  stub = Connect(**second);

  // The running job ran again from the start (attempt 2), the queued ones
  // after it in their order.
  JobStream rerun = Watch(*stub, running->job_id);
  ASSERT_TRUE(rerun.status.ok()) << rerun.status.error_message();
  ASSERT_NE(rerun.completed(), nullptr) << (rerun.failed() ? rerun.failed()->message() : "");
  EXPECT_EQ(rerun.completed()->sha256(), service::Sha256Hex(rerun.video));
  EXPECT_EQ(GetJob(*stub, running->job_id).attempt(), 2u);
  for (const auto* call : {queued.get(), queued2.get()}) {
    JobStream q = Watch(*stub, call->job_id);
    ASSERT_TRUE(q.status.ok()) << q.status.error_message();
    ASSERT_NE(q.completed(), nullptr) << (q.failed() ? q.failed()->message() : "");
    EXPECT_EQ(GetJob(*stub, call->job_id).attempt(), 1u);
  }
  const std::string logs = (*second)->Logs();
  ASSERT_NE(StartedAt(logs, running->job_id), std::string::npos);
  ASSERT_NE(StartedAt(logs, queued->job_id), std::string::npos);
  EXPECT_LT(StartedAt(logs, running->job_id), StartedAt(logs, queued->job_id));
  EXPECT_LT(StartedAt(logs, queued->job_id), StartedAt(logs, queued2->job_id));

  // It ran with the seed chosen when it was accepted, recorded before the crash,
  // and gave the video an uninterrupted run of the request with it gives, byte
  // for byte.
  EXPECT_EQ(rerun.completed()->seed(), seed_at_accept);
  v1::GenerateVideoRequest uninterrupted = running_request;
  uninterrupted.clear_client_request_id();
  uninterrupted.set_seed(seed_at_accept);
  JobStream fresh = Generate(*stub, uninterrupted);
  ASSERT_NE(fresh.completed(), nullptr) << fresh.status.error_message();
  EXPECT_EQ(fresh.completed()->sha256(), rerun.completed()->sha256());

  // The job finished before the crash is still watchable, byte for byte.
  JobStream kept = Watch(*stub, done.job_id());
  ASSERT_NE(kept.completed(), nullptr);
  EXPECT_EQ(kept.completed()->sha256(), done.completed()->sha256());
  EXPECT_EQ(kept.video, done.video);

  // Keys still deduplicate: same key and parameters attach to the same job...
  JobStream retry = Generate(*stub, running_request);
  ASSERT_TRUE(retry.status.ok()) << retry.status.error_message();
  EXPECT_EQ(retry.job_id(), running->job_id);
  EXPECT_EQ(retry.video, rerun.video);
  JobStream retry_done = Generate(*stub, done_request);
  EXPECT_EQ(retry_done.job_id(), done.job_id());
  // ...and other parameters under a used key are refused, naming the field.
  v1::GenerateVideoRequest changed = done_request;
  changed.set_width(128);
  changed.set_height(128);
  JobStream conflict = Generate(*stub, changed);
  EXPECT_EQ(conflict.status.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_THAT(conflict.status.error_message(), HasSubstr("client_request_id"));

  grpc::ClientContext ctx;
  v1::ListJobsResponse jobs;
  ASSERT_TRUE(stub->ListJobs(&ctx, v1::ListJobsRequest(), &jobs).ok());
  EXPECT_EQ(jobs.jobs_size(), 5);  // done, running, two queued, the uninterrupted run
}

TEST(ServerDurabilityTest, AJobThatKeepsCrashingTheServerFailsWithInternal) {
  StateDir dir;
  ASSERT_FALSE(dir.path().empty());
  const std::vector<std::string> args = {"--model",           "fake", "--fake-step-ms", "50", "--state-dir",
                                         dir.path(),          "--max-job-crashes",      "1"};
  auto first = ServerProcess::Start(args);
  ASSERT_TRUE(first.ok()) << first.status();
  auto stub = Connect(**first);
  const v1::GenerateVideoRequest request = Request(100, "crashes-1", "crashes the server");
  auto call = Submit(*stub, request, [](const v1::JobEvent& e) { return e.has_progress(); });
  ASSERT_FALSE(call->job_id.empty());
  EXPECT_EQ((*first)->SignalAndWait(SIGKILL), 128 + SIGKILL);
  call->Abandon();

  auto second = ServerProcess::Start(args);
  ASSERT_TRUE(second.ok()) << second.status();
  stub = Connect(**second);
  JobStream after = Watch(*stub, call->job_id);
  ASSERT_NE(after.failed(), nullptr);
  EXPECT_EQ(after.failed()->code(), static_cast<int>(grpc::StatusCode::INTERNAL));
  EXPECT_THAT(after.failed()->message(), HasSubstr("not run again"));
  // A key whose job failed on the server's side may be retried as a new job.
  v1::GenerateVideoRequest retry = request;
  retry.set_steps(2);
  JobStream again = Generate(*stub, retry);
  ASSERT_NE(again.completed(), nullptr) << again.status.error_message();
  EXPECT_NE(again.job_id(), call->job_id);
}

TEST(ServerDurabilityTest, OneServerPerStateDirectory) {
  StateDir dir;
  ASSERT_FALSE(dir.path().empty());
  auto first = ServerProcess::Start({"--model", "fake", "--state-dir", dir.path()});
  ASSERT_TRUE(first.ok()) << first.status();
  auto second = ServerProcess::Start({"--model", "fake", "--state-dir", dir.path()});
  ASSERT_FALSE(second.ok());
  EXPECT_THAT(std::string(second.status().message()), HasSubstr("in use by another videogen-server"));
}

}  // namespace
}  // namespace videogen::testing
