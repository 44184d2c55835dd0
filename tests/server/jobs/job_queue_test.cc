#include "server/jobs/job_queue.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/time/clock.h"

namespace videogen::jobs {
namespace {

using ::testing::HasSubstr;

std::shared_ptr<Job> MakeJob(const std::string& id, int priority) {
  JobSpec spec;
  spec.model = "fake";
  spec.priority = priority;
  return std::make_shared<Job>(id, std::move(spec), absl::Now());
}

TEST(JobQueueTest, PriorityThenFifo) {
  JobQueue queue(8);
  ASSERT_TRUE(queue.Push(MakeJob("a", 0)).ok());
  ASSERT_TRUE(queue.Push(MakeJob("b", 5)).ok());
  ASSERT_TRUE(queue.Push(MakeJob("c", 0)).ok());
  ASSERT_TRUE(queue.Push(MakeJob("d", 5)).ok());
  std::vector<std::string> order;
  for (int i = 0; i < 4; ++i) order.push_back(queue.Pop()->id());
  EXPECT_THAT(order, ::testing::ElementsAre("b", "d", "a", "c"));
}

TEST(JobQueueTest, CheckCapacityAnswersWhatPushWould) {
  JobQueue queue(1);
  EXPECT_TRUE(queue.CheckCapacity().ok());
  ASSERT_TRUE(queue.Push(MakeJob("a", 0)).ok());
  EXPECT_EQ(queue.CheckCapacity().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(queue.CheckCapacity().message(), queue.Push(MakeJob("b", 0)).message());
  queue.Close();
  EXPECT_EQ(queue.CheckCapacity().code(), absl::StatusCode::kUnavailable);
}

TEST(JobQueueTest, FullQueueIsResourceExhaustedWithDepth) {
  JobQueue queue(2);
  ASSERT_TRUE(queue.Push(MakeJob("a", 0)).ok());
  ASSERT_TRUE(queue.Push(MakeJob("b", 0)).ok());
  absl::Status s = queue.Push(MakeJob("c", 0));
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(s.message(), HasSubstr("depth 2 of max 2"));
}

TEST(JobQueueTest, PositionsFollowTheOrder) {
  JobQueue queue(8);
  auto a = MakeJob("a", 0);
  auto b = MakeJob("b", 1);
  ASSERT_TRUE(queue.Push(a).ok());
  EXPECT_EQ(a->Snapshot().queue_position, 1);
  ASSERT_TRUE(queue.Push(b).ok());  // higher priority overtakes a
  EXPECT_EQ(b->Snapshot().queue_position, 1);
  EXPECT_EQ(a->Snapshot().queue_position, 2);
  EXPECT_EQ(queue.Pop(), b);
  EXPECT_EQ(a->Snapshot().queue_position, 1);
}

TEST(JobQueueTest, RemoveAndClose) {
  JobQueue queue(8);
  ASSERT_TRUE(queue.Push(MakeJob("a", 0)).ok());
  ASSERT_TRUE(queue.Push(MakeJob("b", 0)).ok());
  EXPECT_TRUE(queue.Remove("a"));
  EXPECT_FALSE(queue.Remove("a"));
  EXPECT_EQ(queue.depth(), 1u);
  auto remaining = queue.Close();
  ASSERT_EQ(remaining.size(), 1u);
  EXPECT_EQ(remaining[0]->id(), "b");
  EXPECT_EQ(queue.Pop(), nullptr);
  EXPECT_EQ(queue.Push(MakeJob("c", 0)).code(), absl::StatusCode::kUnavailable);
}

TEST(JobQueueTest, RemoveExpiredTakesCancelledAndPastDeadline) {
  JobQueue queue(8);
  JobSpec late;
  late.model = "fake";
  late.deadline = CancelToken::Clock::now() - std::chrono::milliseconds(1);
  auto expired = std::make_shared<Job>("late", std::move(late), absl::Now());
  auto cancelled = MakeJob("cancelled", 0);
  cancelled->RequestCancel();
  ASSERT_TRUE(queue.Push(expired).ok());
  ASSERT_TRUE(queue.Push(cancelled).ok());
  ASSERT_TRUE(queue.Push(MakeJob("live", 0)).ok());
  EXPECT_EQ(queue.RemoveExpired().size(), 2u);
  EXPECT_EQ(queue.depth(), 1u);
}

}  // namespace
}  // namespace videogen::jobs
