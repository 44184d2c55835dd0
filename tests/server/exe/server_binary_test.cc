// The real videogen-server binary (with the test-only fake model) on
// 127.0.0.1, driven by a real gRPC client.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "server/service/sha256.h"
#include "tests/server/exe/test_util.h"
#include "tests/server/support/health_wait.h"
#include "tests/server/support/poll.h"

namespace videogen::testing {
namespace {

using ::testing::HasSubstr;

TEST(ServerBinaryTest, GenerateStreamsEveryStageThenADecodableVideo) {
  auto server = ServerProcess::Start({"--model", "fake"});
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = Connect(**server);
  for (v1::VideoFormat format : {v1::MP4_H264, v1::WEBM_VP9}) {
    v1::GenerateVideoRequest request = FakeRequest(5);
    request.set_num_frames(13);
    request.set_width(96);
    request.set_height(64);
    request.set_fps(24);
    request.set_format(format);
    request.set_seed(7);
    JobStream s = Generate(*stub, request);
    ASSERT_TRUE(s.status.ok()) << s.status.error_message();
    ASSERT_FALSE(s.events.empty());
    ASSERT_TRUE(s.events.front().has_accepted());
    EXPECT_FALSE(s.events.front().accepted().job_id().empty());
    std::vector<v1::Stage> stages;
    int last_step = -1;
    for (const auto& e : s.events) {
      if (!e.has_progress()) continue;
      if (stages.empty() || stages.back() != e.progress().stage()) {
        stages.push_back(e.progress().stage());
        last_step = -1;
      }
      EXPECT_GE(static_cast<int>(e.progress().step()), last_step) << "steps must be monotone";
      last_step = static_cast<int>(e.progress().step());
    }
    EXPECT_THAT(stages, ::testing::ElementsAre(v1::TEXT_ENCODING, v1::DENOISING, v1::VAE_DECODING, v1::VIDEO_ENCODING));
    EXPECT_TRUE(s.events.back().has_completed());
    EXPECT_TRUE(s.chunks_contiguous);
    EXPECT_LE(s.max_chunk, size_t{1} << 20);
    const v1::Completed* done = s.completed();
    ASSERT_NE(done, nullptr);
    EXPECT_EQ(done->bytes(), s.video.size());
    EXPECT_EQ(done->sha256(), service::Sha256Hex(s.video));
    EXPECT_EQ(done->seed(), 7u);
    EXPECT_EQ(done->timings_size(), 4);
    auto probe = Probe(s.video);
    EXPECT_EQ(probe["codec_name"], format == v1::MP4_H264 ? "h264" : "vp9");
    EXPECT_EQ(done->codec(), probe["codec_name"]);
    EXPECT_EQ(probe["width"], "96");
    EXPECT_EQ(probe["height"], "64");
    EXPECT_EQ(probe["nb_read_frames"], "13");
    EXPECT_EQ(probe["r_frame_rate"], "24/1");
  }
  EXPECT_EQ((*server)->SignalAndWait(SIGTERM), 0);
}

// The `started` event says which host allocation policies are in force
// (README, "CPU allocation"): heap reuse, and the huge page allocator unless
// VIDEOGEN_HUGE_PAGES=0 (then "off"; otherwise the kernel's THP mode); and the
// thread count BLIS was given (README, "BLIS threads").
TEST(ServerBinaryTest, StartedEventNamesTheHostAllocationPolicies) {
  for (const char* huge_pages : {"1", "0"}) {
    setenv("VIDEOGEN_HUGE_PAGES", huge_pages, /*overwrite=*/1);
    auto server = ServerProcess::Start({"--model", "fake"});
    unsetenv("VIDEOGEN_HUGE_PAGES");
    ASSERT_TRUE(server.ok()) << server.status();
    ASSERT_TRUE(PollUntil([&] { return (*server)->Logs().find("event=started") != std::string::npos; }));
    const std::string logs = (*server)->Logs();
    EXPECT_THAT(logs, HasSubstr("heap_reuse=on"));
    EXPECT_THAT(logs, ::testing::ContainsRegex("blis_threads=[1-9]"));
    if (std::string(huge_pages) == "0") {
      EXPECT_THAT(logs, HasSubstr("huge_pages=off"));
    } else {
      EXPECT_THAT(logs, HasSubstr("huge_pages="));
      EXPECT_THAT(logs, ::testing::Not(HasSubstr("huge_pages=off")));
    }
  }
}

TEST(ServerBinaryTest, LargeResultIsChunkedAtOneMebibyte) {
  auto server = ServerProcess::Start({"--model", "fake"});
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = Connect(**server);
  v1::GenerateVideoRequest request = FakeRequest(1);
  request.set_width(1024);
  request.set_height(1024);
  request.set_num_frames(17);
  request.set_seed(3);
  request.set_quality(100);  // near-lossless: several MiB
  JobStream s = Generate(*stub, request);
  ASSERT_TRUE(s.status.ok()) << s.status.error_message();
  ASSERT_NE(s.completed(), nullptr);
  EXPECT_GT(s.video.size(), size_t{1} << 20);
  EXPECT_EQ(s.max_chunk, size_t{1} << 20);
  EXPECT_TRUE(s.chunks_contiguous);
  EXPECT_EQ(s.completed()->sha256(), service::Sha256Hex(s.video));
}

TEST(ServerBinaryTest, FullQueueIsResourceExhausted) {
  auto server = ServerProcess::Start({"--model", "fake", "--max-queue", "1", "--fake-step-ms", "20"});
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = Connect(**server);
  grpc::ClientContext running_ctx;
  auto running = stub->GenerateVideo(&running_ctx, FakeRequest(100));
  auto first = ReadUntil(running.get(), [](const v1::JobEvent& e) { return e.has_progress(); });
  ASSERT_FALSE(first.empty());
  grpc::ClientContext queued_ctx;
  auto queued = stub->GenerateVideo(&queued_ctx, FakeRequest(100));
  auto accepted = ReadUntil(queued.get(), [](const v1::JobEvent& e) { return e.has_accepted(); });
  ASSERT_EQ(accepted.size(), 1u);
  EXPECT_EQ(accepted[0].accepted().queue_position(), 1u);

  JobStream rejected = Generate(*stub, FakeRequest(1));
  EXPECT_EQ(rejected.status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(rejected.status.error_message(), HasSubstr("depth 1"));
  EXPECT_TRUE(rejected.events.empty());

  for (const std::string& id : {first[0].job_id(), accepted[0].job_id()}) {
    grpc::ClientContext ctx;
    v1::CancelJobRequest cancel;
    cancel.set_job_id(id);
    v1::Job job;
    ASSERT_TRUE(stub->CancelJob(&ctx, cancel, &job).ok());
  }
  EXPECT_EQ(ReadAll(running.get()).status.error_code(), grpc::StatusCode::CANCELLED);
  EXPECT_EQ(ReadAll(queued.get()).status.error_code(), grpc::StatusCode::CANCELLED);
}

TEST(ServerBinaryTest, CancelDuringDenoisingEndsWithinOneStep) {
  auto server = ServerProcess::Start({"--model", "fake", "--fake-step-ms", "20"});
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = Connect(**server);
  grpc::ClientContext ctx;
  auto reader = stub->GenerateVideo(&ctx, FakeRequest(100));
  auto seen = ReadUntil(reader.get(), [](const v1::JobEvent& e) {
    return e.has_progress() && e.progress().stage() == v1::DENOISING && e.progress().step() >= 2;
  });
  ASSERT_FALSE(seen.empty());
  grpc::ClientContext cancel_ctx;
  v1::CancelJobRequest cancel;
  cancel.set_job_id(seen[0].job_id());
  v1::Job at_cancel;
  ASSERT_TRUE(stub->CancelJob(&cancel_ctx, cancel, &at_cancel).ok());
  const uint32_t step_at_cancel = at_cancel.progress().step();
  JobStream rest = ReadAll(reader.get());
  EXPECT_EQ(rest.status.error_code(), grpc::StatusCode::CANCELLED);
  ASSERT_NE(rest.failed(), nullptr);
  EXPECT_EQ(rest.failed()->code(), static_cast<int>(grpc::StatusCode::CANCELLED));
  uint32_t last_step = step_at_cancel;
  for (const auto& e : rest.events) {
    if (e.has_progress() && e.progress().stage() == v1::DENOISING) last_step = e.progress().step();
  }
  EXPECT_LE(last_step, step_at_cancel + 1) << "more than one step ran after the cancel";
  EXPECT_LT(last_step, 100u);
}

TEST(ServerBinaryTest, DeadlineStopsTheJob) {
  auto server = ServerProcess::Start({"--model", "fake", "--fake-step-ms", "20"});
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = Connect(**server);
  grpc::ClientContext ctx;
  ctx.set_deadline(In(std::chrono::milliseconds(500)));
  JobStream s = Generate(*stub, FakeRequest(100), &ctx);
  EXPECT_EQ(s.status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  ASSERT_FALSE(s.job_id().empty());
  JobStream after = Watch(*stub, s.job_id());
  ASSERT_NE(after.failed(), nullptr);
  EXPECT_EQ(after.failed()->code(), static_cast<int>(grpc::StatusCode::DEADLINE_EXCEEDED));
}

TEST(ServerBinaryTest, DisconnectThenWatchJobYieldsTheIdenticalVideo) {
  auto server = ServerProcess::Start({"--model", "fake", "--fake-step-ms", "10"});
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = Connect(**server);
  std::string job_id;
  {
    grpc::ClientContext ctx;
    auto reader = stub->GenerateVideo(&ctx, FakeRequest(20));
    auto seen = ReadUntil(reader.get(), [](const v1::JobEvent& e) { return e.has_progress(); });
    ASSERT_FALSE(seen.empty());
    job_id = seen[0].job_id();
    ctx.TryCancel();  // the caller goes away
    reader->Finish();
  }
  JobStream full = Watch(*stub, job_id);
  ASSERT_TRUE(full.status.ok()) << full.status.error_message();
  ASSERT_NE(full.completed(), nullptr);
  EXPECT_EQ(full.completed()->sha256(), service::Sha256Hex(full.video));
  JobStream again = Watch(*stub, job_id);
  EXPECT_EQ(again.video, full.video);
  const uint64_t half = full.video.size() / 2;
  JobStream tail = Watch(*stub, job_id, half);
  EXPECT_EQ(tail.first_offset, half);
  EXPECT_EQ(tail.video, full.video.substr(half));

  // With cancel_job_with_call, going away cancels the job.
  v1::GenerateVideoRequest request = FakeRequest(100);
  request.set_cancel_job_with_call(true);
  grpc::ClientContext ctx;
  auto reader = stub->GenerateVideo(&ctx, request);
  auto seen = ReadUntil(reader.get(), [](const v1::JobEvent& e) { return e.has_progress(); });
  ASSERT_FALSE(seen.empty());
  ctx.TryCancel();
  reader->Finish();
  JobStream cancelled = Watch(*stub, seen[0].job_id());
  ASSERT_NE(cancelled.failed(), nullptr);
  EXPECT_EQ(cancelled.failed()->code(), static_cast<int>(grpc::StatusCode::CANCELLED));
}

TEST(ServerBinaryTest, IdempotentRetryDoesNotRunTwice) {
  auto server = ServerProcess::Start({"--model", "fake"});
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = Connect(**server);
  v1::GenerateVideoRequest request = FakeRequest(3);
  request.set_client_request_id("retry-1");
  JobStream first = Generate(*stub, request);
  JobStream retry = Generate(*stub, request);
  ASSERT_TRUE(first.status.ok());
  ASSERT_TRUE(retry.status.ok());
  EXPECT_EQ(first.job_id(), retry.job_id());
  EXPECT_EQ(first.video, retry.video);
  grpc::ClientContext ctx;
  v1::ListJobsResponse jobs;
  ASSERT_TRUE(stub->ListJobs(&ctx, v1::ListJobsRequest(), &jobs).ok());
  ASSERT_EQ(jobs.jobs_size(), 1);
  EXPECT_EQ(jobs.jobs(0).client_request_id(), "retry-1");
  EXPECT_EQ(jobs.jobs(0).state(), v1::SUCCEEDED);
  auto page = HttpGet((*server)->metrics_port(), "/metrics");
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(MetricValue(*page, "videogen_jobs_total{model=\"fake\",outcome=\"succeeded\"}"), 1);
}

TEST(ServerBinaryTest, MetricsMoveWhenAJobRuns) {
  auto server = ServerProcess::Start({"--model", "fake"});
  ASSERT_TRUE(server.ok()) << server.status();
  // The port is printed before the worker has warmed up: wait for SERVING.
  ASSERT_TRUE(WaitUntilServing((*server)->address()).ok());
  auto stub = Connect(**server);
  auto before = HttpGet((*server)->metrics_port(), "/metrics");
  ASSERT_TRUE(before.ok()) << before.status();
  EXPECT_EQ(MetricValue(*before, "videogen_job_duration_seconds_count"), 0);
  EXPECT_EQ(MetricValue(*before, "videogen_video_bytes_total"), 0);
  EXPECT_GT(MetricValue(*before, "videogen_device_memory_used_bytes{device=\"cpu\"}"), 0);
  EXPECT_GT(MetricValue(*before, "videogen_device_memory_total_bytes{device=\"cpu\"}"), 0);
  EXPECT_GT(MetricValue(*before, "videogen_device_memory_peak_bytes{device=\"cpu\"}"), 0);
  EXPECT_EQ(
      MetricValue(*before,
                  "videogen_model_resident_bytes{component=\"dit\",device=\"cpu\",dtype=\"fp32\",model=\"fake\"}"),
      1 << 20);
  EXPECT_GT(MetricValue(*before, "videogen_planned_peak_bytes{device=\"cpu\",model=\"fake\"}"), 0);
  EXPECT_EQ(MetricValue(*before, "videogen_workers{state=\"idle\"}"), 1);
  JobStream s = Generate(*stub, FakeRequest(4));
  ASSERT_TRUE(s.status.ok());
  auto after = HttpGet((*server)->metrics_port(), "/metrics");
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(MetricValue(*after, "videogen_job_duration_seconds_count"), 1);
  EXPECT_EQ(MetricValue(*after, "videogen_job_queue_seconds_count"), 1);
  EXPECT_EQ(MetricValue(*after, "videogen_denoise_step_seconds_count"), 4);
  EXPECT_EQ(MetricValue(*after, "videogen_video_bytes_total"), static_cast<double>(s.video.size()));
  EXPECT_EQ(MetricValue(*after, "videogen_jobs_total{model=\"fake\",outcome=\"succeeded\"}"), 1);
  EXPECT_EQ(MetricValue(*after, "videogen_queue_depth"), 0);
  EXPECT_EQ(MetricValue(*after, "videogen_jobs_running"), 0);
}

TEST(ServerBinaryTest, PythonGrpcioClientRunsOneJob) {
  auto server = ServerProcess::Start({"--model", "fake"});
  ASSERT_TRUE(server.ok()) << server.status();
  char dir[] = "/tmp/videogen_pystubs_XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string stubs = dir;
  const std::string protoc = "protoc -I proto --python_out=" + stubs + " --grpc_out=" + stubs +
                             " --plugin=protoc-gen-grpc=/usr/bin/grpc_python_plugin videogen/v1/videogen.proto";
  ASSERT_EQ(std::system(protoc.c_str()), 0) << protoc;
  const std::string out = stubs + "/video.webm";
  const std::string run = "/usr/bin/python3 tests/server/exe/python_client.py " + stubs + " " + (*server)->address() +
                          " " + out + " > " + stubs + "/digest.txt";
  ASSERT_EQ(std::system(run.c_str()), 0) << run;
  std::ifstream video(out, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(video)), std::istreambuf_iterator<char>());
  std::ifstream digest_file(stubs + "/digest.txt");
  std::string digest;
  digest_file >> digest;
  EXPECT_EQ(digest, service::Sha256Hex(bytes));
  EXPECT_EQ(Probe(bytes)["codec_name"], "vp9");
  std::system(("rm -rf " + stubs).c_str());
}

TEST(ServerBinaryTest, ReflectionListsTheServices) {
  auto server = ServerProcess::Start({"--model", "fake"});
  ASSERT_TRUE(server.ok()) << server.status();
  const std::string cmd = "/usr/bin/python3 tests/server/exe/reflection_check.py " + (*server)->address();
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[256];
  while (fgets(buf, sizeof(buf), p) != nullptr) out += buf;
  EXPECT_EQ(pclose(p), 0);
  EXPECT_THAT(out, HasSubstr("videogen.v1.VideoGeneration\n"));
  EXPECT_THAT(out, HasSubstr("grpc.health.v1.Health\n"));
  EXPECT_THAT(out, HasSubstr("grpc.reflection.v1alpha.ServerReflection\n"));

  auto without = ServerProcess::Start({"--model", "fake", "--no-reflection"});
  ASSERT_TRUE(without.ok()) << without.status();
  const std::string off =
      "/usr/bin/python3 tests/server/exe/reflection_check.py " + (*without)->address() + " >/dev/null 2>&1";
  EXPECT_NE(std::system(off.c_str()), 0) << "reflection must be off with --no-reflection";
}

}  // namespace
}  // namespace videogen::testing
