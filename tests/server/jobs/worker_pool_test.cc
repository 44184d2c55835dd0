// WorkerPool: a job a worker has taken from the queue but not yet started
// counts for the drain (#15).
#include "server/jobs/worker_pool.h"

#include <gtest/gtest.h>

#include <atomic>

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

}  // namespace
}  // namespace videogen::jobs
