#include "server/service/job_event_cursor.h"

#include <gtest/gtest.h>

namespace videogen::service {
namespace {

jobs::JobProgress Progress(pipeline::Stage stage, int step, int total, uint64_t seq) {
  jobs::JobProgress p;
  p.stage = stage;
  p.step = step;
  p.total_steps = total;
  p.seq = seq;
  return p;
}

TEST(JobEventCursorTest, AcceptedQueuedThenCoalescedProgressPerStage) {
  JobEventCursor cursor("job-1", true, 0);
  v1::JobEvent e;
  jobs::JobSnapshot s;
  s.queue_position = 2;
  ASSERT_EQ(cursor.Next(s, &e), JobEventCursor::Step::kEvent);
  EXPECT_EQ(e.accepted().job_id(), "job-1");
  EXPECT_EQ(e.accepted().queue_position(), 2u);
  EXPECT_EQ(cursor.Next(s, &e), JobEventCursor::Step::kWait);  // position unchanged
  s.queue_position = 1;
  ASSERT_EQ(cursor.Next(s, &e), JobEventCursor::Step::kEvent);
  EXPECT_EQ(e.queued().position(), 1u);

  // A slow reader: text encoding finished and denoising reached step 7 meanwhile.
  s.state = jobs::JobState::kRunning;
  s.queue_position = 0;
  s.stages = {Progress(pipeline::Stage::kTextEncoding, 1, 1, 2), Progress(pipeline::Stage::kDenoising, 7, 10, 9)};
  ASSERT_EQ(cursor.Next(s, &e), JobEventCursor::Step::kEvent);
  EXPECT_EQ(e.progress().stage(), v1::TEXT_ENCODING);
  EXPECT_EQ(e.progress().step(), 1u);
  ASSERT_EQ(cursor.Next(s, &e), JobEventCursor::Step::kEvent);
  EXPECT_EQ(e.progress().stage(), v1::DENOISING);
  EXPECT_EQ(e.progress().step(), 7u);  // steps 1..6 coalesced away
  EXPECT_EQ(cursor.Next(s, &e), JobEventCursor::Step::kWait);
}

TEST(JobEventCursorTest, ChunksAtMostTheLimitThenCompleted) {
  JobEventCursor cursor("job-1", false, 0, /*chunk_bytes=*/4);
  jobs::JobSnapshot s;
  s.state = jobs::JobState::kSucceeded;
  auto result = std::make_shared<jobs::JobResult>();
  result->bytes = "0123456789";
  result->sha256 = "abc";
  s.result = result;
  v1::JobEvent e;
  std::string data;
  while (cursor.Next(s, &e) == JobEventCursor::Step::kEvent) {
    ASSERT_TRUE(e.has_video_chunk());
    EXPECT_EQ(e.video_chunk().offset(), data.size());
    EXPECT_LE(e.video_chunk().data().size(), 4u);
    data += e.video_chunk().data();
  }
  EXPECT_TRUE(e.has_completed());
  EXPECT_EQ(e.completed().bytes(), 10u);
  EXPECT_EQ(data, "0123456789");
  EXPECT_EQ(cursor.Next(s, &e), JobEventCursor::Step::kDone);
}

TEST(JobEventCursorTest, ResumesFromOffset) {
  JobEventCursor cursor("job-1", false, 6);
  jobs::JobSnapshot s;
  s.state = jobs::JobState::kSucceeded;
  auto result = std::make_shared<jobs::JobResult>();
  result->bytes = "0123456789";
  s.result = result;
  v1::JobEvent e;
  ASSERT_EQ(cursor.Next(s, &e), JobEventCursor::Step::kEvent);
  EXPECT_EQ(e.video_chunk().offset(), 6u);
  EXPECT_EQ(e.video_chunk().data(), "6789");
}

TEST(JobEventCursorTest, OffsetBeyondTheFinishedVideoIsRefusedAfterTheProgress) {
  JobEventCursor cursor("job-1", false, uint64_t{1} << 40);
  jobs::JobSnapshot s;
  s.state = jobs::JobState::kRunning;
  s.stages = {Progress(pipeline::Stage::kDenoising, 1, 2, 1)};
  v1::JobEvent e;
  ASSERT_EQ(cursor.Next(s, &e), JobEventCursor::Step::kEvent);
  EXPECT_TRUE(e.has_progress());
  EXPECT_EQ(cursor.Next(s, &e), JobEventCursor::Step::kWait);
  s.state = jobs::JobState::kSucceeded;
  auto result = std::make_shared<jobs::JobResult>();
  result->bytes = "0123456789";
  s.result = result;
  ASSERT_EQ(cursor.Next(s, &e), JobEventCursor::Step::kRefused);
  EXPECT_EQ(cursor.refusal().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(cursor.refusal().message(), "from_offset: 1099511627776 is beyond the video's 10 bytes");
  EXPECT_EQ(cursor.Next(s, &e), JobEventCursor::Step::kDone);
}

TEST(JobEventCursorTest, OffsetAtTheEndSendsOnlyCompleted) {
  JobEventCursor cursor("job-1", false, 10);
  jobs::JobSnapshot s;
  s.state = jobs::JobState::kSucceeded;
  auto result = std::make_shared<jobs::JobResult>();
  result->bytes = "0123456789";
  s.result = result;
  v1::JobEvent e;
  ASSERT_EQ(cursor.Next(s, &e), JobEventCursor::Step::kTerminal);
  EXPECT_TRUE(e.has_completed());
}

TEST(JobEventCursorTest, FailureIsTerminal) {
  JobEventCursor cursor("job-1", false, 0);
  jobs::JobSnapshot s;
  s.state = jobs::JobState::kCancelled;
  s.error = absl::CancelledError("cancelled during denoising");
  v1::JobEvent e;
  ASSERT_EQ(cursor.Next(s, &e), JobEventCursor::Step::kTerminal);
  EXPECT_EQ(e.failed().code(), static_cast<int>(absl::StatusCode::kCancelled));
  EXPECT_EQ(e.failed().message(), "cancelled during denoising");
  EXPECT_EQ(cursor.Next(s, &e), JobEventCursor::Step::kDone);
}

}  // namespace
}  // namespace videogen::service
