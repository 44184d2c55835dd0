// WorkerPool: a job a worker has taken from the queue but not yet started
// counts for the drain (#15).
#include "server/jobs/worker_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <utility>
#include <vector>

#include "absl/synchronization/notification.h"
#include "server/jobs/job_queue.h"
#include "server/testing/fake_video_generator.h"
#include "server/testing/job_waiter.h"

namespace videogen::jobs {
namespace {

using videogen::testing::FakeVideoGenerator;
using videogen::testing::FakeVideoGeneratorOptions;
using videogen::testing::JobWaiter;

// Holds the worker at the first thing it does with a job it took (reporting
// the queue's depth), once armed.
class HoldingListener final : public JobListener {
 public:
  void Arm() { armed_ = true; }
  void OnQueueDepth(size_t) override {
    if (armed_.exchange(false)) {
      reached.Notify();
      release.WaitForNotification();
    }
  }
  absl::Notification reached;
  absl::Notification release;

 private:
  std::atomic<bool> armed_{false};
};

absl::StatusOr<JobResult> RawEncoder(const pipeline::GeneratedVideo& v, const OutputSpec&, const CancelToken&) {
  JobResult r;
  r.bytes.assign(v.rgb.begin(), v.rgb.end());
  return r;
}

TEST(WorkerPoolTest, AJobTakenButNotStartedKeepsTheDrainWaitingAndIsAborted) {
  JobQueue queue(4);
  HoldingListener listener;
  std::vector<Device> devices;
  devices.push_back(Device{videogen::Device::Cpu(), std::make_unique<FakeVideoGenerator>(FakeVideoGeneratorOptions{})});
  absl::Notification ready;
  WorkerPoolOptions options;
  options.on_ready = [&] { ready.Notify(); };
  auto pool = WorkerPool::Create(std::move(options), std::move(devices), &queue, RawEncoder, &listener);
  ASSERT_TRUE(pool.ok()) << pool.status();
  ready.WaitForNotification();

  JobSpec spec;
  spec.model = "fake";
  spec.request.prompt = "a cat";
  spec.request.steps = 2;
  auto job = std::make_shared<Job>("taken", std::move(spec), absl::Now());
  listener.Arm();
  ASSERT_TRUE(queue.Push(job).ok());
  listener.reached.WaitForNotification();  // the worker holds the job; it has not started it
  EXPECT_TRUE(queue.Close().empty());
  EXPECT_EQ(job->state(), JobState::kQueued);
  EXPECT_FALSE((*pool)->WaitIdle(absl::ZeroDuration()));  // the drain sees it

  (*pool)->AbortRunning(absl::UnavailableError("drain timeout"));
  listener.release.Notify();
  ASSERT_TRUE(JobWaiter::WaitTerminal(*job));
  EXPECT_TRUE((*pool)->WaitIdle(absl::Seconds(30)));
  (*pool)->Join();
  EXPECT_EQ(job->state(), JobState::kFailed);
  EXPECT_TRUE(absl::IsUnavailable(job->Snapshot().error)) << job->Snapshot().error;
}

// Records whether the request's image still has its pixels when reporting
// each stage (the fake generator's frames otherwise).
class PixelsWatchingGenerator final : public pipeline::VideoGenerator {
 public:
  const pipeline::ModelDescription& description() const override { return fake_.description(); }
  absl::Status Validate(const pipeline::GenerationRequest& r) const override { return fake_.Validate(r); }
  std::vector<pipeline::DeviceMemoryStats> DeviceMemory() const override { return fake_.DeviceMemory(); }
  absl::StatusOr<pipeline::GeneratedVideo> Generate(const pipeline::GenerationRequest& r,
                                                    pipeline::ProgressSink* progress,
                                                    const CancelToken& cancel) override {
    if (!r.image) return fake_.Generate(r, progress, cancel);  // the warm-up
    for (pipeline::Stage stage : {pipeline::Stage::kTextEncoding, pipeline::Stage::kImageEncoding,
                                  pipeline::Stage::kDenoising, pipeline::Stage::kVaeDecoding}) {
      progress->OnProgress(pipeline::ProgressUpdate{stage, 0, 1});
      pixels_at.push_back(r.image->rgb.size());
    }
    image_size = {r.image->width, r.image->height};
    pipeline::GenerationRequest without_image = r;
    without_image.image.reset();
    return fake_.Generate(without_image, nullptr, cancel);
  }
  std::vector<size_t> pixels_at;  // bytes of pixels after each stage's first update
  std::pair<int, int> image_size;

 private:
  FakeVideoGenerator fake_{FakeVideoGeneratorOptions{}};
};

TEST(WorkerPoolTest, TheImagesPixelsAreFreedOnceConditioningIsDone) {
  JobQueue queue(4);
  std::vector<Device> devices;
  auto generator = std::make_unique<PixelsWatchingGenerator>();
  PixelsWatchingGenerator* watching = generator.get();
  devices.push_back(Device{videogen::Device::Cpu(), std::move(generator)});
  auto pool = WorkerPool::Create(WorkerPoolOptions{}, std::move(devices), &queue, RawEncoder, nullptr);
  ASSERT_TRUE(pool.ok()) << pool.status();

  JobSpec spec;
  spec.model = "fake";
  spec.request.prompt = "a cat";
  spec.request.steps = 1;
  spec.request.width = 64;
  spec.request.height = 48;
  spec.request.image = pipeline::RgbImage{64, 48, std::vector<uint8_t>(64 * 48 * 3, 7)};
  auto job = std::make_shared<Job>("image", std::move(spec), absl::Now());
  ASSERT_TRUE(queue.Push(job).ok());
  ASSERT_TRUE(JobWaiter::WaitTerminal(*job));
  EXPECT_EQ(job->state(), JobState::kSucceeded) << job->Snapshot().error;
  // Held through text and image encoding, freed at the first denoising update
  // (the size stays known).
  EXPECT_EQ(watching->pixels_at, (std::vector<size_t>{64 * 48 * 3, 64 * 48 * 3, 0, 0}));
  EXPECT_EQ(watching->image_size, (std::pair<int, int>{64, 48}));
  EXPECT_TRUE(queue.Close().empty());
  (*pool)->Join();
}

}  // namespace
}  // namespace videogen::jobs
