// One queue for a fleet (issue #16): two or three real videogen-server
// processes (--model fake) sharing a real PostgreSQL started by the test
// (--job-store), each a separate process on 127.0.0.1. Synchronisation is
// by the job streams and by polling logs and /metrics with deadlines.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "server/service/sha256.h"
#include "tests/server/exe/test_util.h"
#include "tests/server/fleet/postgres_instance.h"
#include "tests/server/fleet/postgres_test.h"

namespace videogen::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// How many times `logs` record `event=EVENT job_id=ID `.
int Count(const std::string& logs, const std::string& event, const std::string& job_id) {
  const std::string needle = absl::StrCat("event=", event, " job_id=", job_id, " ");
  int n = 0;
  for (size_t at = logs.find(needle); at != std::string::npos; at = logs.find(needle, at + 1)) ++n;
  return n;
}

// The first line of `logs` that contains `needle` ("" if none).
std::string LogLine(const std::string& logs, const std::string& needle) {
  const size_t at = logs.find(needle);
  if (at == std::string::npos) return "";
  const size_t start = logs.rfind('\n', at);
  const size_t end = logs.find('\n', at);
  return logs.substr(start == std::string::npos ? 0 : start + 1, end == std::string::npos ? std::string::npos : end - start - 1);
}

// One PostgreSQL for the suite, a fresh database for each test.
class FleetTest : public PostgresTest {
 protected:
  void SetUp() override {
    PostgresTest::SetUp();
    if (HasFatalFailure()) return;
    dsn_ = pg_->dsn(db_);
  }

  // The seed recorded for `job_id` when it was accepted (as unsigned).
  uint64_t StoredSeed(const std::string& job_id) {
    auto seed = pg_->Query("SELECT seed FROM videogen_jobs WHERE job_id = '" + job_id + "'", db_);
    EXPECT_TRUE(seed.ok()) << seed.status();
    int64_t v = 0;
    EXPECT_TRUE(seed.ok() && absl::SimpleAtoi(*seed, &v)) << "no seed recorded for " << job_id;
    return static_cast<uint64_t>(v);
  }

  // Starts a replica named `name` with `step_ms` per fake denoising step.
  ServerProcess* StartReplica(const std::string& name, int step_ms, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"--model",     "fake",    "--fake-step-ms", std::to_string(step_ms),
                                     "--job-store", dsn_,       "--job-lease",   "1",
                                     "--replica-id", name, "--max-steps", "5000"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto server = ServerProcess::Start(args);
    EXPECT_TRUE(server.ok()) << server.status();
    if (!server.ok()) return nullptr;
    replicas_.push_back(*std::move(server));
    return replicas_.back().get();
  }

  // The replica whose worker claimed attempt `attempt` of `job_id` (polled), or nullptr.
  ServerProcess* Runner(const std::string& job_id, int attempt = 1) {
    const std::string needle = absl::StrCat("event=job_claimed job_id=", job_id, " attempt=", attempt, " ");
    ServerProcess* found = nullptr;
    PollUntil([&] {
      for (const auto& r : replicas_) {
        if (r->Logs().find(needle) != std::string::npos) found = r.get();
      }
      return found != nullptr;
    });
    return found;
  }

  std::string AllLogs() const {
    std::string all;
    for (const auto& r : replicas_) all += r->Logs();
    return all;
  }

  std::string dsn_;
  std::vector<std::unique_ptr<ServerProcess>> replicas_;
};

v1::GenerateVideoRequest Request(uint32_t steps, const std::string& key, const std::string& prompt) {
  v1::GenerateVideoRequest r = FakeRequest(steps);
  r.set_client_request_id(key);
  r.set_prompt(prompt);
  return r;
}

v1::Job GetJob(const ServerProcess& server, const std::string& job_id) {
  return ::videogen::testing::GetJob(*Connect(server), job_id);
}

// A GenerateVideo call read up to an event (job_id from the first), then left open.
struct OpenCall {
  grpc::ClientContext context;
  std::unique_ptr<v1::VideoGeneration::Stub> stub;
  std::unique_ptr<grpc::ClientReader<v1::JobEvent>> reader;
  std::string job_id;
};
template <typename Pred>
std::unique_ptr<OpenCall> Submit(const ServerProcess& server, const v1::GenerateVideoRequest& request, Pred stop) {
  auto call = std::make_unique<OpenCall>();
  call->context.set_deadline(In(std::chrono::seconds(120)));
  call->stub = Connect(server);
  call->reader = call->stub->GenerateVideo(&call->context, request);
  std::vector<v1::JobEvent> seen = ReadUntil(call->reader.get(), stop);
  if (!seen.empty()) call->job_id = seen.front().job_id();
  return call;
}
bool IsDenoising(const v1::JobEvent& e) { return e.has_progress() && e.progress().stage() == v1::DENOISING; }
bool IsAccepted(const v1::JobEvent& e) { return e.has_accepted(); }

TEST_F(FleetTest, AJobStoreThatIsNotPostgresOrUnreachableIsRefusedWithoutThePassword) {
  auto wrong = ServerProcess::Start({"--model", "fake", "--job-store", "mysql://videogen:sekret1@db/videogen"});
  ASSERT_FALSE(wrong.ok());
  EXPECT_THAT(std::string(wrong.status().message()), HasSubstr("job-store: must be a postgres://"));
  EXPECT_THAT(std::string(wrong.status().message()), Not(HasSubstr("sekret1")));
  // Port 1 on loopback: nothing listens there.
  auto unreachable =
      ServerProcess::Start({"--model", "fake", "--job-store", "postgresql://videogen:sekret2@127.0.0.1:1/videogen"});
  ASSERT_FALSE(unreachable.ok());
  EXPECT_THAT(std::string(unreachable.status().message()), HasSubstr("cannot connect to PostgreSQL"));
  EXPECT_THAT(std::string(unreachable.status().message()), Not(HasSubstr("sekret2")));
}

TEST_F(FleetTest, SubmittedToOneWatchedFromAnotherIdenticalBytes) {
  ServerProcess* a = StartReplica("a", 5);
  ServerProcess* b = StartReplica("b", 5);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  const v1::GenerateVideoRequest request = Request(4, "fleet-1", "submitted to a");
  JobStream submitted = Generate(*Connect(*a), request);
  ASSERT_TRUE(submitted.status.ok()) << submitted.status.error_message();
  ASSERT_NE(submitted.completed(), nullptr);
  EXPECT_EQ(submitted.completed()->sha256(), service::Sha256Hex(submitted.video));

  JobStream watched = Watch(*Connect(*b), submitted.job_id());
  ASSERT_TRUE(watched.status.ok()) << watched.status.error_message();
  ASSERT_NE(watched.completed(), nullptr);
  EXPECT_EQ(watched.video, submitted.video);
  EXPECT_EQ(service::Sha256Hex(watched.video), submitted.completed()->sha256());
  EXPECT_EQ(watched.completed()->seed(), submitted.completed()->seed());
  // from_offset is served from the stored chunks too.
  JobStream tail = Watch(*Connect(*b), submitted.job_id(), 100);
  EXPECT_EQ(tail.video, submitted.video.substr(100));

  EXPECT_EQ(GetJob(*b, submitted.job_id()).state(), v1::SUCCEEDED);
  grpc::ClientContext ctx;
  v1::ListJobsResponse listed;
  ASSERT_TRUE(Connect(*b)->ListJobs(&ctx, v1::ListJobsRequest(), &listed).ok());
  ASSERT_EQ(listed.jobs_size(), 1);
  EXPECT_EQ(listed.jobs(0).job_id(), submitted.job_id());

  // The idempotency key is the fleet's: the same key on b attaches to a's job...
  JobStream again = Generate(*Connect(*b), request);
  ASSERT_TRUE(again.status.ok()) << again.status.error_message();
  EXPECT_EQ(again.job_id(), submitted.job_id());
  EXPECT_EQ(again.video, submitted.video);
  // ...and other parameters under it are refused, naming the field.
  v1::GenerateVideoRequest changed = request;
  changed.set_steps(5);
  JobStream conflict = Generate(*Connect(*b), changed);
  EXPECT_EQ(conflict.status.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_THAT(conflict.status.error_message(), HasSubstr("client_request_id"));
  EXPECT_EQ(Count(AllLogs(), "job_started", submitted.job_id()), 1);
}

TEST_F(FleetTest, CancelOnAnotherReplicaStopsTheRunningJob) {
  ServerProcess* a = StartReplica("a", 20);
  ServerProcess* b = StartReplica("b", 20);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  // 3000 steps at 20 ms: a minute, unless cancelled.
  auto call = Submit(*a, Request(3000, "cancel-1", "cancelled elsewhere"), IsDenoising);
  ASSERT_FALSE(call->job_id.empty());
  ServerProcess* runner = Runner(call->job_id);
  ASSERT_NE(runner, nullptr);
  ServerProcess* other = runner == a ? b : a;

  grpc::ClientContext ctx;
  ctx.set_deadline(In(std::chrono::seconds(30)));
  v1::CancelJobRequest cancel;
  cancel.set_job_id(call->job_id);
  v1::Job ignored;
  ASSERT_TRUE(Connect(*other)->CancelJob(&ctx, cancel, &ignored).ok());

  // The submitter's stream (on a) ends cancelled, before the last step.
  JobStream rest = ReadAll(call->reader.get());
  ASSERT_NE(rest.failed(), nullptr);
  EXPECT_EQ(rest.failed()->code(), static_cast<int>(grpc::StatusCode::CANCELLED));
  uint32_t last_step = 0;
  for (const auto& e : rest.events) {
    if (IsDenoising(e)) last_step = e.progress().step();
  }
  EXPECT_LT(last_step, 3000u);
  // The worker that ran it stopped it (its own log), and every replica agrees.
  EXPECT_TRUE(PollUntil([&] {
    return absl::StrContains(LogLine(runner->Logs(), "event=job_finished job_id=" + call->job_id + " "), "CANCELLED");
  }));
  // The runner logs job_finished before it publishes the state (worker_pool.cc),
  // and the other replica reads the store: both agree once it is published.
  EXPECT_TRUE(PollUntil([&] { return GetJob(*a, call->job_id).state() == v1::CANCELLED; }))
      << GetJob(*a, call->job_id).ShortDebugString();
  EXPECT_TRUE(PollUntil([&] { return GetJob(*b, call->job_id).state() == v1::CANCELLED; }))
      << GetJob(*b, call->job_id).ShortDebugString();
}

TEST_F(FleetTest, KillNineTheRunnerAnotherReplicaFinishesTheJob) {
  ServerProcess* a = StartReplica("a", 20);
  ServerProcess* b = StartReplica("b", 20);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  // 150 steps at 20 ms: 3 s, killed within its first steps.
  const v1::GenerateVideoRequest request = Request(150, "killed-1", "its server is killed");
  auto call = Submit(*a, request, IsDenoising);
  ASSERT_FALSE(call->job_id.empty());
  ServerProcess* runner = Runner(call->job_id);
  ASSERT_NE(runner, nullptr);
  ServerProcess* survivor = runner == a ? b : a;
  const uint64_t seed_at_accept = StoredSeed(call->job_id);
  EXPECT_EQ(runner->SignalAndWait(SIGKILL), 128 + SIGKILL);
  call->context.TryCancel();
  call->reader->Finish();

  // A client re-attached to the survivor gets the video: its worker claims
  // the job once the dead replica's lease (1 s) runs out, from the start.
  JobStream rerun = Watch(*Connect(*survivor), call->job_id);
  ASSERT_TRUE(rerun.status.ok()) << rerun.status.error_message();
  ASSERT_NE(rerun.completed(), nullptr) << (rerun.failed() ? rerun.failed()->message() : "");
  EXPECT_EQ(rerun.completed()->sha256(), service::Sha256Hex(rerun.video));
  EXPECT_EQ(GetJob(*survivor, call->job_id).attempt(), 2u);
  EXPECT_EQ(Count(survivor->Logs(), "job_started", call->job_id), 1);
  EXPECT_THAT(survivor->Logs(), HasSubstr("event=job_claimed job_id=" + call->job_id + " attempt=2 was=running"));

  // It ran again with the seed chosen when it was accepted: the same bytes as
  // an uninterrupted run of the request with that seed.
  EXPECT_EQ(rerun.completed()->seed(), seed_at_accept);
  v1::GenerateVideoRequest uninterrupted = request;
  uninterrupted.clear_client_request_id();
  uninterrupted.set_seed(seed_at_accept);
  JobStream fresh = Generate(*Connect(*survivor), uninterrupted);
  ASSERT_NE(fresh.completed(), nullptr) << fresh.status.error_message();
  EXPECT_EQ(fresh.completed()->sha256(), rerun.completed()->sha256());
}

TEST_F(FleetTest, SixteenClientsOverThreeReplicasEveryJobRunsOnce) {
  for (const char* name : {"a", "b", "c"}) ASSERT_NE(StartReplica(name, 10), nullptr);
  constexpr int kClients = 16;
  std::vector<JobStream> streams(kClients);
  std::vector<std::thread> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([&, i] {
      const ServerProcess& server = *replicas_[static_cast<size_t>(i) % replicas_.size()];
      grpc::ClientContext ctx;
      ctx.set_deadline(In(std::chrono::seconds(120)));
      streams[static_cast<size_t>(i)] =
          Generate(*Connect(server), Request(3, absl::StrCat("client-", i), absl::StrCat("client ", i)), &ctx);
    });
  }
  for (auto& t : clients) t.join();
  std::set<std::string> ids;
  for (const JobStream& s : streams) {
    ASSERT_TRUE(s.status.ok()) << s.status.error_message();
    ASSERT_NE(s.completed(), nullptr) << (s.failed() ? s.failed()->message() : "");
    EXPECT_EQ(s.completed()->sha256(), service::Sha256Hex(s.video));
    ids.insert(s.job_id());
  }
  ASSERT_EQ(ids.size(), static_cast<size_t>(kClients));
  const std::string logs = AllLogs();
  for (const std::string& id : ids) EXPECT_EQ(Count(logs, "job_started", id), 1) << id;
  size_t started = 0;
  for (absl::string_view line : absl::StrSplit(logs, '\n')) started += absl::StrContains(line, "event=job_started ");
  EXPECT_EQ(started, static_cast<size_t>(kClients));
}

TEST_F(FleetTest, ReplicasShareTheQueueDepthAndALateReplicaTakesQueuedWork) {
  // One slow worker each on a and b: two long jobs keep them busy.
  ServerProcess* a = StartReplica("a", 20);
  ServerProcess* b = StartReplica("b", 20);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  auto long1 = Submit(*a, Request(3000, "long-1", "keeps a worker busy"), IsDenoising);
  auto long2 = Submit(*b, Request(3000, "long-2", "keeps the other busy"), IsDenoising);
  ASSERT_FALSE(long1->job_id.empty());
  ASSERT_FALSE(long2->job_id.empty());
  ASSERT_NE(Runner(long1->job_id), nullptr);
  ASSERT_NE(Runner(long2->job_id), nullptr);
  std::vector<std::unique_ptr<OpenCall>> queued;
  for (int i = 0; i < 3; ++i) {
    queued.push_back(Submit(i % 2 == 0 ? *a : *b, Request(2, absl::StrCat("queued-", i), absl::StrCat("queued ", i)),
                            IsAccepted));
    ASSERT_FALSE(queued.back()->job_id.empty());
  }
  auto depth = [](const ServerProcess& s) {
    auto page = HttpGet(s.metrics_port(), "/metrics");
    return page.ok() ? MetricValue(*page, "videogen_queue_depth") : -1;
  };
  EXPECT_TRUE(PollUntil([&] { return depth(*a) == 3 && depth(*b) == 3; }))
      << "a: " << depth(*a) << ", b: " << depth(*b);

  // A third replica, started now, takes the queued jobs.
  ServerProcess* c = StartReplica("c", 1);
  ASSERT_NE(c, nullptr);
  for (const auto& call : queued) {
    JobStream rest = ReadAll(call->reader.get());
    ASSERT_NE(rest.completed(), nullptr) << (rest.failed() ? rest.failed()->message() : "");
    EXPECT_EQ(Count(c->Logs(), "job_started", call->job_id), 1);
  }
  EXPECT_TRUE(PollUntil([&] { return depth(*a) == 0 && depth(*b) == 0 && depth(*c) == 0; }));
  for (const auto* call : {long1.get(), long2.get()}) {
    grpc::ClientContext ctx;
    v1::CancelJobRequest cancel;
    cancel.set_job_id(call->job_id);
    v1::Job ignored;
    EXPECT_TRUE(Connect(*c)->CancelJob(&ctx, cancel, &ignored).ok());
    JobStream rest = ReadAll(call->reader.get());
    ASSERT_NE(rest.failed(), nullptr);
    EXPECT_EQ(rest.failed()->code(), static_cast<int>(grpc::StatusCode::CANCELLED));
  }
}

}  // namespace
}  // namespace videogen::testing
