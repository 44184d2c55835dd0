// Job: what a job keeps (observers, input images) over its life (#15).
#include "server/jobs/job.h"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

namespace videogen::jobs {
namespace {

class CountingObserver final : public JobObserver {
 public:
  void OnJobChanged() override { ++calls; }
  int calls = 0;
};

JobSpec SpecWithImage(size_t side) {
  JobSpec spec;
  spec.model = "fake";
  pipeline::RgbImage image;
  image.width = static_cast<int>(side);
  image.height = static_cast<int>(side);
  image.rgb.assign(side * side * 3, 7);
  spec.request.image = image;
  spec.request.last_image = image;
  return spec;
}

TEST(JobTest, WatchingAFinishedJobLeavesNoObserverBehind) {
  Job job("j", JobSpec{}, absl::Now());
  job.Fail(absl::CancelledError("cancelled"), absl::Now());
  std::vector<std::shared_ptr<CountingObserver>> watchers;
  for (int i = 0; i < 1000; ++i) {
    watchers.push_back(std::make_shared<CountingObserver>());
    job.AddObserver(watchers.back());  // still alive: only the job's finished state keeps them out
  }
  EXPECT_EQ(job.observer_count(), 0u);
}

TEST(JobTest, ObserversAreDroppedOnceTheJobEndsOrTheyAreGone) {
  Job job("j", JobSpec{}, absl::Now());
  auto live = std::make_shared<CountingObserver>();
  job.AddObserver(live);
  for (int i = 0; i < 100; ++i) job.AddObserver(std::make_shared<CountingObserver>());  // destroyed at once
  EXPECT_EQ(job.observer_count(), 2u);  // the live one and the newest, dropped by the next call
  ASSERT_TRUE(job.MarkRunning(absl::Now()));
  EXPECT_EQ(job.observer_count(), 1u);
  const int before = live->calls;
  job.Succeed(JobResult{}, absl::Now());
  EXPECT_GT(live->calls, before);  // told of the end, then let go
  EXPECT_EQ(job.observer_count(), 0u);
}

TEST(JobTest, InputImagesAreHeldApartUntilTakenByTheWorker) {
  Job job("j", SpecWithImage(100), absl::Now());
  EXPECT_FALSE(job.spec().request.image.has_value());
  EXPECT_FALSE(job.spec().request.last_image.has_value());
  EXPECT_GE(job.held_bytes(), 2u * 100 * 100 * 3);
  ASSERT_TRUE(job.MarkRunning(absl::Now()));
  JobInputs inputs = job.TakeInputs();
  ASSERT_TRUE(inputs.image.has_value());
  ASSERT_TRUE(inputs.last_image.has_value());
  EXPECT_EQ(inputs.image->rgb.size(), 100u * 100 * 3);
  EXPECT_EQ(inputs.image->width, 100);
  EXPECT_LT(job.held_bytes(), 1000u);
  EXPECT_FALSE(job.TakeInputs().image.has_value());
}

TEST(JobTest, AJobThatNeverRanReleasesItsImagesWhenItEnds) {
  Job job("j", SpecWithImage(100), absl::Now());
  EXPECT_GE(job.held_bytes(), 2u * 100 * 100 * 3);
  job.Fail(absl::CancelledError("cancelled while queued"), absl::Now());
  EXPECT_LT(job.held_bytes(), 1000u);
}

}  // namespace
}  // namespace videogen::jobs
