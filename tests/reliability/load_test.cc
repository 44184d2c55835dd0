// Reliability under load, against the real videogen-server (--model fake) on
// 127.0.0.1: 16 concurrent clients on connections of their own; a storm of
// dropped connections (a TCP proxy cuts every connection at once, twice) with
// re-attachment by WatchJob from an offset; a drain (SIGTERM) with a running
// job and queued ones, then a restart on the same state.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "server/service/sha256.h"
#include "tests/client/tcp_proxy.h"
#include "tests/reliability/reliability_util.h"

namespace videogen::testing {
namespace {

using ::testing::HasSubstr;

// Checks a stream that must have ended with a complete, intact video.
void ExpectIntact(const JobStream& s, const std::string& what) {
  ASSERT_TRUE(s.status.ok()) << what << ": " << s.status.error_message();
  ASSERT_NE(s.completed(), nullptr) << what;
  EXPECT_TRUE(s.chunks_contiguous) << what;
  EXPECT_EQ(s.video.size(), s.completed()->bytes()) << what;
  EXPECT_EQ(service::Sha256Hex(s.video), s.completed()->sha256()) << what;
}

constexpr int kClients = 16;
constexpr int kJobsPerClient = 4;

TEST(ReliabilityLoadTest, SixteenConcurrentClientsEachGetTheirOwnIntactVideos) {
  auto server = ServerProcess::Start({"--model", "fake", "--devices", "cpu,cpu", "--max-queue", "64"});
  ASSERT_TRUE(server.ok()) << server.status();
  // videos[client][job]
  std::vector<std::vector<JobStream>> videos(kClients, std::vector<JobStream>(kJobsPerClient));
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      auto stub = ConnectOwn((*server)->address(), c);
      for (int j = 0; j < kJobsPerClient; ++j) {
        v1::GenerateVideoRequest r = FakeRequest(2 + j % 2);
        r.set_prompt("concurrent job " + std::to_string(j));  // the same request from every client
        r.set_seed(500 + j);
        r.set_client_request_id("client-" + std::to_string(c) + "-job-" + std::to_string(j));
        if (j == 3) r.set_format(v1::WEBM_VP9);
        videos[c][j] = Generate(*stub, r);
      }
    });
  }
  for (auto& t : clients) t.join();

  auto stub = Connect(**server);
  std::set<std::string> job_ids;
  for (int c = 0; c < kClients; ++c) {
    for (int j = 0; j < kJobsPerClient; ++j) {
      const JobStream& s = videos[c][j];
      ExpectIntact(s, "client " + std::to_string(c) + " job " + std::to_string(j));
      if (s.completed() == nullptr) continue;
      job_ids.insert(s.job_id());
      // Same request and seed from every client: the same bytes, whatever ran beside it.
      if (videos[0][j].completed() != nullptr) {
        EXPECT_EQ(s.completed()->sha256(), videos[0][j].completed()->sha256()) << "client " << c << " job " << j;
      }
      EXPECT_EQ(s.completed()->sha256(), service::Sha256Hex(s.video)) << "client " << c << " job " << j;
      EXPECT_EQ(GetJob(*stub, s.job_id()).state(), v1::SUCCEEDED);
    }
  }
  EXPECT_EQ(job_ids.size(), static_cast<size_t>(kClients * kJobsPerClient)) << "every key made a job of its own";
  auto metrics = HttpGet((*server)->metrics_port(), "/metrics");
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  EXPECT_EQ(MetricValue(*metrics, "videogen_jobs_total{model=\"fake\",outcome=\"succeeded\"}"),
            kClients * kJobsPerClient);
  EXPECT_EQ(MetricValue(*metrics, "videogen_queue_depth"), 0);
  EXPECT_EQ((*server)->SignalAndWait(SIGTERM), 0);
}

TEST(ReliabilityLoadTest, DisconnectStormThenReattachFromAnOffset) {
  auto server = ServerProcess::Start({"--model", "fake", "--fake-step-ms", "20", "--max-queue", "64"});
  ASSERT_TRUE(server.ok()) << server.status();
  TcpProxy proxy((*server)->port());
  const std::string via_proxy = "127.0.0.1:" + std::to_string(proxy.port());
  constexpr int kCancelWithCall = 4;  // the last four ask that their job ends with their call

  // Storm 1: every client is cut right after its job was accepted.
  std::vector<std::unique_ptr<v1::VideoGeneration::Stub>> stubs;
  std::vector<std::unique_ptr<OpenCall>> calls;
  for (int c = 0; c < kClients; ++c) {
    stubs.push_back(ConnectOwn(via_proxy, c));
    v1::GenerateVideoRequest r = FakeRequest(5);
    r.set_prompt("storm job " + std::to_string(c));
    r.set_client_request_id("storm-" + std::to_string(c));
    r.set_cancel_job_with_call(c >= kClients - kCancelWithCall);
    calls.push_back(StartGenerate(*stubs.back(), r, [](const v1::JobEvent& e) { return e.has_accepted(); }));
    ASSERT_FALSE(calls.back()->job_id.empty()) << "client " << c;
  }
  EXPECT_GE(proxy.CutAll(), kClients);
  int cut_streams = 0;
  for (auto& call : calls) {
    // Ended by the cut, unless its job had already finished (then it is whole).
    JobStream rest = ReadAll(call->reader.get());
    if (rest.status.ok()) {
      EXPECT_NE(rest.completed(), nullptr) << call->job_id << " ended OK without its video";
    } else {
      ++cut_streams;
    }
  }
  EXPECT_GE(cut_streams, 1);

  // Storm 2: the clients re-attach through the proxy and are cut again after their first event.
  std::vector<std::unique_ptr<OpenCall>> watches;
  for (int c = 0; c < kClients - kCancelWithCall; ++c) {
    watches.push_back(StartWatch(*ConnectOwn(via_proxy, 100 + c), calls[c]->job_id,
                                 [](const v1::JobEvent&) { return true; }));
    EXPECT_FALSE(watches.back()->seen.empty()) << calls[c]->job_id;
  }
  EXPECT_GE(proxy.CutAll(), 1);
  for (auto& w : watches) ReadAll(w->reader.get());

  // Every job whose call did not own it completes; a re-attach from the
  // middle of the video gets exactly the rest of it.
  auto stub = Connect(**server);
  for (int c = 0; c < kClients - kCancelWithCall; ++c) {
    const std::string& job_id = calls[c]->job_id;
    JobStream whole = Watch(*stub, job_id);
    ExpectIntact(whole, job_id);
    if (whole.completed() == nullptr) continue;
    const uint64_t half = whole.video.size() / 2;
    JobStream rest = Watch(*stub, job_id, half);
    ASSERT_TRUE(rest.status.ok()) << rest.status.error_message();
    EXPECT_EQ(rest.first_offset, half);
    EXPECT_EQ(rest.video, whole.video.substr(half));
    ASSERT_NE(rest.completed(), nullptr);
    EXPECT_EQ(rest.completed()->sha256(), whole.completed()->sha256());
    EXPECT_EQ(GetJob(*stub, job_id).state(), v1::SUCCEEDED);
  }
  // The jobs whose call owned them ended with it.
  for (int c = kClients - kCancelWithCall; c < kClients; ++c) {
    JobStream s = Watch(*stub, calls[c]->job_id);
    EXPECT_EQ(s.status.error_code(), grpc::StatusCode::CANCELLED) << calls[c]->job_id << " "
                                                                  << s.status.error_message();
    EXPECT_EQ(GetJob(*stub, calls[c]->job_id).state(), v1::CANCELLED);
  }
  // The server still serves, and a key of a stormed job still attaches to it.
  v1::GenerateVideoRequest again = FakeRequest(5);
  again.set_prompt("storm job 0");
  again.set_client_request_id("storm-0");
  JobStream attached = Generate(*stub, again);
  ExpectIntact(attached, "re-submitted storm-0");
  EXPECT_EQ(attached.job_id(), calls[0]->job_id);
  EXPECT_EQ((*server)->SignalAndWait(SIGTERM), 0);
}

TEST(ReliabilityLoadTest, DrainFinishesTheRunningJobFailsTheQueuedOnesAndKeepsThemAfterRestart) {
  StateDir dir;
  ASSERT_FALSE(dir.path().empty());
  auto server = ServerProcess::Start({"--model", "fake", "--fake-step-ms", "50", "--state-dir", dir.path()});
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = Connect(**server);
  v1::GenerateVideoRequest running_request = FakeRequest(40);  // 2 s: runs through the drain
  running_request.set_client_request_id("drain-running");
  auto running = StartGenerate(*stub, running_request, IsDenoising);
  ASSERT_FALSE(running->job_id.empty());
  std::vector<v1::GenerateVideoRequest> queued_requests;
  std::vector<std::unique_ptr<OpenCall>> queued;
  for (int i = 0; i < 3; ++i) {
    v1::GenerateVideoRequest r = FakeRequest(3);
    r.set_prompt("queued at the drain " + std::to_string(i));
    r.set_client_request_id("drain-queued-" + std::to_string(i));
    queued.push_back(StartGenerate(*stub, r, [](const v1::JobEvent& e) { return e.has_accepted(); }));
    ASSERT_FALSE(queued.back()->job_id.empty());
    queued_requests.push_back(r);
  }
  ASSERT_EQ(GetJob(*stub, running->job_id).state(), v1::RUNNING);

  ASSERT_EQ(kill((*server)->pid(), SIGTERM), 0);
  // A job submitted while the drain runs is not taken (refused, or failed by the drain).
  JobStream late = Generate(*stub, FakeRequest(1));
  EXPECT_EQ(late.status.error_code(), grpc::StatusCode::UNAVAILABLE) << late.status.error_message();
  // The running job finishes on its open stream; the queued ones fail UNAVAILABLE.
  JobStream finished = ReadAll(running->reader.get());
  ExpectIntact(finished, "the job running at the drain");
  for (auto& q : queued) {
    JobStream s = ReadAll(q->reader.get());
    EXPECT_EQ(s.status.error_code(), grpc::StatusCode::UNAVAILABLE) << q->job_id << " " << s.status.error_message();
  }
  EXPECT_EQ((*server)->Wait(), 0);

  // After a restart on the same state: the finished job is kept byte for byte,
  // the queued ones are recorded as failed by the drain and their keys make new jobs.
  auto second = ServerProcess::Start({"--model", "fake", "--state-dir", dir.path()});
  ASSERT_TRUE(second.ok()) << second.status();
  stub = Connect(**second);
  JobStream kept = Watch(*stub, running->job_id);
  ExpectIntact(kept, "kept after the restart");
  EXPECT_EQ(kept.video, finished.video);
  for (size_t i = 0; i < queued.size(); ++i) {
    const v1::Job job = GetJob(*stub, queued[i]->job_id);
    EXPECT_EQ(job.state(), v1::FAILED);
    EXPECT_EQ(job.error().code(), static_cast<int>(grpc::StatusCode::UNAVAILABLE));
    JobStream retried = Generate(*stub, queued_requests[i]);
    ExpectIntact(retried, "retried " + queued_requests[i].client_request_id());
    EXPECT_NE(retried.job_id(), queued[i]->job_id);
  }
  JobStream same = Generate(*stub, running_request);
  EXPECT_EQ(same.job_id(), running->job_id) << "a finished job's key still attaches to it";
  EXPECT_EQ((*second)->SignalAndWait(SIGTERM), 0);
}

}  // namespace
}  // namespace videogen::testing
