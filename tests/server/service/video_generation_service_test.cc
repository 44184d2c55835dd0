// VideoGenServer in process (fake model, pass-through encoder) under
// concurrent callers: streams that read everything, callers that vanish,
// watchers that re-attach, and cancellations, all at once.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include <grpcpp/grpcpp.h>

#include "absl/synchronization/notification.h"
#include "server/service/server.h"
#include "server/service/sha256.h"
#include "server/testing/fake_video_generator.h"
#include "server/testing/job_waiter.h"
#include "videogen/v1/videogen.grpc.pb.h"

namespace videogen::service {
namespace {

absl::StatusOr<jobs::JobResult> PassThrough(const pipeline::GeneratedVideo& v, const jobs::OutputSpec&,
                                            const CancelToken&) {
  jobs::JobResult r;
  r.width = v.width;
  r.height = v.height;
  r.frames = v.frames;
  r.bytes.assign(v.rgb.begin(), v.rgb.end());
  r.sha256 = Sha256Hex(r.bytes);
  return r;
}

class VideoGenerationServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.encoder = PassThrough;
    options.jobs.max_queue = 64;
    testing::FakeVideoGeneratorOptions fake;
    fake.step_time = absl::Milliseconds(1);
    std::vector<jobs::Device> devices;
    // Two workers on the host (CPU "ordinals" 0 and 1 keep them apart).
    devices.push_back({videogen::Device{DeviceKind::kCpu, 0}, std::make_unique<testing::FakeVideoGenerator>(fake)});
    devices.push_back({videogen::Device{DeviceKind::kCpu, 1}, std::make_unique<testing::FakeVideoGenerator>(fake)});
    auto server = VideoGenServer::Create(std::move(options), std::move(devices), nullptr);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    stub_ = v1::VideoGeneration::NewStub(
        grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()), grpc::InsecureChannelCredentials()));
  }

  v1::GenerateVideoRequest Request(int steps, uint64_t seed) {
    v1::GenerateVideoRequest r;
    r.set_model("fake");
    r.set_prompt("stress");
    r.set_steps(steps);
    r.set_seed(seed);
    r.set_width(128);
    r.set_height(128);
    return r;
  }

  // Reads a stream to its end; returns the video if it completed with a matching sha256.
  static std::optional<std::string> Drain(grpc::ClientReaderInterface<v1::JobEvent>* reader) {
    v1::JobEvent e;
    std::string video;
    std::string sha;
    while (reader->Read(&e)) {
      if (e.has_video_chunk()) video += e.video_chunk().data();
      if (e.has_completed()) sha = e.completed().sha256();
    }
    if (!reader->Finish().ok() || sha != Sha256Hex(video)) return std::nullopt;
    return video;
  }

  std::unique_ptr<VideoGenServer> server_;
  std::unique_ptr<v1::VideoGeneration::Stub> stub_;
};

TEST_F(VideoGenerationServiceTest, ConcurrentCallersReadersLeaversWatchersAndCancels) {
  constexpr int kCallers = 12;
  std::atomic<int> completed{0}, cancelled{0}, watched{0};
  std::vector<std::thread> callers;
  for (int i = 0; i < kCallers; ++i) {
    callers.emplace_back([&, i] {
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
      v1::GenerateVideoRequest request = Request(5 + i % 4, static_cast<uint64_t>(i));
      request.set_cancel_job_with_call(i % 4 == 2);
      auto reader = stub_->GenerateVideo(&ctx, request);
      v1::JobEvent first;
      ASSERT_TRUE(reader->Read(&first));
      ASSERT_TRUE(first.has_accepted());
      const std::string job_id = first.job_id();
      switch (i % 4) {
        case 0:  // reads everything
          if (Drain(reader.get())) ++completed;
          break;
        case 1: {  // leaves, then re-attaches with WatchJob
          ctx.TryCancel();
          reader->Finish();
          grpc::ClientContext watch_ctx;
          v1::WatchJobRequest watch;
          watch.set_job_id(job_id);
          auto watcher = stub_->WatchJob(&watch_ctx, watch);
          if (Drain(watcher.get())) ++watched;
          break;
        }
        case 2: {  // leaves with cancel_job_with_call: the job ends cancelled (or had finished)
          ctx.TryCancel();
          reader->Finish();
          auto job = server_->jobs().Find(job_id);
          ASSERT_TRUE(job.ok());
          ASSERT_TRUE(testing::JobWaiter::WaitTerminal(**job));
          ++cancelled;
          break;
        }
        case 3: {  // CancelJob while streaming
          grpc::ClientContext cancel_ctx;
          v1::CancelJobRequest cancel;
          cancel.set_job_id(job_id);
          v1::Job job;
          EXPECT_TRUE(stub_->CancelJob(&cancel_ctx, cancel, &job).ok());
          v1::JobEvent e;
          while (reader->Read(&e)) {
          }
          const grpc::Status s = reader->Finish();
          EXPECT_TRUE(s.ok() || s.error_code() == grpc::StatusCode::CANCELLED) << s.error_message();
          ++cancelled;
          break;
        }
      }
    });
  }
  for (auto& t : callers) t.join();
  EXPECT_EQ(completed.load(), kCallers / 4);
  EXPECT_EQ(watched.load(), kCallers / 4);
  EXPECT_EQ(cancelled.load(), kCallers / 2);

  grpc::ClientContext list_ctx;
  v1::ListJobsRequest list;
  list.set_limit(100);
  v1::ListJobsResponse jobs;
  ASSERT_TRUE(stub_->ListJobs(&list_ctx, list, &jobs).ok());
  EXPECT_EQ(jobs.jobs_size(), kCallers);
  for (const auto& job : jobs.jobs()) {
    EXPECT_TRUE(job.state() == v1::SUCCEEDED || job.state() == v1::CANCELLED) << job.ShortDebugString();
  }
}

TEST_F(VideoGenerationServiceTest, UnaryErrorsNameTheField) {
  grpc::ClientContext ctx;
  v1::GetJobRequest get;
  get.set_job_id("job-nope");
  v1::Job job;
  grpc::Status s = stub_->GetJob(&ctx, get, &job);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(s.error_message(), ::testing::HasSubstr("job_id"));

  grpc::ClientContext watch_ctx;
  v1::WatchJobRequest watch;
  auto reader = stub_->WatchJob(&watch_ctx, watch);
  v1::JobEvent e;
  EXPECT_FALSE(reader->Read(&e));
  s = reader->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), ::testing::HasSubstr("job_id"));

  grpc::ClientContext models_ctx;
  v1::ListModelsResponse models;
  ASSERT_TRUE(stub_->ListModels(&models_ctx, v1::ListModelsRequest(), &models).ok());
  ASSERT_EQ(models.models_size(), 1);
  EXPECT_EQ(models.models(0).id(), "fake");
  EXPECT_EQ(models.models(0).type(), "t2v");
  EXPECT_EQ(models.models(0).resident(0).bytes(), 1u << 20);
}

}  // namespace
}  // namespace videogen::service
