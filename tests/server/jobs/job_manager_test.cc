#include "server/jobs/job_manager.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "absl/synchronization/notification.h"
#include "server/testing/fake_video_generator.h"
#include "server/testing/job_waiter.h"

namespace videogen::jobs {
namespace {

using ::testing::HasSubstr;
using videogen::testing::FakeVideoGenerator;
using videogen::testing::FakeVideoGeneratorOptions;
using videogen::testing::JobWaiter;

// Blocks the generating thread before denoising step `step` of the first job
// that reaches it after Arm(), until Release().
struct Gate {
  int step = 0;
  std::atomic<bool> armed{false};
  absl::Notification reached;
  absl::Notification release;
  void Arm(int at_step) {
    step = at_step;
    armed = true;
  }
  void OnStep(int s) {
    if (s == step && armed.exchange(false)) {
      reached.Notify();
      release.WaitForNotification();
    }
  }
};

absl::StatusOr<JobResult> RawEncoder(const pipeline::GeneratedVideo& v, const OutputSpec& out, const CancelToken&) {
  JobResult r;
  r.width = v.width;
  r.height = v.height;
  r.frames = v.frames;
  r.fps = out.fps.value_or(0);
  r.bytes.assign(v.rgb.begin(), v.rgb.end());
  return r;
}

class JobManagerTest : public ::testing::Test {
 protected:
  void Start(JobManagerOptions options = {}, FakeVideoGeneratorOptions fake_options = {}) {
    fake_options.before_step = [this](int s) { gate_.OnStep(s); };
    auto fake = std::make_unique<FakeVideoGenerator>(fake_options);
    fake_ = fake.get();
    std::vector<Device> devices;
    devices.push_back(Device{videogen::Device::Cpu(), std::move(fake)});
    options.on_ready = [this] { ready_.Notify(); };
    if (options.sweep_interval == absl::Seconds(1)) options.sweep_interval = absl::Milliseconds(5);
    auto manager = JobManager::Create(std::move(options), std::move(devices), RawEncoder, nullptr);
    ASSERT_TRUE(manager.ok()) << manager.status();
    manager_ = *std::move(manager);
    ready_.WaitForNotification();
  }

  JobSpec Spec(int steps = 4) {
    JobSpec spec;
    spec.model = "fake";
    spec.request.prompt = "a cat";
    spec.request.steps = steps;
    spec.request.seed = 42;
    return spec;
  }

  std::shared_ptr<Job> SubmitOk(JobSpec spec) {
    auto submitted = manager_->Submit(std::move(spec));
    EXPECT_TRUE(submitted.ok()) << submitted.status();
    return submitted.ok() ? submitted->job : nullptr;
  }

  Gate gate_;
  absl::Notification ready_;
  FakeVideoGenerator* fake_ = nullptr;
  std::unique_ptr<JobManager> manager_;
};

TEST_F(JobManagerTest, RunsAJobThroughEveryStage) {
  Start();
  EXPECT_TRUE(manager_->ready());
  EXPECT_EQ(fake_->generate_calls(), 1);  // the warm-up
  auto job = SubmitOk(Spec(4));
  ASSERT_TRUE(JobWaiter::WaitTerminal(*job));
  JobSnapshot s = job->Snapshot();
  ASSERT_EQ(s.state, JobState::kSucceeded) << s.error;
  ASSERT_NE(s.result, nullptr);
  EXPECT_EQ(s.result->bytes.size(), 9u * 48 * 64 * 3);
  EXPECT_EQ(s.result->seed, 42u);
  EXPECT_EQ(s.result->fps, 16.0);
  std::vector<pipeline::Stage> stages;
  for (const auto& p : s.stages) {
    stages.push_back(p.stage);
    EXPECT_EQ(p.step, p.total_steps) << pipeline::StageName(p.stage);
  }
  EXPECT_THAT(stages, ::testing::ElementsAre(pipeline::Stage::kTextEncoding, pipeline::Stage::kDenoising, pipeline::Stage::kVaeDecoding,
                                             pipeline::Stage::kVideoEncoding));
  EXPECT_EQ(s.result->timings.size(), 4u);
  EXPECT_EQ(fake_->generate_calls(), 2);
}

TEST_F(JobManagerTest, InvalidRequestNamesTheField) {
  Start();
  JobSpec bad = Spec();
  bad.request.num_frames = 4;
  auto s = manager_->Submit(std::move(bad));
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.status().message(), HasSubstr("num_frames"));
  JobSpec unknown = Spec();
  unknown.model = "nope";
  s = manager_->Submit(std::move(unknown));
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.status().message(), HasSubstr("model"));
}

TEST_F(JobManagerTest, CancelDuringDenoisingStopsWithinOneStep) {
  Start();
  gate_.Arm(1);
  auto job = SubmitOk(Spec(10));
  gate_.reached.WaitForNotification();
  ASSERT_TRUE(manager_->Cancel(job->id()).ok());
  gate_.release.Notify();
  ASSERT_TRUE(JobWaiter::WaitTerminal(*job));
  JobSnapshot s = job->Snapshot();
  EXPECT_EQ(s.state, JobState::kCancelled);
  EXPECT_EQ(s.error.code(), absl::StatusCode::kCancelled);
  ASSERT_FALSE(s.stages.empty());
  EXPECT_EQ(s.stages.back().stage, pipeline::Stage::kDenoising);
  EXPECT_EQ(s.stages.back().step, 2);  // the step in flight finished, no further one ran
}

TEST_F(JobManagerTest, CancelQueuedJobFailsAtOnce) {
  Start();
  gate_.Arm(0);
  auto running = SubmitOk(Spec());
  gate_.reached.WaitForNotification();
  auto queued = SubmitOk(Spec());
  EXPECT_EQ(queued->Snapshot().queue_position, 1);
  ASSERT_TRUE(manager_->Cancel(queued->id()).ok());
  EXPECT_EQ(queued->state(), JobState::kCancelled);
  gate_.release.Notify();
  ASSERT_TRUE(JobWaiter::WaitTerminal(*running));
  EXPECT_EQ(running->state(), JobState::kSucceeded);
  EXPECT_EQ(fake_->generate_calls(), 2);  // warm-up + the running job only
  EXPECT_EQ(manager_->Cancel("job-unknown").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(JobManagerTest, DeadlinePassingWhileQueuedMeansTheJobNeverStarts) {
  Start();
  gate_.Arm(0);
  auto running = SubmitOk(Spec());
  gate_.reached.WaitForNotification();
  JobSpec spec = Spec();
  spec.deadline = CancelToken::Clock::now() + std::chrono::milliseconds(20);
  auto queued = SubmitOk(std::move(spec));
  ASSERT_TRUE(JobWaiter::WaitTerminal(*queued));  // failed by the sweeper while the worker is busy
  EXPECT_EQ(queued->Snapshot().error.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_TRUE(queued->Snapshot().stages.empty());
  gate_.release.Notify();
  ASSERT_TRUE(JobWaiter::WaitTerminal(*running));
  EXPECT_EQ(fake_->generate_calls(), 2);
}

TEST_F(JobManagerTest, DeadlineStopsARunningJob) {
  FakeVideoGeneratorOptions fake;
  fake.step_time = absl::Milliseconds(2);
  Start({}, fake);
  JobSpec spec = Spec(100);
  spec.deadline = CancelToken::Clock::now() + std::chrono::milliseconds(30);
  auto job = SubmitOk(std::move(spec));
  ASSERT_TRUE(JobWaiter::WaitTerminal(*job));
  JobSnapshot s = job->Snapshot();
  EXPECT_EQ(s.state, JobState::kFailed);
  EXPECT_EQ(s.error.code(), absl::StatusCode::kDeadlineExceeded);
}

TEST_F(JobManagerTest, OutOfMemoryFailsTheJobAndTheWorkerContinues) {
  Start();
  fake_->SetFailure(absl::ResourceExhaustedError("out of memory on cpu"), 1);
  auto oom = SubmitOk(Spec());
  ASSERT_TRUE(JobWaiter::WaitTerminal(*oom));
  EXPECT_EQ(oom->Snapshot().error.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(fake_->release_calls(), 1);
  fake_->SetFailure(absl::OkStatus());
  auto next = SubmitOk(Spec());
  ASSERT_TRUE(JobWaiter::WaitTerminal(*next));
  EXPECT_EQ(next->state(), JobState::kSucceeded);
}

TEST_F(JobManagerTest, FullQueueIsResourceExhausted) {
  JobManagerOptions options;
  options.max_queue = 1;
  Start(options);
  gate_.Arm(0);
  auto running = SubmitOk(Spec());
  gate_.reached.WaitForNotification();
  auto queued = SubmitOk(Spec());
  auto rejected = manager_->Submit(Spec());
  EXPECT_EQ(rejected.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(rejected.status().message(), HasSubstr("depth 1"));
  gate_.release.Notify();
  ASSERT_TRUE(JobWaiter::WaitTerminal(*queued));
  EXPECT_EQ(queued->state(), JobState::kSucceeded);
}

TEST_F(JobManagerTest, RetryWithSameClientRequestIdAttaches) {
  Start();
  JobSpec spec = Spec();
  spec.client_request_id = "req-7";
  auto first = manager_->Submit(spec);
  ASSERT_TRUE(first.ok());
  auto retry = manager_->Submit(spec);
  ASSERT_TRUE(retry.ok());
  EXPECT_TRUE(retry->attached);
  EXPECT_EQ(retry->job, first->job);
  ASSERT_TRUE(JobWaiter::WaitTerminal(*first->job));
  auto late_retry = manager_->Submit(spec);
  ASSERT_TRUE(late_retry.ok());
  EXPECT_EQ(late_retry->job, first->job);
  EXPECT_EQ(fake_->generate_calls(), 2);  // warm-up + one run
}

TEST_F(JobManagerTest, ShutdownFailsQueuedJobsAndDrainsRunningOnes) {
  Start();
  gate_.Arm(0);
  auto running = SubmitOk(Spec());
  gate_.reached.WaitForNotification();
  auto queued = SubmitOk(Spec());
  std::thread shutdown([this] { manager_->Shutdown(absl::Seconds(30)); });
  ASSERT_TRUE(JobWaiter::WaitTerminal(*queued));
  EXPECT_EQ(queued->Snapshot().error.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(manager_->Submit(Spec()).status().code(), absl::StatusCode::kUnavailable);
  gate_.release.Notify();
  shutdown.join();
  EXPECT_EQ(running->state(), JobState::kSucceeded);
}

TEST_F(JobManagerTest, DrainTimeoutFailsRunningJobsUnavailable) {
  FakeVideoGeneratorOptions fake;
  fake.step_time = absl::Milliseconds(2);
  Start({}, fake);
  gate_.Arm(0);
  auto running = SubmitOk(Spec(100));
  gate_.reached.WaitForNotification();
  gate_.release.Notify();
  manager_->Shutdown(absl::Milliseconds(1));
  EXPECT_EQ(running->state(), JobState::kFailed);
  EXPECT_EQ(running->Snapshot().error.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(running->Snapshot().error.message()), ::testing::HasSubstr("drain timeout"));
}

TEST_F(JobManagerTest, AbortDrainEndsTheDrainAndFailsRunningJobsUnavailable) {
  FakeVideoGeneratorOptions fake;
  fake.step_time = absl::Milliseconds(2);
  Start({}, fake);
  gate_.Arm(0);
  auto running = SubmitOk(Spec(100));
  gate_.reached.WaitForNotification();
  gate_.release.Notify();
  std::thread shutdown([this] { manager_->Shutdown(absl::Hours(1)); });
  manager_->AbortDrain();
  shutdown.join();
  EXPECT_EQ(running->state(), JobState::kFailed);
  EXPECT_EQ(running->Snapshot().error.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(running->Snapshot().error.message()), ::testing::HasSubstr("drain ended early"));
  EXPECT_EQ(manager_->Submit(Spec()).status().code(), absl::StatusCode::kUnavailable);
}

TEST_F(JobManagerTest, ListIsNewestFirst) {
  Start();
  auto a = SubmitOk(Spec());
  auto b = SubmitOk(Spec());
  ASSERT_TRUE(JobWaiter::WaitTerminal(*b));
  auto list = manager_->List(10);
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(manager_->List(1).size(), 1u);
  EXPECT_TRUE(manager_->Find(a->id()).ok());
  EXPECT_EQ(manager_->Find("job-x").status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace videogen::jobs
