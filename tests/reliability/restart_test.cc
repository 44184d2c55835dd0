// Reliability: the real videogen-server (--model fake) is killed with SIGKILL
// three times in a row, each time while a job runs and others wait, and
// restarted on the same --state-dir. Every job completes after the restarts,
// with the bytes (sha256) an uninterrupted server makes for the same request
// and seed, finished results keep their bytes, and every client_request_id
// still deduplicates.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "server/service/sha256.h"
#include "tests/client/subprocess.h"
#include "tests/reliability/reliability_util.h"

namespace videogen::testing {
namespace {

using ::testing::HasSubstr;

constexpr int kKills = 3;          // SIGKILLs, each while pending job #k runs
constexpr int kPending = 8;        // jobs submitted before the first kill, in order
constexpr uint32_t kLongSteps = 40;  // the jobs that are killed: 2 s at 50 ms a step

struct Submitted {
  v1::GenerateVideoRequest request;
  std::string job_id;
};

v1::GenerateVideoRequest Request(int i, uint32_t steps) {
  v1::GenerateVideoRequest r = FakeRequest(steps);
  r.set_prompt("reliability restart job " + std::to_string(i));
  r.set_client_request_id("restart-key-" + std::to_string(i));
  if (i % 2 == 0) r.set_seed(1000 + i);  // the others get a seed chosen at accept
  return r;
}

std::vector<std::string> SlowServer(const std::string& state_dir) {
  return {"--model", "fake", "--fake-step-ms", "50", "--state-dir", state_dir, "--max-queue", "32"};
}

TEST(ReliabilityRestartTest, ThreeKillNineRestartsLoseNothingAndChangeNoResult) {
  StateDir dir;
  ASSERT_FALSE(dir.path().empty());
  auto server = ServerProcess::Start(SlowServer(dir.path()));
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = Connect(**server);

  // Two jobs finish before the first crash.
  std::vector<Submitted> jobs;
  for (int i = 0; i < 2; ++i) {
    Submitted s{Request(100 + i, 2), ""};
    JobStream done = Generate(*stub, s.request);
    ASSERT_NE(done.completed(), nullptr) << done.status.error_message();
    s.job_id = done.job_id();
    jobs.push_back(s);
  }
  // Pending jobs: the first kKills are long (each is killed while it runs).
  std::vector<std::unique_ptr<OpenCall>> calls;
  for (int i = 0; i < kPending; ++i) {
    Submitted s{Request(i, i < kKills ? kLongSteps : 3), ""};
    auto call = i == 0 ? StartGenerate(*stub, s.request, IsDenoising)
                       : StartGenerate(*stub, s.request, [](const v1::JobEvent& e) { return e.has_accepted(); });
    ASSERT_FALSE(call->job_id.empty()) << "job " << i;
    s.job_id = call->job_id;
    jobs.push_back(s);
    calls.push_back(std::move(call));
  }
  const std::vector<Submitted> pending(jobs.begin() + 2, jobs.end());

  for (int kill = 0; kill < kKills; ++kill) {
    if (kill > 0) {
      server = ServerProcess::Start(SlowServer(dir.path()));
      ASSERT_TRUE(server.ok()) << server.status();
      stub = Connect(**server);
      // A key of a job still waiting attaches to it after the restart.
      auto again = StartGenerate(*stub, pending[kPending - 1].request,
                                 [](const v1::JobEvent& e) { return e.has_accepted(); });
      EXPECT_EQ(again->job_id, pending[kPending - 1].job_id);
      again->Abandon();
      // The job interrupted by the last kill runs again first; this round's runs after it.
      auto watch = StartWatch(*stub, pending[kill].job_id, IsDenoising);
      ASSERT_FALSE(watch->seen.empty());
      ASSERT_TRUE(IsDenoising(watch->seen.back())) << "job " << kill << " did not start";
      calls.push_back(std::move(watch));
    }
    EXPECT_EQ(GetJob(*stub, pending[kill].job_id).state(), v1::RUNNING) << "kill " << kill;
    EXPECT_EQ(GetJob(*stub, pending[kPending - 1].job_id).state(), v1::QUEUED) << "kill " << kill;
    EXPECT_EQ((*server)->SignalAndWait(SIGKILL), 128 + SIGKILL);
    for (auto& call : calls) call->Abandon();
    calls.clear();
  }

  // Last start: fast steps; everything completes.
  server = ServerProcess::Start({"--model", "fake", "--state-dir", dir.path(), "--max-queue", "32"});
  ASSERT_TRUE(server.ok()) << server.status();
  stub = Connect(**server);
  std::map<std::string, JobStream> results;
  for (const Submitted& s : jobs) {
    JobStream r = Watch(*stub, s.job_id);
    ASSERT_TRUE(r.status.ok()) << s.job_id << ": " << r.status.error_message();
    ASSERT_NE(r.completed(), nullptr) << s.job_id << ": " << (r.failed() ? r.failed()->message() : "");
    EXPECT_EQ(r.completed()->sha256(), service::Sha256Hex(r.video));
    results[s.job_id] = r;
  }
  for (int i = 0; i < kPending; ++i) {
    const uint32_t attempt = GetJob(*stub, pending[i].job_id).attempt();
    EXPECT_EQ(attempt, i < kKills ? 2u : 1u) << "pending job " << i;
  }

  // Keys deduplicate: each request again attaches to its job and gets the same video.
  for (const Submitted& s : jobs) {
    JobStream retry = Generate(*stub, s.request);
    ASSERT_TRUE(retry.status.ok()) << retry.status.error_message();
    EXPECT_EQ(retry.job_id(), s.job_id);
    EXPECT_EQ(retry.video, results[s.job_id].video) << s.job_id;
  }
  v1::GenerateVideoRequest changed = jobs[0].request;
  changed.set_steps(5);
  JobStream conflict = Generate(*stub, changed);
  EXPECT_EQ(conflict.status.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_THAT(conflict.status.error_message(), HasSubstr("client_request_id"));
  grpc::ClientContext list_ctx;
  v1::ListJobsResponse list;
  ASSERT_TRUE(stub->ListJobs(&list_ctx, v1::ListJobsRequest(), &list).ok());
  EXPECT_EQ(list.jobs_size(), static_cast<int>(jobs.size()));

  // An uninterrupted server (its own state) makes the same video, byte for
  // byte, from the same request and seed.
  auto reference = ServerProcess::Start({"--model", "fake", "--max-queue", "32"});
  ASSERT_TRUE(reference.ok()) << reference.status();
  auto reference_stub = Connect(**reference);
  for (const Submitted& s : jobs) {
    v1::GenerateVideoRequest r = s.request;
    r.clear_client_request_id();
    r.set_seed(results[s.job_id].completed()->seed());
    JobStream fresh = Generate(*reference_stub, r);
    ASSERT_NE(fresh.completed(), nullptr) << fresh.status.error_message();
    EXPECT_EQ(fresh.completed()->sha256(), results[s.job_id].completed()->sha256())
        << s.job_id << " (" << s.request.prompt() << ")";
  }
  EXPECT_EQ((*server)->SignalAndWait(SIGTERM), 0);
  EXPECT_EQ((*reference)->SignalAndWait(SIGTERM), 0);
}

// A CLI waiting on a job (`videogen generate`) gets its video across a kill -9
// of the server and a restart on the same address and state: it re-attaches
// to the job, which runs again from the start.
TEST(ReliabilityRestartTest, AWaitingCliGetsItsVideoAcrossAKillNineAndRestart) {
  StateDir dir;
  ASSERT_FALSE(dir.path().empty());
  auto server = ServerProcess::Start(SlowServer(dir.path()));
  ASSERT_TRUE(server.ok()) << server.status();
  const std::string address = (*server)->address();
  const char* bin = std::getenv("VIDEOGEN_BINARY_DIR");
  const std::string cli = std::string(bin != nullptr ? bin : "build") + "/bin/videogen";
  const std::string video_path = dir.path() + "/cli.mp4";
  // Re-attach attempts 1, 2, 4, 4, ... s apart (8 of them): the restart and
  // the channel's own reconnect backoff (1 s, x1.6) fit well inside.
  Subprocess waiting({cli, "--server", address, "--json", "--reattach-backoff-ms", "1000", "--reattach-attempts",
                      "8", "generate", "-p",
                      "waited on across a crash", "--steps", std::to_string(kLongSteps), "--seed", "9", "-o",
                      video_path},
                     {});
  ASSERT_TRUE(waiting.WaitForStdout("\"stage\":\"denoising\"")) << waiting.out() << waiting.err();
  EXPECT_EQ((*server)->SignalAndWait(SIGKILL), 128 + SIGKILL);
  std::vector<std::string> again = {"--model", "fake", "--state-dir", dir.path(), "--listen", address};
  server = ServerProcess::Start(again);
  ASSERT_TRUE(server.ok()) << server.status();
  ProcessResult done = waiting.Wait();
  ASSERT_EQ(done.exit_code, 0) << done.out << done.err;
  EXPECT_THAT(done.out, HasSubstr("\"type\":\"reattach\""));
  std::ifstream in(video_path, std::ios::binary);
  const std::string video((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_FALSE(video.empty());
  EXPECT_THAT(done.out, HasSubstr("\"sha256\":\"" + service::Sha256Hex(video) + "\""));
  EXPECT_EQ((*server)->SignalAndWait(SIGTERM), 0);
}

}  // namespace
}  // namespace videogen::testing
